package eos

import (
	"errors"
	"fmt"
	"math"

	"github.com/eoskit/eoskit/eos/ode"
)

// Flow is a continuous-time model of GD advanced alongside it one GD step of
// time (η) at a time. Time t = kη counts GD steps in units of η, so a flow
// started at step K and advanced by jη describes GD near step K + j.
//
// The flows of the package are FreeEnergyFlow (the symmetrised effective
// model), CovarianceFlow (its second-order truncation) and GradientFlow (the
// baseline without oscillation); the central flow implements the same
// interface. Compare runs any of them against GD.
type Flow interface {
	// Name identifies the flow: "free-energy", "covariance", "gradient" or
	// "central".
	Name() string
	// Init starts the flow at time zero from three consecutive GD iterates
	// θ_K, θ_{K+1}, θ_{K+2}. Their centre (Centre) is the iterate at step
	// K+1 with the period-2 oscillation filtered out, so time zero is step
	// K+1. Init resets the time and the cost. It returns an error if the
	// iterates are not finite and panics if their lengths are wrong.
	Init(x0, x1, x2 []float64) error
	// Advance integrates the flow over dt ≥ 0 units of time (dt = η for one
	// GD step). It returns an error if called before Init, if dt is negative
	// or not finite, or if the integration fails (a non-finite state).
	Advance(dt float64) error
	// Predict stores the predicted observables at the current time in dst.
	Predict(dst *Prediction) error
	// Cost returns the work done since Init.
	Cost() FlowCost
}

// Prediction holds what a flow predicts of GD at its current time.
type Prediction struct {
	// LossMean is the predicted time-averaged loss, to be compared with GD's
	// two-step mean (E(θ_k) + E(θ_{k+1}))/2: L_sym for the free-energy
	// model, E(θ) for gradient flow, E + ½⟨H, Σ⟩ for the covariance and
	// central flows.
	LossMean float64
	// LossLo and LossHi are the predicted envelope [min, max] of the loss
	// over the oscillation, E(θ̄ ± u); both equal LossMean for flows
	// without an oscillation.
	LossLo, LossHi float64
	// FreeEnergy is F, NaN where the flow has none.
	FreeEnergy float64
	// Sharpness is λ_max(H) at the centre, NaN when it was not measured
	// at this time (see FlowSettings.EigEvery).
	Sharpness float64
	// UNorm is the size of the oscillation, ‖u‖ = √tr Σ; 0 for gradient
	// flow.
	UNorm float64
}

// FlowCost counts the evaluations a flow made.
type FlowCost struct {
	// Grads counts gradient evaluations (Problem.Grad).
	Grads int
	// HVPs counts Hessian-vector products, those of the sharpness
	// measurements included.
	HVPs int
	// Losses counts loss evaluations (Problem.Loss), made by Predict; a loss
	// costs about a third of a gradient for a network.
	Losses int
}

// FlowSettings configures a flow's integrator and its sharpness
// measurements. A nil *FlowSettings means the defaults of the constructor.
type FlowSettings struct {
	// Method is the Runge–Kutta method. Nil means the constructor's
	// default: RK4 for every flow of this package.
	Method *ode.Tableau
	// Substeps is the number of integrator steps per GD step of time, so
	// the step is η/Substeps (the first step tried when Controller is set).
	// Zero means the constructor's default; negative values are invalid.
	Substeps int
	// Controller, if not nil, makes the steps adaptive under this PI
	// controller; Method must then have embedded weights (nil Method means
	// DormandPrince54). Nil means fixed steps.
	Controller *ode.PIController
	// EigEvery is the number of GD steps of time between sharpness
	// measurements at the centre, taken by Predict at times kη with k
	// divisible by EigEvery. Zero means every step when Dim() ≤ 1000 and
	// every 10 steps otherwise; a negative value means never.
	EigEvery int
}

// flowCore holds what the flows share: the problem, the state and its
// integrator, the clock and the sharpness measurements.
type flowCore struct {
	name   string
	p      Problem
	n      int // problem dimension P
	eta    float64
	y      []float64 // integrator state
	t      float64   // time since Init
	ready  bool      // Init has been called
	solver *ode.Solver

	eigEvery int
	lz       *Lanczos
	eig      []float64
	eigT     float64 // time of the last sharpness measurement
	eigK     int     // its step index, −1 before the first

	cost FlowCost
}

// init validates the settings common to all flows and builds the integrator
// for a state of length m with vector field f, using defMethod and defSub
// where the settings leave the integrator unset.
func (c *flowCore) init(name string, p Problem, eta float64, s *FlowSettings, m int, f ode.Func, defMethod *ode.Tableau, defSub int) error {
	var set FlowSettings
	if s != nil {
		set = *s
	}
	if !(eta > 0) || math.IsInf(eta, 1) {
		return fmt.Errorf("eos: %s flow: step size η = %g out of range (0, +Inf)", name, eta)
	}
	if set.Substeps < 0 {
		return fmt.Errorf("eos: %s flow: FlowSettings.Substeps = %d is negative", name, set.Substeps)
	}
	if set.Substeps == 0 {
		set.Substeps = defSub
	}
	if set.Method == nil && set.Controller == nil {
		set.Method = defMethod
	}
	if set.EigEvery == 0 {
		set.EigEvery = 1
		if p.Dim() > 1000 {
			set.EigEvery = 10
		}
	}
	solver, err := ode.NewSolver(f, m, &ode.Settings{
		Method:     set.Method,
		Step:       eta / float64(set.Substeps),
		Controller: set.Controller,
	})
	if err != nil {
		return fmt.Errorf("eos: %s flow: %w", name, err)
	}
	*c = flowCore{
		name:     name,
		p:        p,
		n:        p.Dim(),
		eta:      eta,
		y:        make([]float64, m),
		solver:   solver,
		eigEvery: set.EigEvery,
		eigK:     -1,
	}
	if set.EigEvery > 0 {
		c.lz, err = NewLanczos(p, nil)
		if err != nil {
			return fmt.Errorf("eos: %s flow: %w", name, err)
		}
		c.eig = make([]float64, 1)
	}
	return nil
}

// start resets the clock, the cost and the sharpness memory after the state
// was set by Init, and checks that the state is finite.
func (c *flowCore) start() error {
	c.t = 0
	c.cost = FlowCost{}
	c.eigK = -1
	c.ready = false
	if c.lz != nil {
		c.lz.Reset()
	}
	for _, v := range c.y {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("eos: %s flow: Init from non-finite iterates", c.name)
		}
	}
	c.ready = true
	return nil
}

// Advance integrates the state over dt.
func (c *flowCore) Advance(dt float64) error {
	if !c.ready {
		return fmt.Errorf("eos: %s flow: Advance before Init", c.name)
	}
	if !(dt >= 0) || math.IsInf(dt, 1) {
		return fmt.Errorf("eos: %s flow: time step dt = %g out of range [0, +Inf)", c.name, dt)
	}
	err := c.solver.Integrate(c.y, c.t, c.t+dt)
	if err != nil {
		// The solver left y at the last accepted state, at an unknown
		// time: the flow cannot continue.
		c.ready = false
		return fmt.Errorf("eos: %s flow: %w", c.name, err)
	}
	c.t += dt
	return nil
}

// Cost returns the work done since Init.
func (c *flowCore) Cost() FlowCost { return c.cost }

// sharpness returns λ_max(H(x)) when a measurement is due at the current
// time, the value measured earlier at this same time if Predict is called
// twice, and NaN otherwise. The step index is t/η rounded down, with a
// tolerance for the rounding of accumulated time.
func (c *flowCore) sharpness(x []float64) (float64, error) {
	if c.lz == nil {
		return math.NaN(), nil
	}
	if c.eigK >= 0 && c.t == c.eigT {
		return c.eig[0], nil
	}
	k := int(math.Floor(c.t/c.eta + 1e-9))
	if k%c.eigEvery != 0 || k == c.eigK {
		return math.NaN(), nil
	}
	hvps, err := c.lz.Top(c.eig, nil, x, nil)
	c.cost.HVPs += hvps
	if err != nil && !errors.Is(err, ErrNotConverged) {
		return math.NaN(), fmt.Errorf("eos: %s flow: sharpness at t = %g: %w", c.name, c.t, err)
	}
	c.eigK, c.eigT = k, c.t
	return c.eig[0], nil
}

// checkPredict reports the error Predict returns before Init.
func (c *flowCore) checkPredict() error {
	if !c.ready {
		return fmt.Errorf("eos: %s flow: Predict before Init or after a failed Advance", c.name)
	}
	return nil
}

// GradientFlow is the baseline without oscillation,
//
//	dθ/dt = −∇E(θ),
//
// which GD follows while ηS(θ) < 2 and leaves at the Edge of Stability:
// under gradient flow the sharpness keeps rising past 2/η. It is the
// free-energy model with u = 0, so its free energy is E(θ) itself, which
// never rises.
//
// Its stiffness is the sharpness S: RK4 with step h is stable for hS below
// about 2.79, so the default of 4 steps of η/4 per GD step stays stable up to
// S ≈ 11/η, more than five times the Edge of Stability. Past that, set more
// Substeps or a Controller.
type GradientFlow struct {
	flowCore
}

// gradientSubsteps is the default number of RK4 steps per GD step of
// gradient flow (see GradientFlow).
const gradientSubsteps = 4

// NewGradientFlow returns the gradient flow of p for GD with step size eta.
// A nil s means default settings: RK4 with 4 steps per GD step of time. It
// returns an error if eta is not in (0, +Inf) or a setting is out of range.
func NewGradientFlow(p Problem, eta float64, s *FlowSettings) (*GradientFlow, error) {
	f := &GradientFlow{}
	if err := f.init("gradient", p, eta, s, p.Dim(), f.field, ode.RK4, gradientSubsteps); err != nil {
		return nil, err
	}
	return f, nil
}

// Name returns "gradient".
func (f *GradientFlow) Name() string { return "gradient" }

// Init starts the flow at the centre of the iterates, (θ_K + 2θ_{K+1} +
// θ_{K+2})/4, the point GD oscillates around at step K+1.
func (f *GradientFlow) Init(x0, x1, x2 []float64) error {
	checkLen("x0", len(x0), f.n)
	Centre(f.y, x0, x1, x2)
	return f.start()
}

// field stores −∇E(θ) in dst.
func (f *GradientFlow) field(dst []float64, _ float64, y []float64) {
	f.p.Grad(dst, y)
	f.cost.Grads++
	for i := range dst {
		dst[i] = -dst[i]
	}
}

// State returns a view of the current point θ.
func (f *GradientFlow) State() []float64 { return f.y }

// Predict stores E(θ) as the loss, the envelope and the free energy, and u =
// 0.
func (f *GradientFlow) Predict(dst *Prediction) error {
	if err := f.checkPredict(); err != nil {
		return err
	}
	e := f.p.Loss(f.y)
	f.cost.Losses++
	s, err := f.sharpness(f.y)
	if err != nil {
		return err
	}
	*dst = Prediction{LossMean: e, LossLo: e, LossHi: e, FreeEnergy: e, Sharpness: s}
	return nil
}
