package plotting

import (
	"math"
	"slices"
	"testing"

	"github.com/eoskit/eoskit/eos"
	"gonum.org/v1/plot"
)

// compareFixture is a three-row comparison whose extremes are known by
// construction.
func compareFixture() *eos.Comparison {
	row := func(k int, loss, mean, model, lo, hi, gdF, modelF, gdS, modelS float64) eos.CompareRow {
		return eos.CompareRow{Step: k, GDLoss: loss, GDLossMean2: mean, GDFreeEnergy: gdF, GDSharpness: gdS,
			Model: eos.Prediction{LossMean: model, LossLo: lo, LossHi: hi, FreeEnergy: modelF, Sharpness: modelS}}
	}
	nan := math.NaN()
	return &eos.Comparison{Flow: "free-energy", Eta: 0.1, Start: 20, Rows: []eos.CompareRow{
		// Relative errors of the mean: 0.01, 0.1, 0.05.
		row(21, 1.5, 2, 2.02, 1.2, 2.8, -0.3, -0.25, 12, 19),
		row(22, 2.5, 4, 4.4, 0.9, 7, 0.4, 0.5, nan, 19.5),
		row(23, 3, 2, 1.9, 1, 3.2, 0.1, 0.2, 25, 19.9),
	}}
}

func TestComparePlots(t *testing.T) {
	c := compareFixture()
	loss, err := CompareLossPlot(c, true)
	if err != nil {
		t.Fatal(err)
	}
	// Oracle: the extremes of the fixture, the envelope's 0.9 and 7, with
	// the legend's headroom above, 0.08 of the height per entry plus one:
	// 0.4 of the decades on the log axis for four entries.
	if want := 7 * math.Pow(7/0.9, 0.4); loss.Y.Min != 0.9 || math.Abs(loss.Y.Max-want) > 1e-12 {
		t.Errorf("loss axis [%v, %v], want [0.9, %v]", loss.Y.Min, loss.Y.Max, want)
	}
	if loss.X.Min != 21 || loss.X.Max != 23 {
		t.Errorf("step axis [%v, %v], want [21, 23]", loss.X.Min, loss.X.Max)
	}
	free, err := CompareFreeEnergyPlot(c, true)
	if err != nil {
		t.Fatal(err)
	}
	// F is negative at the first row; the linear axis keeps it.
	if want := 4 + 0.32*4.3; free.Y.Min != -0.3 || math.Abs(free.Y.Max-want) > 1e-12 {
		t.Errorf("free-energy axis with the loss [%v, %v], want [−0.3, %v]", free.Y.Min, free.Y.Max, want)
	}
	freeOnly, err := CompareFreeEnergyPlot(c, false)
	if err != nil {
		t.Fatal(err)
	}
	if want := 0.5 + 0.24*0.8; freeOnly.Y.Min != -0.3 || math.Abs(freeOnly.Y.Max-want) > 1e-12 {
		t.Errorf("free-energy axis [%v, %v], want [−0.3, %v]", freeOnly.Y.Min, freeOnly.Y.Max, want)
	}
	sharp, err := CompareSharpnessPlot(c)
	if err != nil {
		t.Fatal(err)
	}
	if want := 25 + 0.32*13; sharp.Y.Min != 12 || math.Abs(sharp.Y.Max-want) > 1e-12 {
		t.Errorf("sharpness axis [%v, %v], want [12, %v] (2/η = 20 inside)", sharp.Y.Min, sharp.Y.Max, want)
	}
	errs, err := CompareErrorPlot([]string{"diag(5.5, 1)"}, c)
	if err != nil {
		t.Fatal(err)
	}
	// Oracle: the relative errors by hand, 0.02/2, 0.4/4 and 0.1/2.
	if want := 0.1 * math.Pow(10, 0.16); math.Abs(errs.Y.Min-0.01) > 1e-15 || math.Abs(errs.Y.Max-want) > 1e-12 {
		t.Errorf("error axis [%v, %v], want [0.01, %v]", errs.Y.Min, errs.Y.Max, want)
	}
	// The log axis labels its decades at one significant digit.
	for _, tk := range errs.Y.Tick.Marker.Ticks(1e-15, 0.1) {
		if len(tk.Label) > 6 {
			t.Errorf("log tick label %q, want a short one", tk.Label)
		}
	}
	if _, err := PNG(Width, Height, []*plot.Plot{loss, free, freeOnly}, []*plot.Plot{sharp, errs}); err != nil {
		t.Fatal(err)
	}

	if _, err := CompareLossPlot(&eos.Comparison{}, false); err == nil {
		t.Error("empty comparison accepted")
	}
	if _, err := CompareErrorPlot([]string{"a", "b"}, c); err == nil {
		t.Error("two names for one comparison accepted")
	}
	if _, err := CompareErrorPlot(nil, c, nil); err == nil {
		t.Error("nil comparison accepted")
	}
}

func TestPeriodDoublingPlot(t *testing.T) {
	pts := []eos.SweepPoint{
		{Value: 4.8, Late: []float64{1e-28, 1e-28}, Period: 1},
		{Value: 5.5, Late: []float64{0.6, 1.3, 0.6, 1.3}, Period: 2,
			Model: &eos.PeriodTwo{LossLo: 0.6, LossHi: 1.3}},
		{Value: 6.2, Late: []float64{0.4, 6, 2, 3}, Period: 0,
			Model: &eos.PeriodTwo{LossLo: 1.3, LossHi: 4.1}},
		{Value: 6.4, Diverged: true},
	}
	p, err := PeriodDoublingPlot(pts, "σ_1")
	if err != nil {
		t.Fatal(err)
	}
	// Oracle: the extremes of the points; the diverged value has nothing
	// to draw and stays off the axis.
	if p.Y.Min != 1e-28 || p.Y.Max != 6 {
		t.Errorf("loss axis [%v, %v], want [1e-28, 6]", p.Y.Min, p.Y.Max)
	}
	if p.X.Min != 4.8 || p.X.Max != 6.2 {
		t.Errorf("parameter axis [%v, %v], want [4.8, 6.2]", p.X.Min, p.X.Max)
	}
	if _, err := PNG(Width, Height, []*plot.Plot{p}); err != nil {
		t.Fatal(err)
	}
	if _, err := PeriodDoublingPlot(nil, "σ_1"); err == nil {
		t.Error("empty sweep accepted")
	}
}

func TestIndex(t *testing.T) {
	if got := Index(3); !slices.Equal(got, []float64{0, 1, 2}) {
		t.Errorf("Index(3) = %v, want [0 1 2]", got)
	}
	if got := Index(0); len(got) != 0 {
		t.Errorf("Index(0) = %v, want empty", got)
	}
}
