package plotting

import (
	"errors"
	"fmt"
	"image/color"
	"math"

	"github.com/eoskit/eoskit/eos"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotutil"
)

// Colours shared by the comparison panels: GD in grey and black, the model
// in blue, its envelope as a light blue band.
var (
	gdColor       = color.NRGBA{R: 90, G: 90, B: 90, A: 255}
	gdMeanColor   = color.NRGBA{A: 255}
	modelColor    = color.NRGBA{R: 30, G: 90, B: 200, A: 255}
	envelopeColor = color.NRGBA{R: 150, G: 190, B: 240, A: 200}
	accentColor   = color.NRGBA{R: 220, G: 120, B: 0, A: 255}
)

// newPlot is New with log-axis tick labels rounded to one significant
// digit: LogTicks computes the decades by repeated multiplication, so at
// full precision 1e-4 is labelled 9.999999999999999e-05. Labels of log axes
// are kept short because gonum/plot centres the rotated y label on the
// arithmetic mean of the axis range, which a log axis places near its top:
// half the label's length then sticks out above and shrinks the panel.
func newPlot(title, xLabel, yLabel string, logY bool) *plot.Plot {
	p := New(title, xLabel, yLabel, logY)
	if logY {
		p.Y.Tick.Marker = plot.LogTicks{Prec: 1}
	}
	return p
}

// Index returns the coordinates 0, 1, …, n−1, the steps of a series that
// holds one value per GD step from step 0 (a Trace's columns, for one).
func Index(n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = float64(i)
	}
	return x
}

// column returns the steps of a comparison's rows and one value per row.
func column(c *eos.Comparison, f func(r *eos.CompareRow) float64) (x, y []float64) {
	x = make([]float64, len(c.Rows))
	y = make([]float64, len(c.Rows))
	for i := range c.Rows {
		x[i] = float64(c.Rows[i].Step)
		y[i] = f(&c.Rows[i])
	}
	return x, y
}

// legendRoom raises the top of the y axis so that a legend of the given
// number of entries, drawn in a top corner, does not cover data that reach
// the top: by legendEntryRoom of the axis height per entry plus a margin (in
// decades on a log axis, where the height is measured in decades).
func legendRoom(p *plot.Plot, entries int) {
	lo, hi := p.Y.Min, p.Y.Max
	if !(hi > lo) {
		return
	}
	f := legendEntryRoom * float64(entries+1)
	if isLog(p.Y.Scale) {
		p.Y.Max = hi * math.Pow(hi/lo, f)
		return
	}
	p.Y.Max = hi + f*(hi-lo)
}

// legendEntryRoom is the fraction of the axis height one legend entry takes
// at the default panel height.
const legendEntryRoom = 0.08

func checkComparison(c *eos.Comparison) error {
	if c == nil || len(c.Rows) == 0 {
		return errors.New("plotting: empty comparison")
	}
	return nil
}

// CompareLossPlot plots the loss of a comparison (eos.Compare): GD's loss
// at every step as points, its two-step mean, the model's predicted mean
// (dashed) and the model's predicted envelope [E(θ̄−u), E(θ̄+u)] as a band.
// On a period-2 orbit GD's points sit on the edges of the band and the two
// means coincide. logY selects a log axis, for losses spanning decades.
// As in the other comparison panels, the y axis extends above the data to
// leave room for the legend.
func CompareLossPlot(c *eos.Comparison, logY bool) (*plot.Plot, error) {
	if err := checkComparison(c); err != nil {
		return nil, err
	}
	p := newPlot(fmt.Sprintf("loss: GD vs %s model", c.Flow), "step", "loss", logY)
	x, lo := column(c, func(r *eos.CompareRow) float64 { return r.Model.LossLo })
	_, hi := column(c, func(r *eos.CompareRow) float64 { return r.Model.LossHi })
	if err := AddBand(p, "model envelope E(θ̄ ± u)", x, lo, hi, envelopeColor); err != nil {
		return nil, err
	}
	_, loss := column(c, func(r *eos.CompareRow) float64 { return r.GDLoss })
	if err := AddPoints(p, 1, Series{Name: "GD loss E(θ_k)", X: x, Y: loss, Color: gdColor}); err != nil {
		return nil, err
	}
	_, mean := column(c, func(r *eos.CompareRow) float64 { return r.GDLossMean2 })
	_, model := column(c, func(r *eos.CompareRow) float64 { return r.Model.LossMean })
	if err := AddLines(p,
		Series{Name: "GD two-step mean", X: x, Y: mean, Color: gdMeanColor},
		Series{Name: "model mean", X: x, Y: model, Color: modelColor, Dashed: true}); err != nil {
		return nil, err
	}
	legendRoom(p, 4)
	return p, nil
}

// CompareFreeEnergyPlot plots the free energy F = L_sym − |u|²/η of a
// comparison: GD's F from the centre and oscillation of its iterates and the
// model's F (dashed), and, when withLoss is set, GD's two-step mean loss for
// reference (F lies below it by |u|²/η). The axis is linear, since F may be
// negative; without the loss it zooms in on F's own variations.
func CompareFreeEnergyPlot(c *eos.Comparison, withLoss bool) (*plot.Plot, error) {
	if err := checkComparison(c); err != nil {
		return nil, err
	}
	yLabel := "F"
	if withLoss {
		yLabel = "loss, F"
	}
	p := newPlot(fmt.Sprintf("free energy: GD vs %s model", c.Flow), "step", yLabel, false)
	x, gdF := column(c, func(r *eos.CompareRow) float64 { return r.GDFreeEnergy })
	_, modelF := column(c, func(r *eos.CompareRow) float64 { return r.Model.FreeEnergy })
	if withLoss {
		_, mean := column(c, func(r *eos.CompareRow) float64 { return r.GDLossMean2 })
		if err := AddLines(p, Series{Name: "GD two-step mean loss", X: x, Y: mean, Color: gdMeanColor}); err != nil {
			return nil, err
		}
	}
	if err := AddLines(p,
		Series{Name: "GD free energy F", X: x, Y: gdF, Color: accentColor},
		Series{Name: "model free energy F", X: x, Y: modelF, Color: modelColor, Dashed: true}); err != nil {
		return nil, err
	}
	entries := 2
	if withLoss {
		entries = 3
	}
	legendRoom(p, entries)
	return p, nil
}

// CompareSharpnessPlot plots the sharpness of a comparison: GD's, measured
// at the iterates (points), the model's at its centre θ̄ (line), and the
// threshold 2/η.
func CompareSharpnessPlot(c *eos.Comparison) (*plot.Plot, error) {
	if err := checkComparison(c); err != nil {
		return nil, err
	}
	p := newPlot(fmt.Sprintf("sharpness: GD vs %s model", c.Flow), "step", "λ_max(H)", false)
	x, gd := column(c, func(r *eos.CompareRow) float64 { return r.GDSharpness })
	_, model := column(c, func(r *eos.CompareRow) float64 { return r.Model.Sharpness })
	if err := AddPoints(p, 1, Series{Name: "GD, at θ_k", X: x, Y: gd, Color: gdColor}); err != nil {
		return nil, err
	}
	if err := AddLines(p, Series{Name: "model, at θ̄", X: x, Y: model, Color: modelColor}); err != nil {
		return nil, err
	}
	if err := AddHLine(p, 2/c.Eta, fmt.Sprintf("2/η = %.4g", 2/c.Eta)); err != nil {
		return nil, err
	}
	legendRoom(p, 3)
	return p, nil
}

// CompareErrorPlot plots, on a log axis, the relative error of each
// comparison's predicted mean loss against GD's two-step mean,
// |LossMean − GDLossMean2| / |GDLossMean2|, the quantity summarised by
// eos.CompareSummary. Each curve is named by names[i], or by the flow's name
// when names is nil. Exact zeros cannot be drawn on the log axis and are
// left out.
func CompareErrorPlot(names []string, cs ...*eos.Comparison) (*plot.Plot, error) {
	if names != nil && len(names) != len(cs) {
		return nil, fmt.Errorf("plotting: %d names for %d comparisons", len(names), len(cs))
	}
	p := newPlot("relative error of the mean loss vs GD two-step mean", "step", "rel. error", true)
	for i, c := range cs {
		if err := checkComparison(c); err != nil {
			return nil, err
		}
		name := c.Flow
		if names != nil {
			name = names[i]
		}
		x, e := column(c, func(r *eos.CompareRow) float64 {
			return math.Abs(r.Model.LossMean-r.GDLossMean2) / math.Abs(r.GDLossMean2)
		})
		if err := AddLines(p, Series{Name: name, X: x, Y: e, Color: plotutil.Color(i)}); err != nil {
			return nil, err
		}
	}
	legendRoom(p, len(cs))
	return p, nil
}

// PeriodDoublingPlot draws the period-doubling diagram of a sweep
// (eos.Sweep): at each value of the parameter, the losses GD visits late in
// its run as points (one point for a converged run, two for a period-2
// orbit, a cloud for chaos), and the two losses E(θ̄ ± u) of the effective
// model's fixed point as lines where it was found. xLabel names the
// parameter. The axis is linear: a converged run's loss, at the rounding
// level, sits at zero.
func PeriodDoublingPlot(pts []eos.SweepPoint, xLabel string) (*plot.Plot, error) {
	if len(pts) == 0 {
		return nil, errors.New("plotting: empty sweep")
	}
	p := newPlot("period-doubling diagram", xLabel, "late losses E(θ_k)", false)
	p.Legend.Left = true
	var gx, gy []float64
	vx := make([]float64, len(pts))
	lo := make([]float64, len(pts))
	hi := make([]float64, len(pts))
	for i, pt := range pts {
		for _, l := range pt.Late {
			gx = append(gx, pt.Value)
			gy = append(gy, l)
		}
		vx[i] = pt.Value
		lo[i], hi[i] = math.NaN(), math.NaN()
		if pt.Model != nil {
			lo[i], hi[i] = pt.Model.LossLo, pt.Model.LossHi
		}
	}
	if err := AddPoints(p, 1.5, Series{Name: "GD, late losses", X: gx, Y: gy, Color: gdMeanColor}); err != nil {
		return nil, err
	}
	return p, AddLines(p,
		Series{Name: "model fixed point E(θ̄ ± u)", X: vx, Y: hi, Color: modelColor, Dashed: true},
		Series{X: vx, Y: lo, Color: modelColor, Dashed: true})
}
