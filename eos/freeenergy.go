package eos

import (
	"math"

	"github.com/eoskit/eoskit/eos/ode"
	"gonum.org/v1/gonum/floats"
)

// FreeEnergyFlow is the effective model of GD at the Edge of Stability in
// symmetrised form: a slow centre θ̄ and a period-2 oscillation u.
//
// Derivation. Write the iterates as θ_k = θ̄ + s u with s = (−1)^k and let
// g_± = ∇E(θ̄ ± u). One GD step maps θ̄ + su to θ̄ + su − η g_s, and two
// steps move the centre by −η(g_+ + g_−) to first order, a time 2η: the
// centre's velocity is the two-step average −½(g_+ + g_−). Over one step the
// deviation from the moving centre goes from su to
//
//	su − η g_s + (η/2)(g_+ + g_−) = −s[−u + (η/2)(g_+ − g_−)] ≡ −s u',
//
// so u' − u = −2u + (η/2)(g_+ − g_−) per time η. Treating θ̄ and u as slowly
// varying (t = kη) gives
//
//	dθ̄/dt = −∇_θ̄ L_sym = −½(g_+ + g_−),
//	du/dt =  ∇_u L_sym − (2/η) u = ½(g_+ − g_−) − (2/η) u,
//	L_sym(θ̄, u) = ½[E(θ̄+u) + E(θ̄−u)],
//
// two gradients per evaluation. With the free energy
//
//	F(θ̄, u) = L_sym(θ̄, u) − |u|²/η,
//
// the centre descends F and the oscillation ascends it: dθ̄/dt = −∇_θ̄F and
// du/dt = +∇_uF, hence
//
//	dF/dt = −|∇_θ̄ F|² + |∇_u F|².
//
// F is therefore not a Lyapunov function in general: it falls once u has
// relaxed to its quasi-static value (∇_u F ≈ 0, a maximum of F over u when
// H − 2/η < 0 across u) and can rise while u is out of equilibrium, in spikes
// and at onset. Along an eigendirection of H with eigenvalue λ the linearised
// oscillation obeys du/dt = (λ − 2/η)u, matching GD's factor |1 − ηλ| per step
// to first order in ηλ − 2, so Σ = uuᵀ grows at rate 2(λ − 2/η).
//
// Fixed points with u ≠ 0 are exactly the period-2 orbits of GD: the vector
// field vanishes iff g_+ = −g_− = 2u/η, i.e. θ̄+u − ηg_+ = θ̄−u and
// θ̄−u − ηg_− = θ̄+u. With u = 0 the model is gradient flow. The predicted
// time-averaged loss is L_sym, equal to GD's two-step mean on a period-2
// orbit, and the envelope is [min, max] E(θ̄ ± u).
//
// One explicit Euler step of size η maps (θ̄, u) to the centre and half
// difference of the two GD steps from θ̄ − u and θ̄ + u, with u's sign
// flipped: the model is the continuous-time limit of GD run from the two
// points of the oscillation at once, and an integrator step as large as η
// reproduces GD rather than the model. The u-equation is stiff with rate up
// to 2/η (directions where H ≈ 0 shed their oscillation within a step), as
// is the θ̄-equation along directions where H ≈ 2/η.
type FreeEnergyFlow struct {
	flowCore
	xp, xm, gp, gm []float64 // θ̄ ± u and the gradients there
}

// freeEnergySubsteps is the default number of RK4 steps per GD step of the
// free-energy and covariance flows.
const freeEnergySubsteps = 1

// NewFreeEnergyFlow returns the symmetrised effective model of GD with step
// size eta on p; its state (θ̄, u) has length 2P. It returns an error if eta
// is not in (0, +Inf) or a setting is out of range.
//
// A nil s means default settings: RK4 with one step of η per GD step of
// time, 8 gradients per GD step. RK4's real stability interval is
// [−2.79, 0] and the model's rates are −λ (centre) and λ − 2/η
// (oscillation) for the eigenvalues λ of the Hessians involved, so the
// default is stable while −0.79 ≤ ηλ ≤ 2.79, a margin around the Edge of
// Stability's ηλ ≈ 2. On an MNIST MLP at the Edge of Stability its
// predictions agree with four RK4 steps per η to 7e-7 relative. The explicit
// midpoint method with one step per η (4 gradients) was within 0.15 % of
// that there, but its stability interval [−2, 0] ends exactly at the Edge of
// Stability, which the sharpness overshoots (ηS reached 2.3 at GD's iterates
// in a spike of that run); and explicit Euler with step η is GD itself (see
// FreeEnergyFlow), not the model.
func NewFreeEnergyFlow(p Problem, eta float64, s *FlowSettings) (*FreeEnergyFlow, error) {
	n := p.Dim()
	f := &FreeEnergyFlow{
		xp: make([]float64, n),
		xm: make([]float64, n),
		gp: make([]float64, n),
		gm: make([]float64, n),
	}
	if err := f.init("free-energy", p, eta, s, 2*n, f.field, ode.RK4, freeEnergySubsteps); err != nil {
		return nil, err
	}
	return f, nil
}

// Name returns "free-energy".
func (f *FreeEnergyFlow) Name() string { return "free-energy" }

// Init starts the model from three consecutive GD iterates θ_K, θ_{K+1},
// θ_{K+2}:
//
//	θ̄ = (θ_K + 2θ_{K+1} + θ_{K+2})/4,   u = (θ_K − 2θ_{K+1} + θ_{K+2})/4,
//
// exact on a period-2 orbit and correct to first order in a slow drift, both
// at step K+1 (time zero). The sign of u is immaterial: the model is
// invariant under u → −u.
func (f *FreeEnergyFlow) Init(x0, x1, x2 []float64) error {
	n := f.n
	checkLen("x0", len(x0), n)
	Centre(f.y[:n], x0, x1, x2)
	Oscillation(f.y[n:], x0, x1, x2)
	return f.start()
}

// State returns views of the current centre θ̄ and oscillation u. They may
// be modified to restart the model from another state at the current time.
func (f *FreeEnergyFlow) State() (centre, u []float64) {
	return f.y[:f.n], f.y[f.n:]
}

// VectorField stores in dst the time derivative of state = (θ̄, u),
//
//	dst = (−½(g_+ + g_−), ½(g_+ − g_−) − (2/η)u),   g_± = ∇E(θ̄ ± u),
//
// using two gradients, counted in Cost. It panics if dst or state does not
// have length 2P.
func (f *FreeEnergyFlow) VectorField(dst, state []float64) {
	checkLen("dst", len(dst), 2*f.n)
	checkLen("state", len(state), 2*f.n)
	f.field(dst, 0, state)
}

// field is the ode.Func of the model.
func (f *FreeEnergyFlow) field(dst []float64, _ float64, y []float64) {
	n := f.n
	c, u := y[:n], y[n:]
	floats.AddTo(f.xp, c, u)
	floats.SubTo(f.xm, c, u)
	f.p.Grad(f.gp, f.xp)
	f.p.Grad(f.gm, f.xm)
	f.cost.Grads += 2
	k := 2 / f.eta
	dc, du := dst[:n], dst[n:]
	for i := range n {
		dc[i] = -0.5 * (f.gp[i] + f.gm[i])
		du[i] = 0.5*(f.gp[i]-f.gm[i]) - k*u[i]
	}
}

// Predict stores L_sym, the envelope [min, max] E(θ̄ ± u), F, ‖u‖ and, when
// due, the sharpness at θ̄. It evaluates two losses.
func (f *FreeEnergyFlow) Predict(dst *Prediction) error {
	if err := f.checkPredict(); err != nil {
		return err
	}
	c, u := f.State()
	floats.AddTo(f.xp, c, u)
	floats.SubTo(f.xm, c, u)
	ep, em := f.p.Loss(f.xp), f.p.Loss(f.xm)
	f.cost.Losses += 2
	s, err := f.sharpness(c)
	if err != nil {
		return err
	}
	lsym := (ep + em) / 2
	uu := floats.Dot(u, u)
	*dst = Prediction{
		LossMean:   lsym,
		LossLo:     math.Min(ep, em),
		LossHi:     math.Max(ep, em),
		FreeEnergy: lsym - uu/f.eta,
		Sharpness:  s,
		UNorm:      math.Sqrt(uu),
	}
	return nil
}

// FreeEnergy returns the symmetrised loss and the free energy of the
// effective model at (θ̄, u) = (centre, u),
//
//	L_sym = ½[E(θ̄+u) + E(θ̄−u)],   F = L_sym − |u|²/η,
//
// using two loss evaluations. Applied to the centre and oscillation of GD
// iterates (Centre, Oscillation) it gives GD's free energy. It allocates one
// vector of length P. It panics if the lengths differ from p.Dim().
func FreeEnergy(p Problem, eta float64, centre, u []float64) (lsym, f float64) {
	return freeEnergy(p, eta, centre, u, make([]float64, p.Dim()))
}

// freeEnergy is FreeEnergy with a workspace of length P.
func freeEnergy(p Problem, eta float64, centre, u, work []float64) (lsym, f float64) {
	n := p.Dim()
	checkLen("centre", len(centre), n)
	checkLen("u", len(u), n)
	floats.AddTo(work, centre, u)
	ep := p.Loss(work)
	floats.SubTo(work, centre, u)
	em := p.Loss(work)
	lsym = (ep + em) / 2
	return lsym, lsym - floats.Dot(u, u)/eta
}
