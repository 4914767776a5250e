package eos

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/floats"
)

// CompareSettings configures Compare. A nil *CompareSettings means all
// defaults.
type CompareSettings struct {
	// Start is the GD step K whose iterates θ_K, θ_{K+1}, θ_{K+2} start the
	// flow. Zero means step 0; negative values are invalid.
	Start int
	// Steps is the number of compared steps. Zero means 1000; negative
	// values are invalid.
	Steps int
	// GD configures the GD run: its sharpness is measured per its EigEvery,
	// its observers see every step. Nil means default settings. Its Steps
	// is overridden.
	GD *GDSettings
	// Progress, if not nil, is called with each row as soon as it is
	// complete; an error from it aborts the comparison. Nil means none.
	Progress func(row CompareRow) error
	// SpikeRise, SpikeWindow and SpikeTol set the spike detection of the
	// summary: a spike rises SpikeRise above the median of its ±SpikeWindow
	// neighbourhood (Spikes), and a GD spike is matched by a model spike at
	// most SpikeTol steps away (MatchSpikes). Zero means 0.3, 20 and 5.
	SpikeRise   float64
	SpikeWindow int
	SpikeTol    int
	// Checkpoint, if not nil, is called between every two GD steps (from
	// the second step of a run or of a resume on), once GD's observers have
	// seen step k−1, with the index k of the next step and save, which
	// returns the checkpoint of the whole comparison at that point: GD's
	// iterate and eigensolver, the flow's state (the flow must implement
	// encoding.BinaryMarshaler, as those of this package do) and the rows
	// so far. Checkpoint decides whether to call save and what to do with
	// the result (Checkpoint.Save). An error from it stops the comparison,
	// which returns the rows so far with that error: the way to stop a
	// long comparison at a point it can resume from.
	Checkpoint func(k int, save func() (*Checkpoint, error)) error
	// Resume, if not nil, continues the comparison from a checkpoint made
	// by save, with a flow made as the saving one was: same constructor,
	// problem, step size and settings. Compare then ignores x0 (beyond its
	// length) and gives the same rows, summary and cost, to the last bit,
	// as the comparison that was not stopped. GD.Eigensolver, if set, must
	// be a fresh one made with the settings of the saving run.
	Resume *Checkpoint
}

// CompareRow is one compared step k.
type CompareRow struct {
	// Step is the GD step k.
	Step int
	// GDLoss is E(θ_k).
	GDLoss float64
	// GDLossMean2 is GD's two-step mean (E(θ_k) + E(θ_{k+1}))/2.
	GDLossMean2 float64
	// GDUNorm is ‖u‖ of GD from θ_k, θ_{k+1}, θ_{k+2} (Oscillation).
	GDUNorm float64
	// GDFreeEnergy is F = L_sym − |u|²/η of GD at the centre and
	// oscillation of θ_k, θ_{k+1}, θ_{k+2} (FreeEnergy).
	GDFreeEnergy float64
	// GDSharpness is λ_max(H(θ_k)), NaN when GD did not measure it at k.
	GDSharpness float64
	// Model is the flow's prediction for step k.
	Model Prediction
}

// Comparison is the result of Compare.
type Comparison struct {
	// Flow is the flow's Name.
	Flow string
	// Eta is the step size η.
	Eta float64
	// Start is the GD step the flow started from.
	Start int
	// Rows holds one row per compared step, steps Start+1, Start+2, ….
	Rows []CompareRow
	// Summary summarises Rows.
	Summary CompareSummary
}

// CompareSummary summarises a comparison. The relative error of a row is
//
//	|Model.LossMean − GDLossMean2| / |GDLossMean2|;
//
// quantiles interpolate linearly between order statistics. A series rises
// at a step when it grows by more than 1e-12 of its magnitude, so that
// rounding on a converged orbit does not count; relative rises are
// (s_{k+1} − s_k)/|s_k|, negative when the series only falls.
type CompareSummary struct {
	MedianRelErr float64 `json:"median_rel_err_loss_mean"`
	P95RelErr    float64 `json:"p95_rel_err_loss_mean"`
	MaxRelErr    float64 `json:"max_rel_err_loss_mean"`
	// FreeEnergyRiseFraction is the fraction of steps at which the
	// model's F rises; GDLossRiseFraction and GDFreeEnergyRiseFraction the
	// same for GD's loss and GD's F.
	FreeEnergyRiseFraction   float64 `json:"free_energy_rise_fraction"`
	GDLossRiseFraction       float64 `json:"gd_loss_rise_fraction"`
	GDFreeEnergyRiseFraction float64 `json:"gd_free_energy_rise_fraction"`
	// MaxFreeEnergyRelRise is the largest relative rise of the model's F
	// from one step to the next.
	MaxFreeEnergyRelRise float64 `json:"max_free_energy_rel_rise"`
	// GradEvalsPerStep and HVPsPerStep are the flow's gradients and HVPs
	// (sharpness measurements included) per GD step of simulated time.
	GradEvalsPerStep float64 `json:"grad_evals_per_step"`
	HVPsPerStep      float64 `json:"hvps_per_step"`
	// SpikesGD counts the spikes of GD's two-step mean loss and
	// SpikesMatched those with a spike of the model's LossMean nearby.
	SpikesGD      int `json:"spikes_gd"`
	SpikesMatched int `json:"spikes_matched"`
}

// riseTol is the relative growth below which a series is not counted as
// rising.
const riseTol = 1e-12

// Compare runs GD with step size eta on p from x0 (not modified) to step
// Start, starts flow from the iterates θ_Start, θ_Start+1, θ_Start+2, then
// advances flow by η per GD step while GD continues alongside, and records
// Steps rows, for steps k = Start+1, …, Start+Steps. GD runs Start+Steps+2
// steps, since a row needs the two iterates after it.
//
// Time alignment. The flow's initial centre (θ_K + 2θ_{K+1} + θ_{K+2})/4 is
// symmetric about step K+1, and so is the oscillation estimate, so flow time
// zero is step K+1. GD's two-step mean (E(θ_k) + E(θ_{k+1}))/2 is symmetric
// about k+½. Row k therefore pairs it with the flow at time (k + ½ − K − 1)η:
// the flow is first advanced by η/2, then by η per row. On a period-2 orbit
// every quantity is constant and the pairing is exact; under a slow drift,
// comparing two quantities centred at the same time leaves only a
// second-order error, where pairing with the flow at k or k+1 would leave a
// first-order one. GDUNorm and GDFreeEnergy use θ_k, θ_{k+1}, θ_{k+2}, as Row
// does, so they are centred at k+1, half a step after the row's flow time.
//
// If GD diverges, Compare returns the comparison so far with the
// *DivergenceError; an error of the flow or of Progress likewise returns the
// rows so far. Settings out of range give a nil comparison and an error.
// Compare panics if len(x0) ≠ p.Dim().
func Compare(p Problem, x0 []float64, eta float64, flow Flow, s *CompareSettings) (*Comparison, error) {
	n := p.Dim()
	checkLen("x0", len(x0), n)
	set, err := resolveCompare(s)
	if err != nil {
		return nil, err
	}
	var gs GDSettings
	if set.GD != nil {
		gs = *set.GD
	}
	gs.Steps = set.Start + set.Steps + 2
	obs := newCompareObserver(p, eta, flow, &set)
	obs.hook = set.Progress
	gs.Observers = append(slices.Clip(gs.Observers), obs)
	var ckp *compareCheckpointer
	if set.Checkpoint != nil || set.Resume != nil {
		// A checkpoint needs GD's eigensolver, so Compare makes it
		// when GD would make its own.
		lz, err := gdEigensolver(p, &gs)
		if err != nil {
			return nil, err
		}
		gs.Eigensolver = lz
		if set.Resume != nil {
			if gs.Resume, err = obs.restore(set.Resume, lz); err != nil {
				return nil, err
			}
		}
		if set.Checkpoint != nil {
			ckp = &compareCheckpointer{obs: obs, lz: lz, fn: set.Checkpoint}
			gs.Checkpointer = ckp
		}
	}

	x := slices.Clone(x0)
	_, err = GD(x, p, eta, &gs)
	var div *DivergenceError
	if err != nil && !errors.As(err, &div) && len(obs.cmp.Rows) == 0 && obs.flowErr == nil && (ckp == nil || !ckp.stopped) {
		// Bad GD settings or step size: nothing ran.
		return nil, err
	}
	obs.cmp.Summary = summarize(obs.cmp.Rows, flow.Cost(), obs.time/eta, &set)
	if div != nil {
		return obs.cmp, div
	}
	if obs.flowErr != nil {
		return obs.cmp, obs.flowErr
	}
	return obs.cmp, err
}

// resolveCompare checks s and fills in the documented defaults.
func resolveCompare(s *CompareSettings) (CompareSettings, error) {
	var set CompareSettings
	if s != nil {
		set = *s
	}
	switch {
	case set.Start < 0:
		return set, fmt.Errorf("eos: CompareSettings.Start = %d is negative", set.Start)
	case set.Steps < 0:
		return set, fmt.Errorf("eos: CompareSettings.Steps = %d is negative", set.Steps)
	case set.SpikeWindow < 0:
		return set, fmt.Errorf("eos: CompareSettings.SpikeWindow = %d is negative", set.SpikeWindow)
	case set.SpikeTol < 0:
		return set, fmt.Errorf("eos: CompareSettings.SpikeTol = %d is negative", set.SpikeTol)
	case !(set.SpikeRise >= 0) || math.IsInf(set.SpikeRise, 1):
		return set, fmt.Errorf("eos: CompareSettings.SpikeRise = %g out of range [0, +Inf)", set.SpikeRise)
	}
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
	return set, nil
}

// newCompareObserver returns the observer that advances flow alongside GD
// and records its rows, for resolved settings.
func newCompareObserver(p Problem, eta float64, flow Flow, set *CompareSettings) *compareObserver {
	n := p.Dim()
	obs := &compareObserver{
		p:     p,
		eta:   eta,
		flow:  flow,
		start: set.Start,
		last:  set.Start + set.Steps,
		work:  make([]float64, n),
		c:     make([]float64, n),
		u:     make([]float64, n),
		cmp: &Comparison{
			Flow:  flow.Name(),
			Eta:   eta,
			Start: set.Start,
			Rows:  make([]CompareRow, 0, set.Steps),
		},
	}
	for i := range obs.x {
		obs.x[i] = make([]float64, n)
	}
	return obs
}

// compareObserver drives the flow from inside the GD run.
type compareObserver struct {
	p           Problem
	eta         float64
	flow        Flow
	start, last int // the flow starts from θ_start; the last row is step last
	hook        func(CompareRow) error

	x     [3][]float64 // ring of the last three iterates, θ_k at x[k%3]
	loss  [3]float64
	sharp [3]float64
	work  []float64
	c, u  []float64
	time  float64 // flow time advanced

	cmp     *Comparison
	flowErr error // error of the flow or the hook, reported as it is
}

// Observe records GD step m and completes the row of step m−2.
func (o *compareObserver) Observe(s *Step) error {
	m := s.K
	i := m % 3
	copy(o.x[i], s.X)
	o.loss[i] = s.Loss
	o.sharp[i] = s.Sharpness
	if m == o.start+2 {
		a, b := o.x[(m-2)%3], o.x[(m-1)%3]
		if err := o.flow.Init(a, b, s.X); err != nil {
			o.flowErr = err
			return err
		}
		if err := o.advance(o.eta / 2); err != nil {
			return err
		}
	}
	k := m - 2
	if k <= o.start || k > o.last {
		return nil
	}
	if k > o.start+1 {
		if err := o.advance(o.eta); err != nil {
			return err
		}
	}
	x0, x1, x2 := o.x[k%3], o.x[(k+1)%3], o.x[(k+2)%3]
	Centre(o.c, x0, x1, x2)
	Oscillation(o.u, x0, x1, x2)
	_, f := freeEnergy(o.p, o.eta, o.c, o.u, o.work)
	row := CompareRow{
		Step:         k,
		GDLoss:       o.loss[k%3],
		GDLossMean2:  (o.loss[k%3] + o.loss[(k+1)%3]) / 2,
		GDUNorm:      floats.Norm(o.u, 2),
		GDFreeEnergy: f,
		GDSharpness:  o.sharp[k%3],
	}
	if err := o.flow.Predict(&row.Model); err != nil {
		o.flowErr = err
		return err
	}
	o.cmp.Rows = append(o.cmp.Rows, row)
	if o.hook != nil {
		if err := o.hook(row); err != nil {
			o.flowErr = fmt.Errorf("eos: Progress at step %d: %w", k, err)
			return o.flowErr
		}
	}
	return nil
}

// advance advances the flow by dt and records the time.
func (o *compareObserver) advance(dt float64) error {
	if err := o.flow.Advance(dt); err != nil {
		o.flowErr = err
		return err
	}
	o.time += dt
	return nil
}

// summarize computes the summary of rows; steps is the flow time in GD
// steps.
func summarize(rows []CompareRow, cost FlowCost, steps float64, set *CompareSettings) CompareSummary {
	nr := len(rows)
	var sum CompareSummary
	errs := make([]float64, 0, nr)
	gdMean := make([]float64, nr)
	model := make([]float64, nr)
	gdLoss := make([]float64, nr)
	gdF := make([]float64, nr)
	modelF := make([]float64, nr)
	for i, r := range rows {
		e := math.Abs(r.Model.LossMean-r.GDLossMean2) / math.Abs(r.GDLossMean2)
		if !math.IsNaN(e) {
			errs = append(errs, e)
		}
		gdMean[i] = r.GDLossMean2
		model[i] = r.Model.LossMean
		gdLoss[i] = r.GDLoss
		gdF[i] = r.GDFreeEnergy
		modelF[i] = r.Model.FreeEnergy
	}
	slices.Sort(errs)
	sum.MedianRelErr = quantile(errs, 0.5)
	sum.P95RelErr = quantile(errs, 0.95)
	sum.MaxRelErr = quantile(errs, 1)
	sum.FreeEnergyRiseFraction, sum.MaxFreeEnergyRelRise = Rises(modelF)
	sum.GDLossRiseFraction, _ = Rises(gdLoss)
	sum.GDFreeEnergyRiseFraction, _ = Rises(gdF)
	sum.GradEvalsPerStep = math.NaN()
	sum.HVPsPerStep = math.NaN()
	if steps > 0 {
		sum.GradEvalsPerStep = float64(cost.Grads) / steps
		sum.HVPsPerStep = float64(cost.HVPs) / steps
	}
	ref := Spikes(gdMean, set.SpikeRise, set.SpikeWindow)
	got := Spikes(model, set.SpikeRise, set.SpikeWindow)
	sum.SpikesGD = len(ref)
	sum.SpikesMatched = MatchSpikes(ref, got, set.SpikeTol)
	return sum
}

// quantile returns the p-quantile of sorted x by linear interpolation
// between order statistics (position p·(n−1)), NaN when x is empty.
func quantile(sorted []float64, p float64) float64 {
	n := len(sorted)
	if n == 0 {
		return math.NaN()
	}
	pos := p * float64(n-1)
	i := int(pos)
	if i >= n-1 {
		return sorted[n-1]
	}
	fr := pos - float64(i)
	return sorted[i] + fr*(sorted[i+1]-sorted[i])
}

// Rises returns the fraction of steps at which series rises, by more than
// 1e-12 of its magnitude, and the largest relative change from one value to
// the next, (s_{k+1} − s_k)/|s_k|, which is negative when the series only
// falls. Pairs with a NaN are skipped; with no pair both results are NaN.
// It measures whether a free energy is non-increasing along a run.
func Rises(series []float64) (fraction, maxRelRise float64) {
	var pairs, rises int
	maxRelRise = math.Inf(-1)
	for k := 1; k < len(series); k++ {
		a, b := series[k-1], series[k]
		if math.IsNaN(a) || math.IsNaN(b) {
			continue
		}
		pairs++
		if b-a > riseTol*math.Abs(a) {
			rises++
		}
		maxRelRise = math.Max(maxRelRise, (b-a)/math.Abs(a))
	}
	if pairs == 0 {
		return math.NaN(), math.NaN()
	}
	return float64(rises) / float64(pairs), maxRelRise
}
