package eos

import (
	"fmt"
	"math"
)

// GrowthFactor returns the mean factor per step by which a positive series
// grows (below 1 when it decays),
//
//	(s_j / s_i)^{1/(j−i)},
//
// with i and j the indices of its first and last finite positive entries,
// so that NaN gaps, such as the last two entries of Trace.UNorm, are
// skipped. For the oscillation norms ‖u_k‖ of GD near a point where the
// Hessian has top eigenvalue λ it measures |1 − ηλ|; for the effective model
// it measures e^{ηλ − 2}. It returns NaN when the series has fewer than two
// such entries.
func GrowthFactor(series []float64) float64 {
	first, last := -1, -1
	for k, s := range series {
		if s > 0 && !math.IsInf(s, 1) {
			if first < 0 {
				first = k
			}
			last = k
		}
	}
	if first < 0 || last == first {
		return math.NaN()
	}
	return math.Pow(series[last]/series[first], 1/float64(last-first))
}

// OscillationGrowth runs GD with step eta from x0 (not modified) for
// steps+2 steps and, alongside, the symmetrised effective model
// (FreeEnergyFlow, default integrator) started from GD's first three
// iterates, and returns the oscillation norms ‖u_k‖ of both for
// k = 0 … steps−1: GD's from θ_k, θ_{k+1}, θ_{k+2} (Oscillation), the
// model's at time kη; both are centred at step k+1.
//
// Started near a point where ∇E = 0 and the top Hessian eigenvalue is λ,
// GD's oscillation is multiplied by |1 − ηλ| per step and the model's by
// e^{ηλ − 2} (du/dt = (H − 2/η)u to first order), which GrowthFactor of the
// two series measures. It returns an error if eta or steps is out of range
// or GD or the model fails, and panics if len(x0) ≠ p.Dim().
func OscillationGrowth(p Problem, eta float64, x0 []float64, steps int) (gd, model []float64, err error) {
	checkLen("x0", len(x0), p.Dim())
	if steps < 1 {
		return nil, nil, fmt.Errorf("eos: OscillationGrowth steps = %d, want at least 1", steps)
	}
	flow, err := NewFreeEnergyFlow(p, eta, &FlowSettings{EigEvery: -1})
	if err != nil {
		return nil, nil, err
	}
	tr := &Trace{}
	first := &firstIterates{}
	x := append([]float64(nil), x0...)
	if _, err := GD(x, p, eta, &GDSettings{Steps: steps + 2, EigEvery: -1, Observers: []Observer{tr, first}}); err != nil {
		return nil, nil, err
	}
	if err := flow.Init(first.x[0], first.x[1], first.x[2]); err != nil {
		return nil, nil, err
	}
	model = make([]float64, steps)
	var pr Prediction
	for k := range model {
		if k > 0 {
			if err := flow.Advance(eta); err != nil {
				return nil, nil, err
			}
		}
		if err := flow.Predict(&pr); err != nil {
			return nil, nil, err
		}
		model[k] = pr.UNorm
	}
	return tr.UNorm[:steps:steps], model, nil
}

// firstIterates copies the first three iterates of a GD run.
type firstIterates struct {
	x [3][]float64
	n int
}

// Observe copies s.X while fewer than three iterates are held.
func (f *firstIterates) Observe(s *Step) error {
	if f.n < 3 {
		f.x[f.n] = append([]float64(nil), s.X...)
		f.n++
	}
	return nil
}
