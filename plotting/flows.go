package plotting

import (
	"errors"
	"fmt"
	"math"

	"github.com/eoskit/eoskit/eos"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotutil"
)

// checkSameRun checks that the comparisons describe the same GD run, as
// eos.CompareMany returns them: the same step size, start and steps.
func checkSameRun(names []string, cs []*eos.Comparison) error {
	if len(cs) == 0 {
		return errors.New("plotting: no comparisons")
	}
	if names != nil && len(names) != len(cs) {
		return fmt.Errorf("plotting: %d names for %d comparisons", len(names), len(cs))
	}
	for _, c := range cs {
		if err := checkComparison(c); err != nil {
			return err
		}
		if c.Eta != cs[0].Eta || c.Start != cs[0].Start || len(c.Rows) != len(cs[0].Rows) {
			return fmt.Errorf("plotting: comparisons %s and %s are not of the same GD run (η, start or steps differ)", cs[0].Flow, c.Flow)
		}
	}
	return nil
}

// flowName is names[i], or the flow's name when names is nil.
func flowName(names []string, i int, c *eos.Comparison) string {
	if names != nil {
		return names[i]
	}
	return c.Flow
}

// FlowsLossPlot plots the time-averaged loss that each of several flows
// predicts for the same GD run (eos.CompareMany), against GD: GD's loss at
// every step as points, its two-step mean, and each flow's predicted mean
// (dashed, in the palette's colours). Each curve is named by names[i],
// or by the flow's name when names is nil. logY selects a log axis. It
// returns an error if the comparisons are empty or not of the same run.
func FlowsLossPlot(names []string, logY bool, cs ...*eos.Comparison) (*plot.Plot, error) {
	if err := checkSameRun(names, cs); err != nil {
		return nil, err
	}
	title := "mean loss: GD vs the flows"
	if len(cs) == 1 {
		title = "mean loss: GD vs " + flowName(names, 0, cs[0])
	}
	p := newPlot(title, "step", "loss", logY)
	x, loss := column(cs[0], func(r *eos.CompareRow) float64 { return r.GDLoss })
	_, mean := column(cs[0], func(r *eos.CompareRow) float64 { return r.GDLossMean2 })
	if err := AddPoints(p, 1, Series{Name: "GD loss E(θ_k)", X: x, Y: loss, Color: gdColor}); err != nil {
		return nil, err
	}
	if err := AddLines(p, Series{Name: "GD two-step mean", X: x, Y: mean, Color: gdMeanColor}); err != nil {
		return nil, err
	}
	for i, c := range cs {
		_, y := column(c, func(r *eos.CompareRow) float64 { return r.Model.LossMean })
		if err := AddLines(p, Series{Name: flowName(names, i, c), X: x, Y: y, Color: plotutil.Color(i), Dashed: true}); err != nil {
			return nil, err
		}
	}
	legendRoom(p, 2+len(cs))
	return p, nil
}

// FlowsSharpnessPlot plots the sharpness along the same GD run
// (eos.CompareMany): GD's, measured at the iterates (points), each flow's at
// its own state, and the threshold 2/η. A flow measures its sharpness every
// few steps (FlowSettings.EigEvery), so its measurements are joined by a
// line across the steps between them. Curves are named as in FlowsLossPlot.
// It returns an error if the comparisons are empty or not of the same run.
func FlowsSharpnessPlot(names []string, cs ...*eos.Comparison) (*plot.Plot, error) {
	if err := checkSameRun(names, cs); err != nil {
		return nil, err
	}
	title := "sharpness: GD vs the flows"
	if len(cs) == 1 {
		title = "sharpness: GD vs " + flowName(names, 0, cs[0])
	}
	p := newPlot(title, "step", "λ_max(H)", false)
	x, gd := column(cs[0], func(r *eos.CompareRow) float64 { return r.GDSharpness })
	if err := AddPoints(p, 1.2, Series{Name: "GD, at θ_k", X: x, Y: gd, Color: gdColor}); err != nil {
		return nil, err
	}
	// The threshold goes under the flows' lines: the central flow's
	// sharpness lies on it.
	if err := AddHLine(p, 2/cs[0].Eta, fmt.Sprintf("2/η = %.4g", 2/cs[0].Eta)); err != nil {
		return nil, err
	}
	for i, c := range cs {
		sx, sy := modelSharpness(c)
		if err := AddLines(p, Series{Name: flowName(names, i, c), X: sx, Y: sy, Color: plotutil.Color(i)}); err != nil {
			return nil, err
		}
	}
	legendRoom(p, 2+len(cs)) // GD, 2/η and the flows
	return p, nil
}

// modelSharpness returns the steps at which the flow of c measured its
// sharpness and the values, leaving out the steps between measurements.
func modelSharpness(c *eos.Comparison) (x, y []float64) {
	for _, r := range c.Rows {
		if s := r.Model.Sharpness; !math.IsNaN(s) {
			x = append(x, float64(r.Step))
			y = append(y, s)
		}
	}
	return x, y
}

// OscillationPlot plots the size of GD's period-2 oscillation,
// ‖u_k‖ = ‖(θ_k − 2θ_{k+1} + θ_{k+2})/4‖, against the step on a log axis:
// it stays small while GD is stable and grows by orders of magnitude once the
// sharpness passes 2/η. It returns an error if the trace has no ‖u_k‖.
func OscillationPlot(t *eos.Trace) (*plot.Plot, error) {
	if len(t.UNorm) == 0 {
		return nil, errors.New("plotting: empty trace")
	}
	steps := make([]float64, len(t.Step))
	for i, k := range t.Step {
		steps[i] = float64(k)
	}
	p := newPlot("oscillation of GD", "step", "‖u_k‖", true)
	if err := AddLines(p, Series{Name: "‖u_k‖ from θ_k, θ_k+1, θ_k+2", X: steps, Y: t.UNorm, Color: gdMeanColor}); err != nil {
		return nil, err
	}
	legendRoom(p, 1)
	return p, nil
}
