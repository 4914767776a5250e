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
	var set CompareSettings
	if s != nil {
		set = *s
	}
	if set.Start < 0 || set.Steps < 0 {
		// Compare rejects these before running anything.
		_, err := Compare(p, x0, eta, flows[0], &set)
		return nil, err
	}
	// The defaults of CompareSettings, documented there; the extra flows
	// are summarised here with them, as Compare summarises flows[0].
	if set.Steps == 0 {
		set.Steps = 1000
	}
	if set.SpikeRise == 0 {
		set.SpikeRise = 0.3
	}
	if set.SpikeWindow == 0 {
		set.SpikeWindow = 20
	}
	if set.SpikeTol == 0 {
		set.SpikeTol = 5
	}

	n := p.Dim()
	extra := make([]*compareObserver, len(flows)-1)
	var gs GDSettings
	if set.GD != nil {
		gs = *set.GD
	}
	gs.Observers = slices.Clip(gs.Observers)
	for i, f := range flows[1:] {
		o := &compareObserver{
			p:     p,
			eta:   eta,
			flow:  f,
			start: set.Start,
			last:  set.Start + set.Steps,
			work:  make([]float64, n),
			c:     make([]float64, n),
			u:     make([]float64, n),
			cmp: &Comparison{
				Flow:  f.Name(),
				Eta:   eta,
				Start: set.Start,
				Rows:  make([]CompareRow, 0, set.Steps),
			},
		}
		for j := range o.x {
			o.x[j] = make([]float64, n)
		}
		extra[i] = o
		gs.Observers = append(gs.Observers, o)
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
