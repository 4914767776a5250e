package eos

import (
	"math"

	"gonum.org/v1/gonum/floats"
)

// TruncationGap measures, at (θ̄, u) = (centre, u), how far the covariance
// form of the effective model (CovarianceFlow) is from the symmetrised form
// (FreeEnergyFlow) it truncates. With g_± = ∇E(θ̄ ± u) and H = ∇²E(θ̄),
// Taylor expansion about θ̄ gives
//
//	L_sym = ½[E(θ̄+u) + E(θ̄−u)] = E + ½uᵀHu + O(|u|⁴),
//	½(g_+ + g_−) = ∇E + ½D³E[u, u, ·] + O(|u|⁴),
//	½(g_+ − g_−) = Hu + O(|u|³),
//
// odd orders cancelling by the symmetry u → −u. TruncationGap returns
//
//	loss  = |L_sym − (E + ½uᵀHu)|,
//	field = ‖V_sym(θ̄, u) − V_cov(θ̄, u)‖,
//
// the gaps in the predicted time-averaged loss and in the vector fields,
// which shrink as |u|⁴ and |u|³ when u is scaled down (until the
// finite-difference third derivative of the covariance form, with its error
// of order |u|²h², takes over). It returns an error if eta is not in
// (0, +Inf), and panics if the lengths differ from p.Dim().
func TruncationGap(p Problem, eta float64, centre, u []float64) (loss, field float64, err error) {
	n := p.Dim()
	checkLen("centre", len(centre), n)
	checkLen("u", len(u), n)
	set := &FlowSettings{EigEvery: -1}
	sym, err := NewFreeEnergyFlow(p, eta, set)
	if err != nil {
		return math.NaN(), math.NaN(), err
	}
	cov, err := NewCovarianceFlow(p, eta, set)
	if err != nil {
		return math.NaN(), math.NaN(), err
	}
	state := make([]float64, 2*n)
	copy(state[:n], centre)
	copy(state[n:], u)
	vs := make([]float64, 2*n)
	vc := make([]float64, 2*n)
	sym.VectorField(vs, state)
	cov.VectorField(vc, state)

	lsym, _ := FreeEnergy(p, eta, centre, u)
	hu := make([]float64, n)
	p.HessVec(hu, centre, u)
	second := p.Loss(centre) + 0.5*floats.Dot(u, hu)
	return math.Abs(lsym - second), floats.Distance(vs, vc, 2), nil
}
