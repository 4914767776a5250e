package eos

import (
	"errors"
	"fmt"
	"math"
)

// SweepSettings configures Sweep. A nil *SweepSettings means all defaults.
type SweepSettings struct {
	// Steps is the number of GD steps run at each value. Zero means 4000;
	// it must be at least 2, since the model's search starts from the last
	// three iterates.
	Steps int
	// Late is the number of final losses kept at each value, the points of
	// the period-doubling diagram. Zero means 128; it must not exceed
	// Steps+1.
	Late int
	// PeriodTol is the relative tolerance of DetectPeriod on the late
	// losses. Zero means 1e-6; it must lie in [0, 1).
	PeriodTol float64
	// LossFloor is the loss below which every late loss must lie for the
	// run to count as converged, of period 1. A run converged to a
	// zero-loss minimum ends at the rounding level, where the relative
	// differences DetectPeriod sees are noise. Zero means 1e-20; it must be
	// non-negative and finite.
	LossFloor float64
	// PeriodTwo configures the search for the model's fixed point. Nil
	// means default settings.
	PeriodTwo *PeriodTwoSettings
	// Progress, if not nil, is called after each value with its index and
	// result; an error from it stops the sweep. Nil means none.
	Progress func(i int, pt *SweepPoint) error
}

// SweepPoint is what Sweep measured at one value of the parameter.
type SweepPoint struct {
	// Value is the parameter.
	Value float64
	// Late holds the last SweepSettings.Late losses E(θ_k) of the GD run,
	// in order; nil when GD diverged.
	Late []float64
	// Period is the period of Late: 1 when the run converged (see
	// SweepSettings.LossFloor), otherwise DetectPeriod's answer, 1, 2, 4
	// or 8, or 0 when none fits (chaos, a slow transient, a divergence).
	Period int
	// Diverged reports whether GD diverged before the last step.
	Diverged bool
	// Model is the effective model's fixed point with u ≠ 0, a period-2
	// orbit of GD, found by FindPeriodTwo; nil when none was found, and
	// ModelErr then says why.
	Model    *PeriodTwo
	ModelErr error
	// FromPrevious reports that Model was found by continuation, from the
	// previous value's fixed point, after the search from GD's state
	// failed.
	FromPrevious bool
}

// Sweep draws the period-doubling diagram of GD with step eta over a family
// of problems: for each value v in values it builds problem(v), runs GD from
// x0 (not modified) for Steps steps without sharpness measurements, and keeps
// the last Late losses, the set of losses the orbit visits late in the run.
// It then looks for the effective model's fixed point with u ≠ 0 by
// FindPeriodTwo, started from the centre and oscillation of GD's last three
// iterates (Centre, Oscillation). Past a period-doubling those iterates are
// not on a period-2 orbit and the search may fail from them; it is then
// tried again from the previous value's fixed point, if there is one, which
// follows the branch of period-2 orbits through the sweep (continuation), so
// values should be given in order along the branch.
//
// The fixed point exists where GD's period-2 orbit does, stable or not: on
// the far side of a period-doubling the orbit is unstable and GD leaves it,
// but the model's fixed point persists. Below the first period-doubling GD
// converges and the search collapses to u = 0.
//
// A divergent GD run is recorded (Diverged) and the sweep goes on. Sweep
// returns the points so far and an error if problem or Progress fails, and
// an error naming the value if eta or a setting is out of range. It panics if
// len(x0) differs from the dimension of a problem.
func Sweep(values []float64, problem func(v float64) (Problem, error), x0 []float64, eta float64, s *SweepSettings) ([]SweepPoint, error) {
	if !(eta > 0) || math.IsInf(eta, 1) {
		return nil, fmt.Errorf("eos: step size eta = %v, want a value in (0, +Inf)", eta)
	}
	set := SweepSettings{Steps: 4000, Late: 128, PeriodTol: 1e-6, LossFloor: 1e-20}
	if s != nil {
		if s.Steps < 0 || s.Steps == 1 {
			return nil, fmt.Errorf("eos: SweepSettings.Steps = %d, want 0 (the default) or at least 2", s.Steps)
		}
		if s.Steps != 0 {
			set.Steps = s.Steps
		}
		if s.Late < 0 {
			return nil, fmt.Errorf("eos: SweepSettings.Late = %d, want a non-negative value", s.Late)
		}
		if s.Late != 0 {
			set.Late = s.Late
		}
		if !(s.PeriodTol >= 0 && s.PeriodTol < 1) {
			return nil, fmt.Errorf("eos: SweepSettings.PeriodTol = %v, want a value in [0, 1)", s.PeriodTol)
		}
		if s.PeriodTol != 0 {
			set.PeriodTol = s.PeriodTol
		}
		if !(s.LossFloor >= 0) || math.IsInf(s.LossFloor, 1) {
			return nil, fmt.Errorf("eos: SweepSettings.LossFloor = %v, want a non-negative finite value", s.LossFloor)
		}
		if s.LossFloor != 0 {
			set.LossFloor = s.LossFloor
		}
		set.PeriodTwo = s.PeriodTwo
		set.Progress = s.Progress
	}
	if set.Late > set.Steps+1 {
		return nil, fmt.Errorf("eos: SweepSettings.Late = %d, want at most Steps+1 = %d", set.Late, set.Steps+1)
	}
	if _, err := periodTwoSettings(set.PeriodTwo); err != nil {
		return nil, err
	}

	points := make([]SweepPoint, 0, len(values))
	var prev *PeriodTwo
	for i, v := range values {
		p, err := problem(v)
		if err != nil {
			return points, fmt.Errorf("eos: sweep value %v: %w", v, err)
		}
		n := p.Dim()
		checkLen("x0", len(x0), n)
		x := append([]float64(nil), x0...)
		tail := newTailObserver(n, set.Late)
		pt := SweepPoint{Value: v}
		_, err = GD(x, p, eta, &GDSettings{Steps: set.Steps, EigEvery: -1, Observers: []Observer{tail}})
		var div *DivergenceError
		switch {
		case errors.As(err, &div):
			pt.Diverged = true
		case err != nil:
			return points, fmt.Errorf("eos: sweep value %v: %w", v, err)
		}
		if !pt.Diverged {
			pt.Late = tail.losses()
			pt.Period = sweepPeriod(pt.Late, set.PeriodTol, set.LossFloor)
			x0, x1, x2 := tail.lastThree()
			c := make([]float64, n)
			u := make([]float64, n)
			Centre(c, x0, x1, x2)
			Oscillation(u, x0, x1, x2)
			pt.Model, pt.ModelErr = FindPeriodTwo(p, eta, c, u, set.PeriodTwo)
			if pt.Model == nil && prev != nil && len(prev.Centre) == n {
				if m, err := FindPeriodTwo(p, eta, prev.Centre, prev.U, set.PeriodTwo); err == nil {
					pt.Model, pt.ModelErr, pt.FromPrevious = m, nil, true
				}
			}
		} else {
			pt.ModelErr = fmt.Errorf("%w: GD diverged at step %d", ErrNoPeriodTwo, div.Step)
		}
		prev = pt.Model
		points = append(points, pt)
		if set.Progress != nil {
			if err := set.Progress(i, &points[len(points)-1]); err != nil {
				return points, fmt.Errorf("eos: sweep stopped by Progress: %w", err)
			}
		}
	}
	return points, nil
}

// sweepPeriod is the period of late losses: 1 when all lie below floor.
func sweepPeriod(late []float64, tol, floor float64) int {
	converged := true
	for _, l := range late {
		if !(math.Abs(l) < floor) {
			converged = false
			break
		}
	}
	if converged {
		return 1
	}
	return DetectPeriod(late, tol)
}

// tailObserver keeps the last losses and the last three iterates of a run
// in ring buffers.
type tailObserver struct {
	loss  []float64
	nLoss int
	iter  [3][]float64
	nIter int
}

func newTailObserver(dim, late int) *tailObserver {
	t := &tailObserver{loss: make([]float64, late)}
	for i := range t.iter {
		t.iter[i] = make([]float64, dim)
	}
	return t
}

// Observe records the loss and iterate of s.
func (t *tailObserver) Observe(s *Step) error {
	if len(t.loss) > 0 {
		t.loss[t.nLoss%len(t.loss)] = s.Loss
	}
	t.nLoss++
	copy(t.iter[t.nIter%3], s.X)
	t.nIter++
	return nil
}

// losses returns the kept losses in order.
func (t *tailObserver) losses() []float64 {
	m := len(t.loss)
	out := make([]float64, 0, m)
	for k := max(0, t.nLoss-m); k < t.nLoss; k++ {
		out = append(out, t.loss[k%m])
	}
	return out
}

// lastThree returns the last three iterates in order.
func (t *tailObserver) lastThree() (x0, x1, x2 []float64) {
	k := t.nIter
	return t.iter[(k-3)%3], t.iter[(k-2)%3], t.iter[(k-1)%3]
}

// PeriodTwoAgreement compares the model's fixed points with GD where GD is
// on a period-2 orbit: over the points of a sweep with Period 2 and a Model,
// it returns the largest relative difference between the model's two losses
// and GD's late ones,
//
//	max(|LossLo − min Late| / min Late, |LossHi − max Late| / max Late),
//
// and the number of points compared. The largest error is NaN when no point
// qualifies.
func PeriodTwoAgreement(pts []SweepPoint) (maxRelErr float64, compared int) {
	maxRelErr = math.NaN()
	for _, pt := range pts {
		if pt.Period != 2 || pt.Model == nil || len(pt.Late) == 0 {
			continue
		}
		lo, hi := pt.Late[0], pt.Late[0]
		for _, l := range pt.Late {
			lo = math.Min(lo, l)
			hi = math.Max(hi, l)
		}
		e := math.Max(math.Abs(pt.Model.LossLo-lo)/math.Abs(lo), math.Abs(pt.Model.LossHi-hi)/math.Abs(hi))
		if compared == 0 || e > maxRelErr {
			maxRelErr = e
		}
		compared++
	}
	return maxRelErr, compared
}
