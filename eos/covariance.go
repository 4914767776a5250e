package eos

import (
	"math"

	"github.com/eoskit/eoskit/eos/ode"
	"gonum.org/v1/gonum/floats"
)

// CovarianceFlow is the effective model in covariance form, the second-order
// truncation of FreeEnergyFlow in the oscillation, with a rank-one
// covariance Σ = uuᵀ:
//
//	F(θ, Σ) = E(θ) + ½⟨H(θ) − (2/η)I, Σ⟩,
//	dθ/dt   = −∇E(θ) − ½∇_θ⟨H(θ), Σ⟩ = −∇E(θ) − ½ D³E(θ)[u, u, ·],
//	du/dt   = (H(θ) − 2/η) u,
//
// so that dΣ/dt = (H − 2/η)Σ + Σ(H − 2/η). The predicted time-averaged loss
// is E + ½⟨H, Σ⟩ = E + ½uᵀHu.
//
// Why it is the second-order truncation: Taylor expansion of g_± = ∇E(θ ± u)
// gives
//
//	½(g_+ + g_−) = ∇E + ½D³E[u, u, ·] + O(|u|⁴),
//	½(g_+ − g_−) = Hu + O(|u|³),
//	L_sym        = E + ½uᵀHu + O(|u|⁴),
//
// so the fields and free energy of the symmetrised model agree with these to
// the order shown; the covariance form drops the quartic and higher terms of
// F, which is what lets it be written with Σ alone.
//
// The third-derivative term is a second difference of gradients along the
// unit direction w = u/|u|,
//
//	D³E[u, u, ·] = |u|² D³E[w, w, ·]
//	             ≈ |u|² (∇E(θ+hw) + ∇E(θ−hw) − 2∇E(θ)) / h²,
//
// with truncation error (h²/12) D⁵E[w, w, w, w, ·] and rounding error about
// 4ε‖∇E‖/h². The step h = thirdDerivStep balances them for problems of unit
// scale; its accuracy is tested against an analytic third derivative and
// against differences of Hessian-vector products. Hu is an exact HVP. One
// evaluation of the field costs three gradients and one HVP.
type CovarianceFlow struct {
	flowCore
	g0, gp, gm, xt, hu []float64
}

// thirdDerivStep is the step h of the second difference of gradients that
// gives the third-derivative term of CovarianceFlow.
const thirdDerivStep = 1e-3

// NewCovarianceFlow returns the covariance form of the effective model of GD
// with step size eta on p; its state (θ, u) has length 2P. A nil s means
// default settings: RK4 with one step of η per GD step of time, as for
// FreeEnergyFlow (the two share their stiffness). It returns an error if eta
// is not in (0, +Inf) or a setting is out of range.
func NewCovarianceFlow(p Problem, eta float64, s *FlowSettings) (*CovarianceFlow, error) {
	n := p.Dim()
	f := &CovarianceFlow{
		g0: make([]float64, n),
		gp: make([]float64, n),
		gm: make([]float64, n),
		xt: make([]float64, n),
		hu: make([]float64, n),
	}
	if err := f.init("covariance", p, eta, s, 2*n, f.field, ode.RK4, freeEnergySubsteps); err != nil {
		return nil, err
	}
	return f, nil
}

// Name returns "covariance".
func (f *CovarianceFlow) Name() string { return "covariance" }

// Init starts the model from three consecutive GD iterates, with θ their
// centre and u their oscillation as in FreeEnergyFlow.Init.
func (f *CovarianceFlow) Init(x0, x1, x2 []float64) error {
	n := f.n
	checkLen("x0", len(x0), n)
	Centre(f.y[:n], x0, x1, x2)
	Oscillation(f.y[n:], x0, x1, x2)
	return f.start()
}

// State returns views of the current centre θ and oscillation u (Σ = uuᵀ).
func (f *CovarianceFlow) State() (centre, u []float64) {
	return f.y[:f.n], f.y[f.n:]
}

// VectorField stores in dst the time derivative of state = (θ, u), using
// three gradients and one HVP (one gradient when u = 0), counted in Cost. It
// panics if dst or state does not have length 2P.
func (f *CovarianceFlow) VectorField(dst, state []float64) {
	checkLen("dst", len(dst), 2*f.n)
	checkLen("state", len(state), 2*f.n)
	f.field(dst, 0, state)
}

// ThirdDeriv stores in dst the third-derivative term D³E(θ)[u, u, ·] =
// ∇_θ⟨H(θ), uuᵀ⟩ by the second difference of gradients described on
// CovarianceFlow, using three gradients (none when u = 0). It panics if the
// lengths differ from P.
func (f *CovarianceFlow) ThirdDeriv(dst, theta, u []float64) {
	checkLen("dst", len(dst), f.n)
	checkLen("theta", len(theta), f.n)
	checkLen("u", len(u), f.n)
	f.p.Grad(f.g0, theta)
	f.cost.Grads++
	f.thirdDeriv(dst, theta, u)
}

// thirdDeriv is ThirdDeriv with ∇E(θ) already in f.g0.
func (f *CovarianceFlow) thirdDeriv(dst, theta, u []float64) {
	r := floats.Norm(u, 2)
	if r == 0 {
		clear(dst)
		return
	}
	const h = thirdDerivStep
	floats.AddScaledTo(f.xt, theta, h/r, u)
	f.p.Grad(f.gp, f.xt)
	floats.AddScaledTo(f.xt, theta, -h/r, u)
	f.p.Grad(f.gm, f.xt)
	f.cost.Grads += 2
	s := r * r / (h * h)
	for i := range dst {
		dst[i] = s * (f.gp[i] + f.gm[i] - 2*f.g0[i])
	}
}

// field is the ode.Func of the model.
func (f *CovarianceFlow) field(dst []float64, _ float64, y []float64) {
	n := f.n
	th, u := y[:n], y[n:]
	dth, du := dst[:n], dst[n:]
	f.p.Grad(f.g0, th)
	f.cost.Grads++
	f.thirdDeriv(dth, th, u)
	for i := range dth {
		dth[i] = -f.g0[i] - 0.5*dth[i]
	}
	f.p.HessVec(f.hu, th, u)
	f.cost.HVPs++
	k := 2 / f.eta
	for i := range du {
		du[i] = f.hu[i] - k*u[i]
	}
}

// Predict stores E + ½uᵀHu as the time-averaged loss, the envelope [min, max]
// E(θ ± u), F = E + ½uᵀHu − |u|²/η, ‖u‖ and, when due, the sharpness at θ. It
// evaluates three losses and one HVP.
func (f *CovarianceFlow) Predict(dst *Prediction) error {
	if err := f.checkPredict(); err != nil {
		return err
	}
	th, u := f.State()
	e := f.p.Loss(th)
	floats.AddTo(f.xt, th, u)
	ep := f.p.Loss(f.xt)
	floats.SubTo(f.xt, th, u)
	em := f.p.Loss(f.xt)
	f.cost.Losses += 3
	f.p.HessVec(f.hu, th, u)
	f.cost.HVPs++
	s, err := f.sharpness(th)
	if err != nil {
		return err
	}
	uu := floats.Dot(u, u)
	mean := e + 0.5*floats.Dot(u, f.hu)
	*dst = Prediction{
		LossMean:   mean,
		LossLo:     math.Min(ep, em),
		LossHi:     math.Max(ep, em),
		FreeEnergy: mean - uu/f.eta,
		Sharpness:  s,
		UNorm:      math.Sqrt(uu),
	}
	return nil
}
