package eos

import (
	"errors"
	"slices"
)

// CompareMany is Compare for several flows on a single GD run: GD runs once
// from x0 (not modified), every flow starts from the same iterates θ_Start,
// θ_Start+1, θ_Start+2 and is advanced alongside it, so that the flows are
// measured against the same trajectory with the same metric, for the cost of
// one GD run instead of len(flows). The flows must be distinct values, since
// each is advanced once per step.
//
// The comparison for flows[i] is the one Compare(p, x0, eta, flows[i], s)
// returns, with the same rows and summary; s.Progress sees the rows of
// flows[0] only. The flows' predictions are made in order at each step,
// which does not change them: a flow depends only on the iterates it was
// started from and on its own state.
//
// An error of GD, of any flow or of Progress stops the GD run and with it
// every comparison; CompareMany then returns the comparisons so far, in the
// order of flows, with the error, or nil comparisons if it stopped before
// flows[0] had a row. Settings out of range give nil comparisons and the
// error Compare gives. CompareMany returns an error if flows is empty and
// panics if len(x0) ≠ p.Dim().
func CompareMany(p Problem, x0 []float64, eta float64, flows []Flow, s *CompareSettings) ([]*Comparison, error) {
	if len(flows) == 0 {
		return nil, errors.New("eos: CompareMany needs at least one flow")
	}
	set, err := resolveCompare(s)
	if err != nil {
		return nil, err
	}
	extra := make([]*compareObserver, len(flows)-1)
	var gs GDSettings
	if set.GD != nil {
		gs = *set.GD
	}
	gs.Observers = slices.Clip(gs.Observers)
	for i, f := range flows[1:] {
		extra[i] = newCompareObserver(p, eta, f, &set)
		gs.Observers = append(gs.Observers, extra[i])
	}
	set.GD = &gs

	first, err := Compare(p, x0, eta, flows[0], &set)
	if first == nil {
		return nil, err
	}
	out := make([]*Comparison, 0, len(flows))
	out = append(out, first)
	for _, o := range extra {
		o.cmp.Summary = summarize(o.cmp.Rows, o.flow.Cost(), o.time/eta, &set)
		out = append(out, o.cmp)
	}
	return out, err
}
