package eos

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"

	"github.com/eoskit/eoskit/eos/ode"
)

// CentralFlowSettings configures NewCentralFlow. A nil *CentralFlowSettings
// means all defaults.
type CentralFlowSettings struct {
	// FlowSettings holds the integrator: Method (nil means ode.RK4, or
	// DormandPrince54 with a Controller), Substeps (zero means 4) and
	// Controller. EigEvery is not used: the central flow needs the top
	// eigenpairs at every evaluation of its vector field, so Predict always
	// reports the sharpness.
	FlowSettings

	// K is the number of top Hessian eigenpairs tracked, of which those at
	// or above the threshold (1 − Tol)·2/η take part in the complementarity
	// problem. Zero means min(2, P); it must not exceed P.
	K int
	// Tol is the relative width of the band below 2/η in which an
	// eigenvalue already counts as critical. Zero means 1e-3; it must lie
	// in [0, 1).
	Tol float64
	// Restore is the rate, per GD step of time, at which a critical
	// eigenvalue that has drifted away from 2/η is pulled back to it (see
	// CentralFlow). Zero means 0.5; it must be non-negative and finite.
	Restore float64
	// FDStep is the step h, along the unit vector v_i, of the central
	// difference that gives ∇λ_i from two Hessian-vector products. Zero
	// means 1e-4; it must be non-negative and finite.
	FDStep float64
	// Lanczos configures the eigensolver; its K is ignored in favour of K.
	// Nil means default settings.
	Lanczos *LanczosSettings
}

// CentralFlow is the central flow of Cohen, Damian, Talwalkar, Kolter and Lee
// (2024), a baseline for the effective model: an ODE for the time-averaged
// iterate θ alone, in which the covariance Σ of the oscillations is not
// evolved but chosen at each instant so that no Hessian eigenvalue rises
// above 2/η.
//
// With (λ_i, v_i) the K top eigenpairs of H(θ) and C the critical ones,
// those with λ_i ≥ (1 − Tol)·2/η, the flow is
//
//	dθ/dt = −∇E(θ) − ½ Σ_{i∈C} σ_i² ∇λ_i(θ),   ∇λ_i = D³E(θ)[v_i, v_i, ·],
//
// that is −∇E − ½∇_θ⟨H(θ), Σ⟩ with Σ = Σ_i σ_i² v_i v_iᵀ held fixed. The
// σ_i² solve the linear complementarity problem
//
//	σ_i² ≥ 0,   dλ_i/dt + γ(λ_i − 2/η) ≤ 0,   σ_i² · (dλ_i/dt + γ(λ_i − 2/η)) = 0,
//
// in which dλ_i/dt = ∇λ_i·dθ/dt is linear in σ². In the standard form
// z ≥ 0, w = Mz + q ≥ 0, zᵀw = 0, with z_i = σ_i²,
//
//	M_ij = ½ ∇λ_i·∇λ_j,   q_i = ∇λ_i·∇E − γ(λ_i − 2/η).
//
// With one critical direction, σ² = max(0, −2q/‖∇λ‖²). With γ = 0 this is
// the central flow of the paper: an eigenvalue at 2/η is kept from rising.
// The term γ(λ_i − 2/η), γ = Restore/η, is our addition for the numerics:
// the discrete integration (which overshoots 2/η in the step where the
// sharpness crosses it) and the finite-difference ∇λ_i let λ_i drift off
// 2/η, and the term pulls it back at rate γ; inside the band below 2/η it
// lets λ_i approach 2/η smoothly instead of switching σ_i² on abruptly.
// Below the band no eigenvalue is critical and the flow is gradient flow.
//
// Two critical eigenvalues both sit at 2/η, so they are nearly degenerate and
// their eigenvectors are determined by small differences. The paper poses the
// problem for a matrix Σ ⪰ 0 on the critical eigenspace; the diagonal Σ in
// the computed eigenbasis used here is the simplification of that problem to
// one basis, exact when a single eigenvalue is critical.
//
// M is positive semidefinite (a Gram matrix), and the problem is solved
// exactly by Murty's least-index principal pivoting on M plus a ridge of
// 1e-12 of its largest diagonal entry, which makes it positive definite.
//
// ∇λ_i comes from the third derivative along v_i,
//
//	∇λ_i ≈ (H(θ + h v_i) v_i − H(θ − h v_i) v_i) / (2h),
//
// with error O(h²). The eigenpairs come from a Lanczos warm-started from
// the previous evaluation, which is close since consecutive evaluations are
// a fraction of a step apart. As in the sharpness measurements of the other
// flows, a Lanczos that stops at MaxIter before its tolerance is not an
// error: its best estimates are used.
//
// Since the flow holds the top eigenvalues at 2/η, an RK4 step h = η/s has
// hλ ≤ 2/s, inside RK4's stability interval (about 2.79) for every s ≥ 1.
// The substeps serve accuracy where the sharpness crosses 2/η and the
// vector field switches from gradient flow to the constrained one: the
// crossing step overshoots 2/η by about 0.6 % with the default s = 4 on deep
// matrix factorisation, after which the restoring term brings it back.
//
// The predicted time-averaged loss is the loss plus the implicit sharpness
// penalty, E(θ) + ½⟨H, Σ⟩ = E(θ) + ½ Σ_i σ_i² λ_i. The envelope of the
// oscillation is read in the quadratic approximation along each v_i: a
// harmonic oscillation with mean square σ_i² has amplitude √2 σ_i, so its
// loss runs from E(θ) at the centre to E(θ) + σ_i² λ_i at the turning points
// (the gradient's linear term averages out over a period). Prediction
// therefore reports LossLo = E(θ) and LossHi = E(θ) + Σ_i σ_i² λ_i, which
// bracket the mean symmetrically. (A period-2 orbit of GD sits at its
// turning points at every step, so for it the envelope overstates the
// spread.) The central flow has no free energy, so FreeEnergy is NaN;
// Sharpness is λ_1 and UNorm = √(Σ_i σ_i²) = √tr Σ.
//
// Cost: one evaluation of the vector field takes one gradient, the HVPs of
// one warm-started Lanczos, and two HVPs per critical eigenpair. RK4 with
// Substeps s evaluates it 4s times per GD step of time: with the default
// s = 4, 16 gradients and 16 Lanczos calls per GD step, against one gradient
// for GD itself. Predict costs one more evaluation. Cost reports the totals.
//
// A CentralFlow is not safe for concurrent use.
type CentralFlow struct {
	flowCore

	thr   float64 // 2/η
	tol   float64
	gamma float64 // Restore/η
	h     float64
	lz    *Lanczos // the K top eigenpairs, at every evaluation
	err   error    // first eigensolver or LCP failure met during an Advance

	// Workspaces.
	g      []float64 // ∇E
	dx     []float64 // dθ/dt for Predict
	vals   []float64
	vecs   *mat.Dense
	v      []float64   // an eigenvector
	dl     [][]float64 // ∇λ_i of the critical eigenpairs
	sig2   []float64   // σ_i², zero for the eigenpairs not critical
	xs     []float64   // θ ± h v
	hp, hm []float64   // H(θ ± h v) v
	m, q   []float64
	z      []float64
	lcp    lcpSolver
}

// centralSubsteps is the default number of RK4 steps per GD step of the
// central flow, as in the prototype of MODEL.md.
const centralSubsteps = 4

// NewCentralFlow returns the central flow of p for GD with step size eta.
// A nil s means default settings. It returns an error naming the value if
// eta is not in (0, +Inf) or a setting is out of range.
func NewCentralFlow(p Problem, eta float64, s *CentralFlowSettings) (*CentralFlow, error) {
	var set CentralFlowSettings
	if s != nil {
		set = *s
	}
	n := p.Dim()
	switch {
	case set.K < 0 || set.K > n:
		return nil, fmt.Errorf("eos: central flow: CentralFlowSettings.K = %d out of range [0, %d]", set.K, n)
	case !(set.Tol >= 0 && set.Tol < 1):
		return nil, fmt.Errorf("eos: central flow: CentralFlowSettings.Tol = %g out of range [0, 1)", set.Tol)
	case !(set.Restore >= 0) || math.IsInf(set.Restore, 1):
		return nil, fmt.Errorf("eos: central flow: CentralFlowSettings.Restore = %g out of range [0, +Inf)", set.Restore)
	case !(set.FDStep >= 0) || math.IsInf(set.FDStep, 1):
		return nil, fmt.Errorf("eos: central flow: CentralFlowSettings.FDStep = %g out of range [0, +Inf)", set.FDStep)
	}
	if set.K == 0 {
		set.K = min(2, n)
	}
	if set.Tol == 0 {
		set.Tol = 1e-3
	}
	if set.Restore == 0 {
		set.Restore = 0.5
	}
	if set.FDStep == 0 {
		set.FDStep = 1e-4
	}
	var ls LanczosSettings
	if set.Lanczos != nil {
		ls = *set.Lanczos
	}
	ls.K = set.K
	lz, err := NewLanczos(p, &ls)
	if err != nil {
		return nil, fmt.Errorf("eos: central flow: %w", err)
	}
	k := set.K
	c := &CentralFlow{
		lz:   lz,
		g:    make([]float64, n),
		dx:   make([]float64, n),
		vals: make([]float64, k),
		vecs: mat.NewDense(n, k, nil),
		v:    make([]float64, n),
		dl:   make([][]float64, k),
		sig2: make([]float64, k),
		xs:   make([]float64, n),
		hp:   make([]float64, n),
		hm:   make([]float64, n),
		m:    make([]float64, k*k),
		q:    make([]float64, k),
		z:    make([]float64, k),
		lcp:  newLCPSolver(k),
	}
	for i := range c.dl {
		c.dl[i] = make([]float64, n)
	}
	// The core's own sharpness measurements would duplicate λ_1, which
	// every evaluation computes.
	fs := set.FlowSettings
	fs.EigEvery = -1
	field := func(dst []float64, _ float64, y []float64) { c.field(dst, y) }
	if err := c.init("central", p, eta, &fs, n, field, ode.RK4, centralSubsteps); err != nil {
		return nil, err
	}
	c.thr = 2 / eta
	c.tol = set.Tol
	c.gamma = set.Restore / eta
	c.h = set.FDStep
	return c, nil
}

// Name returns "central".
func (c *CentralFlow) Name() string { return "central" }

// Init starts the flow at the centre of the iterates, (θ_K + 2θ_{K+1} +
// θ_{K+2})/4, the point GD oscillates around at step K+1, and forgets the
// eigensolver's warm start.
func (c *CentralFlow) Init(x0, x1, x2 []float64) error {
	checkLen("x0", len(x0), c.n)
	Centre(c.y, x0, x1, x2)
	c.lz.Reset()
	return c.start()
}

// Advance integrates the flow over dt ≥ 0 units of time (dt = η for one GD
// step). Besides the errors of every flow (see Flow), it returns one if the
// eigensolver failed (non-finite HVPs) or the complementarity problem found
// no solution at some evaluation, which rounding alone could cause; the
// state is then advanced with the best estimates.
func (c *CentralFlow) Advance(dt float64) error {
	c.err = nil
	if err := c.flowCore.Advance(dt); err != nil {
		return err
	}
	return c.err
}

// Predict stores in dst the observables at the current state (see
// CentralFlow), at the cost of one evaluation of the vector field. It
// returns an error before Init, and with dst filled from the best estimates
// if the eigensolver or the complementarity problem failed.
func (c *CentralFlow) Predict(dst *Prediction) error {
	if err := c.checkPredict(); err != nil {
		return err
	}
	c.err = nil
	e := c.field(c.dx, c.y)
	var pen, tr float64
	for i, s := range c.sig2 {
		pen += s * c.vals[i]
		tr += s
	}
	*dst = Prediction{
		LossMean:   e + pen/2,
		LossLo:     e,
		LossHi:     e + pen,
		FreeEnergy: math.NaN(),
		Sharpness:  c.vals[0],
		UNorm:      math.Sqrt(tr),
	}
	return c.err
}

// State returns a view of the current point θ.
func (c *CentralFlow) State() []float64 { return c.y }

// Sigma2 returns a view of the σ_i² of the last evaluation, one per tracked
// eigenpair in the order of decreasing eigenvalue, zero for those not
// critical. After Predict they are those of the current state.
func (c *CentralFlow) Sigma2() []float64 { return c.sig2 }

// field stores the velocity of the flow at x in dst and returns E(x). It
// leaves the eigenvalues in vals and the σ_i² in sig2, and records a
// failure in c.err, since an ode.Func cannot return one.
func (c *CentralFlow) field(dst, x []float64) float64 {
	e := c.p.Grad(c.g, x)
	c.cost.Grads++
	hvps, err := c.lz.Top(c.vals, c.vecs, x, nil)
	c.cost.HVPs += hvps
	// ErrNotConverged leaves the best estimates, which are used.
	if err != nil && !errors.Is(err, ErrNotConverged) {
		c.fail(err)
	}

	// vals is in descending order, so the critical eigenpairs come first.
	m := 0
	for m < len(c.vals) && c.vals[m] >= (1-c.tol)*c.thr {
		mat.Col(c.v, m, c.vecs)
		c.gradEig(c.dl[m], x, c.v)
		m++
	}
	mm, q, z := c.m[:m*m], c.q[:m], c.z[:m]
	for i := range m {
		q[i] = floats.Dot(c.dl[i], c.g) - c.gamma*(c.vals[i]-c.thr)
		for j := range i + 1 {
			mij := floats.Dot(c.dl[i], c.dl[j]) / 2
			mm[i*m+j] = mij
			mm[j*m+i] = mij
		}
	}
	if err := c.lcp.solve(z, mm, q); err != nil {
		c.fail(err)
	}

	floats.ScaleTo(dst, -1, c.g)
	for i := range c.sig2 {
		c.sig2[i] = 0
	}
	for i, s := range z {
		c.sig2[i] = s
		floats.AddScaled(dst, -s/2, c.dl[i])
	}
	return e
}

// fail records err in c.err unless a failure is already recorded.
func (c *CentralFlow) fail(err error) {
	if c.err == nil {
		c.err = fmt.Errorf("eos: central flow: %w", err)
	}
}

// gradEig stores in dst the gradient D³E(x)[v, v, ·] of the eigenvalue
// λ = vᵀH(x)v of the unit eigenvector v, by the central difference of
// H(x ± h v)v along v (two HVPs). The third derivative is symmetric, so the difference
// of Hv along v is the gradient of vᵀHv; first-order eigenvector changes do
// not contribute since v is an eigenvector.
func (c *CentralFlow) gradEig(dst, x, v []float64) {
	floats.AddScaledTo(c.xs, x, c.h, v)
	c.p.HessVec(c.hp, c.xs, v)
	floats.AddScaledTo(c.xs, x, -c.h, v)
	c.p.HessVec(c.hm, c.xs, v)
	c.cost.HVPs += 2
	floats.SubTo(dst, c.hp, c.hm)
	floats.Scale(1/(2*c.h), dst)
}

// lcpSolver solves the linear complementarity problem
//
//	z ≥ 0,   w = Mz + q ≥ 0,   zᵀw = 0
//
// for a symmetric positive semidefinite M by Murty's least-index principal
// pivoting (Murty 1974): guess the set S of indices with w_i = 0, solve
// M_SS z_S = −q_S with z = 0 off S, and if some z_i < 0 on S or w_i < 0 off
// S, move the least such index across. For a positive definite M (a
// P-matrix) this reaches the unique solution in finitely many pivots. A
// ridge of 1e-12 of the largest diagonal entry makes a semidefinite M
// definite; for it w is unique anyway, which is all the flow uses (through
// Mz).
type lcpSolver struct {
	in  []bool    // membership of S
	idx []int     // the indices of S, ascending
	l   []float64 // Cholesky factor of M_SS + ridge
	rhs []float64
}

// lcpRidge is the ridge relative to the largest diagonal entry of M.
const lcpRidge = 1e-12

func newLCPSolver(k int) lcpSolver {
	return lcpSolver{
		in:  make([]bool, k),
		idx: make([]int, k),
		l:   make([]float64, k*k),
		rhs: make([]float64, k),
	}
}

// solve stores the solution in z, with m the n×n matrix M row-major and n =
// len(q) at most the size the solver was made for. It returns an error if a
// principal submatrix is singular even with the ridge (a zero ∇λ_i with
// q_i < 0: no Σ can stop that eigenvalue) or, which rounding alone could
// cause, if no solution was found within 2^n pivots.
func (s *lcpSolver) solve(z, m, q []float64) error {
	n := len(q)
	if n > len(s.in) {
		panic("eos: LCP larger than its workspace")
	}
	checkLen("z", len(z), n)
	checkLen("M", len(m), n*n)
	var dmax float64
	for i := range n {
		dmax = math.Max(dmax, m[i*n+i])
	}
	ridge := lcpRidge * dmax
	in := s.in[:n]
	for i := range in {
		in[i] = false
	}
	const eps = 0x1p-52
	maxPivots := 1 << min(n, 30)
	for range maxPivots + 1 {
		if !s.solveActive(z, m, q, in, ridge) {
			return fmt.Errorf("LCP: singular principal submatrix (largest diagonal %g)", dmax)
		}
		var zmax float64
		for _, v := range z {
			zmax = math.Max(zmax, math.Abs(v))
		}
		flip := -1
		for i := range n {
			if in[i] {
				if z[i] < -64*eps*zmax {
					flip = i
					break
				}
				continue
			}
			// w_i = (Mz)_i + q_i, with the rounding level of its terms.
			wi, scale := q[i], math.Abs(q[i])
			for j := range n {
				wi += m[i*n+j] * z[j]
				scale += math.Abs(m[i*n+j] * z[j])
			}
			if wi < -64*eps*scale {
				flip = i
				break
			}
		}
		if flip < 0 {
			for i, v := range z {
				z[i] = math.Max(v, 0)
			}
			return nil
		}
		in[flip] = !in[flip]
	}
	return fmt.Errorf("LCP: no solution after %d pivots", maxPivots)
}

// solveActive stores in z the complementary solution of the active set in:
// (M_SS + ridge·I) z_S = −q_S and z = 0 off S, by Cholesky. It reports false
// if the factorisation breaks down.
func (s *lcpSolver) solveActive(z, m, q []float64, in []bool, ridge float64) bool {
	n := len(q)
	k := 0
	for i := range n {
		z[i] = 0
		if in[i] {
			s.idx[k] = i
			k++
		}
	}
	idx, l, b := s.idx[:k], s.l[:k*k], s.rhs[:k]
	for a, i := range idx {
		for c := 0; c <= a; c++ {
			sum := m[i*n+idx[c]]
			if a == c {
				sum += ridge
			}
			for d := range c {
				sum -= l[a*k+d] * l[c*k+d]
			}
			if a == c {
				if !(sum > 0) {
					return false
				}
				l[a*k+a] = math.Sqrt(sum)
			} else {
				l[a*k+c] = sum / l[c*k+c]
			}
		}
	}
	// Forward then back substitution for L Lᵀ z_S = −q_S.
	for a, i := range idx {
		sum := -q[i]
		for d := range a {
			sum -= l[a*k+d] * b[d]
		}
		b[a] = sum / l[a*k+a]
	}
	for a := k - 1; a >= 0; a-- {
		sum := b[a]
		for d := a + 1; d < k; d++ {
			sum -= l[d*k+a] * b[d]
		}
		b[a] = sum / l[a*k+a]
	}
	for a, i := range idx {
		z[i] = b[a]
	}
	return true
}
