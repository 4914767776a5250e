package eos

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// ErrNoPeriodTwo is wrapped by the error FindPeriodTwo returns when its
// damped Newton iteration did not reach a fixed point of the effective model
// with u ≠ 0.
var ErrNoPeriodTwo = errors.New("eos: no period-2 fixed point found")

// CycleResidual measures how far (θ̄, u) = (centre, u) is from a fixed point of
// the effective model and, separately, from a period-2 orbit {θ̄ + u, θ̄ − u}
// of GD with step eta. With g_± = ∇E(θ̄ ± u), V the model's vector field and
// e_± the misses of one GD step from each point of the pair,
//
//	V   = (−½(g_+ + g_−), ½(g_+ − g_−) − (2/η)u),
//	e_+ = (θ̄+u − ηg_+) − (θ̄−u) = 2u − ηg_+,
//	e_− = (θ̄−u − ηg_−) − (θ̄+u) = −2u − ηg_−,
//
// it returns
//
//	field = ‖V‖ / ((2/η)‖u‖),   gd = ‖(e_+, e_−)‖ / (2√2 ‖u‖),
//
// each the residual relative to the size of the terms that cancel at a
// solution. Since V = (e_+ + e_−, e_− − e_+)/(2η), which is (e_+, e_−) rotated
// by 45° and scaled by 1/(√2 η), the two are equal in exact arithmetic: the
// model's fixed points with u ≠ 0 are exactly GD's period-2 orbits, and the
// two numbers differ only by rounding. Both are +Inf when u = 0.
//
// CycleResidual allocates four vectors of length P. It panics if eta is not
// positive or the lengths differ from p.Dim().
func CycleResidual(p Problem, eta float64, centre, u []float64) (field, gd float64) {
	n := p.Dim()
	checkLen("centre", len(centre), n)
	checkLen("u", len(u), n)
	if !(eta > 0) {
		panic("eos: CycleResidual needs a positive step size")
	}
	xp := make([]float64, n)
	xm := make([]float64, n)
	gp := make([]float64, n)
	gm := make([]float64, n)
	floats.AddTo(xp, centre, u)
	floats.SubTo(xm, centre, u)
	p.Grad(gp, xp)
	p.Grad(gm, xm)
	k := 2 / eta
	var v2, e2 float64
	for i := range n {
		vc := -0.5 * (gp[i] + gm[i])
		vu := 0.5*(gp[i]-gm[i]) - k*u[i]
		ep := 2*u[i] - eta*gp[i]
		em := -2*u[i] - eta*gm[i]
		v2 += vc*vc + vu*vu
		e2 += ep*ep + em*em
	}
	un := floats.Norm(u, 2)
	return math.Sqrt(v2) / (k * un), math.Sqrt(e2) / (2 * math.Sqrt2 * un)
}

// PeriodTwo is a fixed point (θ̄, u) of the effective model with u ≠ 0,
// that is a period-2 orbit {θ̄ + u, θ̄ − u} of GD.
type PeriodTwo struct {
	// Centre and U are θ̄ and u.
	Centre, U []float64
	// LSym is the two-step mean loss ½[E(θ̄+u) + E(θ̄−u)]; LossLo and
	// LossHi are the smaller and the larger of E(θ̄ ± u), the two losses GD
	// alternates between on the orbit.
	LSym, LossLo, LossHi float64
	// FreeEnergy is F = L_sym − |u|²/η.
	FreeEnergy float64
	// Residual is the field residual of CycleResidual at (θ̄, u).
	Residual float64
	// Iterations is the number of damped Newton steps taken.
	Iterations int
}

// PeriodTwoSettings configures FindPeriodTwo. A nil *PeriodTwoSettings means
// all defaults.
type PeriodTwoSettings struct {
	// Tol is the field residual of CycleResidual at which the iteration
	// stops. Zero means 1e-12; it must lie in (0, 1).
	Tol float64
	// MaxIter is the largest number of damped Newton steps. Zero means 50;
	// negative values are invalid.
	MaxIter int
	// MinU is the size of u, relative to max(1, ‖θ̄‖), below which the
	// oscillation counts as collapsed: the iteration is heading for a
	// fixed point with u = 0, a critical point of E, which is not a
	// period-2 orbit. Zero means 1e-6; it must lie in [0, 1).
	MinU float64
}

// FindPeriodTwo finds a fixed point of the effective model
//
//	dθ̄/dt = −½(g_+ + g_−),   du/dt = ½(g_+ − g_−) − (2/η)u,   g_± = ∇E(θ̄ ± u),
//
// with u ≠ 0, a period-2 orbit of GD with step eta, by a damped Newton
// iteration on the vector field V started from (centre, u), for instance the centre and
// oscillation of three late GD iterates (Centre, Oscillation). The inputs
// are not modified. With H_± = ∇²E(θ̄ ± u) the Jacobian is
//
//	J = [ −½(H_+ + H_−)    −½(H_+ − H_−)        ]
//	    [  ½(H_+ − H_−)     ½(H_+ + H_−) − 2/η  ],
//
// assembled from 2P Hessian-vector products. Symmetries of the problem make
// J singular on whole manifolds of fixed points (the rotations
// W_i → Q_i W_i Q_{i−1}ᵀ of a matrix factorisation leave GD unchanged), and
// near a period-doubling it is nearly singular along the amplitude too, so
// the steps are Levenberg–Marquardt steps on the SVD J = Σ_i s_i a_i b_iᵀ,
//
//	δ = −Σ_i s_i/(s_i² + μ) (a_i·V) b_i,
//
// which tend to the minimum-norm Newton step as μ → 0 and damp the
// directions with s_i² ≪ μ instead of taking huge steps along them. μ is
// divided by 4 after a step that decreases ‖V‖ and multiplied by 4 until one
// does. Each iteration costs 2P HVPs and an SVD of a 2P×2P matrix, and each
// trial two gradients, so FindPeriodTwo is meant for problems of at most a
// few hundred parameters. The period-2 orbit need not be stable under GD:
// beyond a period-doubling it persists, unstable, and FindPeriodTwo still
// finds it from nearby.
//
// It returns an error wrapping ErrNoPeriodTwo when u collapses (see
// PeriodTwoSettings.MinU) or the iteration has not reached the tolerance
// after MaxIter steps or cannot decrease ‖V‖, and an error naming the value
// when eta or a setting is out of range. It panics if the lengths differ
// from p.Dim().
func FindPeriodTwo(p Problem, eta float64, centre, u []float64, s *PeriodTwoSettings) (*PeriodTwo, error) {
	n := p.Dim()
	checkLen("centre", len(centre), n)
	checkLen("u", len(u), n)
	if !(eta > 0) || math.IsInf(eta, 1) {
		return nil, fmt.Errorf("eos: step size eta = %v, want a value in (0, +Inf)", eta)
	}
	set, err := periodTwoSettings(s)
	if err != nil {
		return nil, err
	}

	nt := newNewtonCycle(p, eta)
	y := make([]float64, 2*n)
	copy(y[:n], centre)
	copy(y[n:], u)
	v := make([]float64, 2*n)
	trial := make([]float64, 2*n)
	vTrial := make([]float64, 2*n)
	k := 2 / eta
	vn := nt.field(v, y)
	mu := math.NaN() // set from the first Jacobian's scale
	for it := 0; ; it++ {
		un := floats.Norm(y[n:], 2)
		if !(un > set.MinU*math.Max(1, floats.Norm(y[:n], 2))) {
			return nil, fmt.Errorf("%w: the oscillation collapsed to ‖u‖ = %.3g after %d steps", ErrNoPeriodTwo, un, it)
		}
		res := vn / (k * un)
		if res <= set.Tol {
			return nt.result(y, res, it), nil
		}
		if it == set.MaxIter {
			return nil, fmt.Errorf("%w: residual %.3g after %d steps", ErrNoPeriodTwo, res, it)
		}
		s0, err := nt.factorize(y, v)
		if err != nil {
			return nil, err
		}
		if math.IsNaN(mu) {
			mu = muStart * s0 * s0
		}
		accepted := false
		for range maxDamping {
			nt.step(trial, y, mu)
			vt := nt.field(vTrial, trial)
			if vt < (1-1e-4)*vn {
				y, trial = trial, y
				v, vTrial = vTrial, v
				vn = vt
				mu = math.Max(mu/4, muFloor*s0*s0)
				accepted = true
				break
			}
			mu *= 4
		}
		if !accepted {
			return nil, fmt.Errorf("%w: the iteration stalled at residual %.3g after %d steps", ErrNoPeriodTwo, res, it)
		}
	}
}

// Damping of the Levenberg–Marquardt steps of FindPeriodTwo, relative to the
// largest squared singular value s_0² of the Jacobian: the first μ, its
// floor, which keeps directions with s_i below about 1e-7·s_0 (rounding in
// the Hessian-vector products, near-symmetries) damped, and the number of
// increases tried before giving up.
const (
	muStart    = 1e-6
	muFloor    = 1e-14
	maxDamping = 40
)

// periodTwoSettings returns s with its defaults filled in, or an error naming
// the first value out of range.
func periodTwoSettings(s *PeriodTwoSettings) (PeriodTwoSettings, error) {
	set := PeriodTwoSettings{Tol: 1e-12, MaxIter: 50, MinU: 1e-6}
	if s == nil {
		return set, nil
	}
	if s.Tol != 0 {
		if !(s.Tol > 0 && s.Tol < 1) {
			return set, fmt.Errorf("eos: PeriodTwoSettings.Tol = %v, want a value in (0, 1)", s.Tol)
		}
		set.Tol = s.Tol
	}
	if s.MaxIter < 0 {
		return set, fmt.Errorf("eos: PeriodTwoSettings.MaxIter = %d, want a non-negative value", s.MaxIter)
	}
	if s.MaxIter != 0 {
		set.MaxIter = s.MaxIter
	}
	if !(s.MinU >= 0 && s.MinU < 1) {
		return set, fmt.Errorf("eos: PeriodTwoSettings.MinU = %v, want a value in [0, 1)", s.MinU)
	}
	if s.MinU != 0 {
		set.MinU = s.MinU
	}
	return set, nil
}

// newtonCycle holds the workspaces of FindPeriodTwo.
type newtonCycle struct {
	p              Problem
	eta            float64
	n              int
	xp, xm, gp, gm []float64
	ej, hp, hm     []float64
	jac            *mat.Dense
	svd            mat.SVD
	sv             []float64     // singular values s_i
	left, right    *mat.Dense    // singular vectors a_i, b_i in columns
	coef           *mat.VecDense // a_i·V
}

func newNewtonCycle(p Problem, eta float64) *newtonCycle {
	n := p.Dim()
	return &newtonCycle{
		p: p, eta: eta, n: n,
		xp: make([]float64, n), xm: make([]float64, n),
		gp: make([]float64, n), gm: make([]float64, n),
		ej: make([]float64, n), hp: make([]float64, n), hm: make([]float64, n),
		jac:   mat.NewDense(2*n, 2*n, nil),
		sv:    make([]float64, 2*n),
		left:  mat.NewDense(2*n, 2*n, nil),
		right: mat.NewDense(2*n, 2*n, nil),
		coef:  mat.NewVecDense(2*n, nil),
	}
}

// field stores the model's vector field at y = (θ̄, u) in dst and returns its
// norm (+Inf if it is not finite).
func (nt *newtonCycle) field(dst, y []float64) float64 {
	n := nt.n
	c, u := y[:n], y[n:]
	floats.AddTo(nt.xp, c, u)
	floats.SubTo(nt.xm, c, u)
	nt.p.Grad(nt.gp, nt.xp)
	nt.p.Grad(nt.gm, nt.xm)
	k := 2 / nt.eta
	for i := range n {
		dst[i] = -0.5 * (nt.gp[i] + nt.gm[i])
		dst[n+i] = 0.5*(nt.gp[i]-nt.gm[i]) - k*u[i]
	}
	norm := floats.Norm(dst, 2)
	if math.IsNaN(norm) {
		return math.Inf(1)
	}
	return norm
}

// factorize computes the Jacobian at y and its SVD, and the coefficients
// a_i·v of the field v in its left singular vectors; it returns the largest
// singular value.
func (nt *newtonCycle) factorize(y, v []float64) (float64, error) {
	n := nt.n
	c, u := y[:n], y[n:]
	floats.AddTo(nt.xp, c, u)
	floats.SubTo(nt.xm, c, u)
	k := 2 / nt.eta
	for j := range n {
		nt.ej[j] = 1
		nt.p.HessVec(nt.hp, nt.xp, nt.ej)
		nt.p.HessVec(nt.hm, nt.xm, nt.ej)
		nt.ej[j] = 0
		for i := range n {
			sum := 0.5 * (nt.hp[i] + nt.hm[i])
			dif := 0.5 * (nt.hp[i] - nt.hm[i])
			nt.jac.Set(i, j, -sum)
			nt.jac.Set(i, n+j, -dif)
			nt.jac.Set(n+i, j, dif)
			if i == j {
				sum -= k
			}
			nt.jac.Set(n+i, n+j, sum)
		}
	}
	if !nt.svd.Factorize(nt.jac, mat.SVDThin) {
		return 0, fmt.Errorf("%w: the SVD of the Jacobian failed", ErrNoPeriodTwo)
	}
	nt.svd.Values(nt.sv)
	nt.svd.UTo(nt.left)
	nt.svd.VTo(nt.right)
	if !(nt.sv[0] > 0) || math.IsInf(nt.sv[0], 1) {
		return 0, fmt.Errorf("%w: the Jacobian is zero or not finite", ErrNoPeriodTwo)
	}
	nt.coef.MulVec(nt.left.T(), mat.NewVecDense(2*n, v))
	return nt.sv[0], nil
}

// step stores in dst the point y − δ reached by the damped step with
// damping mu from the last factorisation.
func (nt *newtonCycle) step(dst, y []float64, mu float64) {
	copy(dst, y)
	for i, s := range nt.sv {
		w := s / (s*s + mu) * nt.coef.AtVec(i)
		for j := range dst {
			dst[j] -= w * nt.right.At(j, i)
		}
	}
}

// result packages the fixed point y.
func (nt *newtonCycle) result(y []float64, res float64, it int) *PeriodTwo {
	n := nt.n
	c := append([]float64(nil), y[:n]...)
	u := append([]float64(nil), y[n:]...)
	floats.AddTo(nt.xp, c, u)
	floats.SubTo(nt.xm, c, u)
	lp, lm := nt.p.Loss(nt.xp), nt.p.Loss(nt.xm)
	lsym := 0.5 * (lp + lm)
	u2 := floats.Dot(u, u)
	return &PeriodTwo{
		Centre: c, U: u,
		LSym: lsym, LossLo: math.Min(lp, lm), LossHi: math.Max(lp, lm),
		FreeEnergy: lsym - u2/nt.eta,
		Residual:   res,
		Iterations: it,
	}
}
