package ode

import "fmt"

// Solution holds the result of Solve.
type Solution struct {
	// T holds the save times: Settings.SaveAt, or t1 alone.
	T []float64
	// Y holds copies of the state at the times T.
	Y [][]float64
	// Stats counts the work done.
	Stats Stats
}

// Solve integrates y' = f(t, y), y(t0) = y0, from t0 to t1 ≥ t0 and returns
// the states at the save times. y0 is not modified.
//
// Invalid settings or interval give a nil Solution and an error. An error met
// while integrating (ErrStepUnderflow, ErrMaxSteps, ErrNonFinite, or an
// Observer's error, wrapped) gives the Solution saved so far together with
// the error.
func Solve(f Func, t0, t1 float64, y0 []float64, s *Settings) (*Solution, error) {
	if err := checkInterval(t0, t1); err != nil {
		return nil, err
	}
	var set Settings
	if s != nil {
		set = *s
	}
	times := set.SaveAt
	for i, t := range times {
		if !(t >= t0 && t <= t1) {
			return nil, fmt.Errorf("ode: SaveAt[%d] = %g outside [t0, t1] = [%g, %g]", i, t, t0, t1)
		}
		if i > 0 && !(t > times[i-1]) {
			return nil, fmt.Errorf("ode: SaveAt[%d] = %g ≤ SaveAt[%d] = %g, want strictly increasing times", i, t, i-1, times[i-1])
		}
	}
	if len(times) == 0 {
		times = []float64{t1}
	}
	if set.Controller == nil && set.Step == 0 {
		set.Step = (t1 - t0) / 100
	}
	sv, err := NewSolver(f, len(y0), &set)
	if err != nil {
		return nil, err
	}

	sol := &Solution{
		T: make([]float64, 0, len(times)),
		Y: make([][]float64, 0, len(times)),
	}
	y := append([]float64(nil), y0...)
	t := t0
	err = func() error {
		if !allFinite(y) {
			return fmt.Errorf("%w at t = %g", ErrNonFinite, t0)
		}
		// One run across all save times: the step budget, the controller's
		// memory and an FSAL stage carry over from one interval to the next.
		for _, ts := range times {
			if err := sv.advance(y, t, ts); err != nil {
				return err
			}
			t = ts
			sol.T = append(sol.T, ts)
			sol.Y = append(sol.Y, append([]float64(nil), y...))
			if set.Observer != nil {
				if err := set.Observer(ts, y); err != nil {
					return fmt.Errorf("ode: observer at t = %g: %w", ts, err)
				}
			}
		}
		return sv.advance(y, t, t1)
	}()
	sol.Stats = sv.Stats()
	return sol, err
}
