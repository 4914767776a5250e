package ode

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"
)

// Func is the right-hand side of the system y' = f(t, y). It stores dy/dt at
// (t, y) in dst. It must not modify y and must not retain dst or y after it
// returns: both are solver workspaces.
type Func func(dst []float64, t float64, y []float64)

// Errors reported while integrating. They are wrapped with the time at which
// they occurred; test for them with errors.Is.
var (
	// ErrStepUnderflow means the adaptive step size fell below the
	// resolution of the time variable, typically near a blow-up or a
	// discontinuity the error control cannot resolve.
	ErrStepUnderflow = errors.New("ode: step size underflow")
	// ErrMaxSteps means the step budget Settings.MaxSteps was exhausted.
	ErrMaxSteps = errors.New("ode: too many steps")
	// ErrNonFinite means the state contains NaN or ±Inf.
	ErrNonFinite = errors.New("ode: non-finite state")
)

// Settings configures Solve and NewSolver. A nil *Settings means fixed RK4
// steps, (t1−t0)/100 each in Solve and 100 steps per Integrate call.
type Settings struct {
	// Method is the Runge–Kutta method. Nil means DormandPrince54 when
	// Controller is set and RK4 otherwise. Adaptive stepping needs a method
	// with embedded weights BHat. NewSolver keeps the pointer: the tableau
	// must not change while a Solver uses it.
	Method *Tableau
	// Step is the fixed step size, or the first step tried when Controller
	// is set. Fixed steps do not exceed Step (up to rounding): an interval of length Δ is
	// covered by ceil(Δ/Step) equal steps, so that save times and interval
	// ends are reached exactly. Zero means (t1−t0)/100 in Solve and 100
	// equal steps per Integrate call for fixed steps, and an automatic
	// estimate (Hairer, Nørsett and Wanner, Solving ODEs I, §II.4) for
	// adaptive steps. Negative values are invalid.
	Step float64
	// Controller adapts the step size; nil means fixed steps.
	Controller *PIController
	// SaveAt lists the times, strictly increasing within [t0, t1], at which
	// Solve saves the state. Steps are shortened to land on each of them
	// exactly; nothing is interpolated. Nil or empty means t1 alone. Only
	// Solve reads it.
	SaveAt []float64
	// MaxSteps bounds the number of attempted steps of one Solve or one
	// Integrate call; with fixed steps the count is known in advance and an
	// interval that would exceed it fails before any step. Zero means 1e6;
	// negative values are invalid.
	MaxSteps int
	// Observer, if not nil, is called by Solve at each save time with the
	// state there, in increasing time order. It must not modify or retain
	// y. A non-nil error aborts the integration and is returned wrapped.
	// Only Solve reads it.
	Observer func(t float64, y []float64) error
}

// Stats counts the work done by a Solver.
type Stats struct {
	// Steps is the number of attempted steps, Accepted + Rejected.
	Steps int
	// Accepted and Rejected count the steps kept and discarded by the
	// controller; Rejected is zero for fixed steps.
	Accepted, Rejected int
	// Evals is the number of calls of the Func.
	Evals int
}

// Solver advances a system y' = f(t, y) of fixed dimension. It holds the
// stage buffers and the step-size controller's memory, so repeated calls of
// Integrate do not allocate. A Solver is not safe for concurrent use.
type Solver struct {
	f        Func
	m        *Tableau
	n        int
	step     float64
	maxSteps int

	adaptive bool
	ctrl     PIController
	q        float64   // exponent of the local error estimate
	d        []float64 // B − BHat

	k          [][]float64 // stage derivatives
	ytmp, ynew []float64
	e          []float64 // local error estimate

	// k0Valid records that k[0] holds f(t, y) at the current state, which
	// a rejected step and an FSAL method's last stage leave behind.
	k0Valid bool
	// h is the next adaptive step to try (zero before the first), errPrev
	// the previous accepted scaled error and rejected whether the last
	// attempt was rejected: the controller's memory, kept across calls so
	// that a caller advancing in small chunks keeps its step size.
	h        float64
	errPrev  float64
	rejected bool

	runSteps int // attempted steps of the current Integrate or Solve
	stats    Stats
}

// NewSolver returns a Solver for an n-dimensional system. It returns an error
// if n < 1 or the settings are invalid; SaveAt and Observer are ignored.
func NewSolver(f Func, n int, s *Settings) (*Solver, error) {
	if f == nil {
		return nil, errors.New("ode: nil Func")
	}
	if n < 1 {
		return nil, fmt.Errorf("ode: dimension n = %d, want n ≥ 1", n)
	}
	var set Settings
	if s != nil {
		set = *s
	}
	if set.Step < 0 || math.IsNaN(set.Step) || math.IsInf(set.Step, 0) {
		return nil, fmt.Errorf("ode: Settings.Step = %g, want a finite value ≥ 0 (zero for the default)", set.Step)
	}
	if set.MaxSteps < 0 {
		return nil, fmt.Errorf("ode: Settings.MaxSteps = %d, want ≥ 0 (zero for the default)", set.MaxSteps)
	}
	if set.MaxSteps == 0 {
		set.MaxSteps = 1e6
	}
	m := set.Method
	if m == nil {
		m = RK4
		if set.Controller != nil {
			m = DormandPrince54
		}
	}
	if err := m.check(); err != nil {
		return nil, err
	}
	sv := &Solver{
		f:        f,
		m:        m,
		n:        n,
		step:     set.Step,
		maxSteps: set.MaxSteps,
		ytmp:     make([]float64, n),
		ynew:     make([]float64, n),
		k:        make([][]float64, len(m.B)),
		errPrev:  1,
	}
	for i := range sv.k {
		sv.k[i] = make([]float64, n)
	}
	if set.Controller != nil {
		if m.BHat == nil {
			return nil, fmt.Errorf("ode: method %q has no embedded weights BHat; adaptive steps need them", m.Name)
		}
		q := min(m.Order, m.EmbeddedOrder) + 1
		ctrl, err := set.Controller.resolved(q)
		if err != nil {
			return nil, err
		}
		sv.adaptive = true
		sv.ctrl = ctrl
		sv.q = float64(q)
		sv.h = set.Step
		sv.e = make([]float64, n)
		sv.d = make([]float64, len(m.B))
		for i := range sv.d {
			sv.d[i] = m.B[i] - m.BHat[i]
		}
	}
	return sv, nil
}

// Stats returns the work done since the Solver was created.
func (s *Solver) Stats() Stats { return s.stats }

// Integrate advances y in place from t0 to t1 ≥ t0, taking as many steps as
// Settings.Step or the controller dictate and ending exactly at t1. It does
// not allocate unless it returns an error. On error y holds the last accepted
// state. The derivative at (t0, y) is always re-evaluated, since the caller may
// have changed y or f between calls.
func (s *Solver) Integrate(y []float64, t0, t1 float64) error {
	if len(y) != s.n {
		panic("ode: y has wrong length")
	}
	if err := checkInterval(t0, t1); err != nil {
		return err
	}
	if !allFinite(y) {
		return fmt.Errorf("%w at t = %g", ErrNonFinite, t0)
	}
	s.runSteps = 0
	s.k0Valid = false
	return s.advance(y, t0, t1)
}

// checkInterval returns an error unless t0 ≤ t1 are finite.
func checkInterval(t0, t1 float64) error {
	if math.IsNaN(t0) || math.IsInf(t0, 0) || math.IsNaN(t1) || math.IsInf(t1, 0) {
		return fmt.Errorf("ode: interval [%g, %g] is not finite", t0, t1)
	}
	if t1 < t0 {
		return fmt.Errorf("ode: t1 = %g < t0 = %g, want t1 ≥ t0 (forward integration only)", t1, t0)
	}
	return nil
}

// advance integrates y from t0 to t1 continuing the current run: the step
// budget and a valid k[0] carry over, which lets Solve stop at save times
// without paying for the first stage again.
func (s *Solver) advance(y []float64, t0, t1 float64) error {
	if t1 == t0 {
		return nil
	}
	if s.adaptive {
		return s.advanceAdaptive(y, t0, t1)
	}
	span := t1 - t0
	steps := 100.0
	if s.step != 0 {
		// Shave a few ulps off the ratio so that an interval that is an
		// exact multiple of Step in decimal (0.3/0.1) is not given an
		// extra step by rounding.
		steps = math.Max(1, math.Ceil(span/s.step*(1-1e-12)))
	}
	if left := s.maxSteps - s.runSteps; steps > float64(left) {
		// Known in advance for fixed steps: fail before doing the work.
		return fmt.Errorf("%w: %g steps of %g needed from t = %g, MaxSteps = %d leaves %d", ErrMaxSteps, steps, span/steps, t0, s.maxSteps, left)
	}
	n := int(steps)
	// Node times are computed from t0, not accumulated, so the last one is
	// t1 exactly.
	t := t0
	for i := 1; i <= n; i++ {
		tn := t1
		if i < n {
			tn = t0 + span*float64(i)/steps
		}
		s.attempt(y, t, tn-t)
		s.runSteps++
		s.stats.Steps++
		if err := s.accept(y, tn); err != nil {
			return err
		}
		t = tn
	}
	return nil
}

// advanceAdaptive integrates y from t0 < t1 under the PI controller.
func (s *Solver) advanceAdaptive(y []float64, t0, t1 float64) error {
	c := &s.ctrl
	if s.h == 0 {
		s.h = s.initialStep(y, t0, t1)
	}
	t := t0
	for t < t1 {
		if s.runSteps >= s.maxSteps {
			return fmt.Errorf("%w: MaxSteps = %d reached at t = %g", ErrMaxSteps, s.maxSteps, t)
		}
		// Only the controller's own proposals are tested for underflow:
		// a step clipped to reach t1 may legitimately be tiny.
		if h := s.h; h <= 16*eps*math.Max(math.Abs(t), math.Abs(t1)) {
			// Forget the collapsed step so that a later call, from
			// another state, starts with a fresh estimate.
			s.h, s.errPrev, s.rejected = 0, 1, false
			return fmt.Errorf("%w at t = %g (h = %g)", ErrStepUnderflow, t, h)
		}
		h := s.h
		last := t+h >= t1
		if last {
			h = t1 - t
		}
		s.attempt(y, t, h)
		s.runSteps++
		s.stats.Steps++
		err := s.errorNorm(y, h)

		if !(err <= 1) { // also rejects a NaN estimate
			fac := c.MinFactor
			if err < math.Inf(1) {
				fac = math.Max(c.MinFactor, math.Min(1, c.Safety*math.Pow(err, -1/s.q)))
			}
			s.h = h * fac
			s.rejected = true
			s.stats.Rejected++
			continue
		}

		fac := c.MaxFactor
		if err > 0 {
			fac = c.Safety * math.Pow(err, -c.Beta1) * math.Pow(s.errPrev, c.Beta2)
			fac = math.Max(c.MinFactor, math.Min(c.MaxFactor, fac))
		}
		if s.rejected {
			// Growing right after a rejection invites another one.
			fac = math.Min(fac, 1)
		}
		next := h * fac
		if last && h < s.h && fac >= 1 {
			// A step shortened to hit t1 says little about how large the
			// next one may be: keep the unclipped proposal.
			next = math.Max(next, s.h)
		}
		s.errPrev = math.Max(err, 1e-4)
		s.rejected = false
		tn := t + h
		if last {
			tn = t1
		}
		if err := s.accept(y, tn); err != nil {
			return err
		}
		s.h = next
		t = tn
	}
	return nil
}

// eps is the machine epsilon of float64.
const eps = 0x1p-52

// attempt computes one step of size h from (t, y): the stages in s.k and the
// propagated solution in s.ynew. y is not modified.
func (s *Solver) attempt(y []float64, t, h float64) {
	m := s.m
	if !s.k0Valid {
		s.f(s.k[0], t, y)
		s.stats.Evals++
		s.k0Valid = true
	}
	for i := 1; i < len(m.B); i++ {
		copy(s.ytmp, y)
		for j, a := range m.A[i] {
			if a != 0 {
				floats.AddScaled(s.ytmp, h*a, s.k[j])
			}
		}
		s.f(s.k[i], t+m.C[i]*h, s.ytmp)
		s.stats.Evals++
	}
	if m.FSAL {
		// The last stage was evaluated at y + h Σ b_j k_j, the new state.
		s.ytmp, s.ynew = s.ynew, s.ytmp
		return
	}
	copy(s.ynew, y)
	for j, b := range m.B {
		if b != 0 {
			floats.AddScaled(s.ynew, h*b, s.k[j])
		}
	}
}

// errorNorm returns the root-mean-square of the embedded error estimate
// h Σ (b_j − b̂_j) k_j of the step of size h just attempted from y, scaled
// componentwise by the tolerances.
func (s *Solver) errorNorm(y []float64, h float64) float64 {
	clear(s.e)
	for j, d := range s.d {
		if d != 0 {
			floats.AddScaled(s.e, h*d, s.k[j])
		}
	}
	var sum float64
	for i, e := range s.e {
		sc := s.ctrl.AbsTol + s.ctrl.RelTol*math.Max(math.Abs(y[i]), math.Abs(s.ynew[i]))
		r := e / sc
		sum += r * r
	}
	return math.Sqrt(sum / float64(s.n))
}

// accept makes s.ynew, the state at time t, the current state y.
func (s *Solver) accept(y []float64, t float64) error {
	if !allFinite(s.ynew) {
		return fmt.Errorf("%w at t = %g", ErrNonFinite, t)
	}
	copy(y, s.ynew)
	s.stats.Accepted++
	if s.m.FSAL {
		last := len(s.k) - 1
		s.k[0], s.k[last] = s.k[last], s.k[0]
	} else {
		s.k0Valid = false
	}
	return nil
}

// initialStep estimates a first step size from the size of y and of its first
// two derivatives, following Hairer, Nørsett and Wanner (Solving ODEs I,
// §II.4): the step for which an Euler step's error would be 0.01 of the
// tolerance scale, bounded by 100 times a crude estimate. It costs one extra
// evaluation of f and leaves f(t0, y) in k[0].
//
//	d0 = ‖y‖, d1 = ‖f(t0, y)‖, h0 = 0.01 d0/d1,
//	d2 = ‖f(t0+h0, y + h0 f(t0, y)) − f(t0, y)‖ / h0,
//	h  = min(100 h0, (0.01 / max(d1, d2))^{1/(p+1)}),
//
// with ‖·‖ the scaled root-mean-square norm of the controller.
func (s *Solver) initialStep(y []float64, t0, t1 float64) float64 {
	if !s.k0Valid {
		s.f(s.k[0], t0, y)
		s.stats.Evals++
		s.k0Valid = true
	}
	f0 := s.k[0]
	c := &s.ctrl
	var d0, d1 float64
	for i, v := range y {
		sc := c.AbsTol + c.RelTol*math.Abs(v)
		d0 += (v / sc) * (v / sc)
		d1 += (f0[i] / sc) * (f0[i] / sc)
	}
	d0 = math.Sqrt(d0 / float64(s.n))
	d1 = math.Sqrt(d1 / float64(s.n))
	h0 := 1e-6
	if d0 >= 1e-5 && d1 >= 1e-5 {
		h0 = 0.01 * d0 / d1
	}
	h0 = math.Min(h0, t1-t0)

	copy(s.ytmp, y)
	floats.AddScaled(s.ytmp, h0, f0)
	f1 := s.ynew // free until the first step
	s.f(f1, t0+h0, s.ytmp)
	s.stats.Evals++
	var d2 float64
	for i, v := range y {
		sc := c.AbsTol + c.RelTol*math.Abs(v)
		r := (f1[i] - f0[i]) / sc
		d2 += r * r
	}
	d2 = math.Sqrt(d2/float64(s.n)) / h0

	var h1 float64
	if dm := math.Max(d1, d2); dm <= 1e-15 {
		h1 = math.Max(1e-6, h0*1e-3)
	} else {
		h1 = math.Pow(0.01/dm, 1/float64(s.m.Order+1))
	}
	h := math.Min(100*h0, h1)
	if !(h > 0) || math.IsInf(h, 0) {
		// Non-finite derivatives: let the controller shrink from the span.
		h = t1 - t0
	}
	return h
}

// allFinite reports whether x has no NaN or ±Inf element.
func allFinite(x []float64) bool {
	for _, v := range x {
		if v-v != 0 {
			return false
		}
	}
	return true
}
