package plotting

import (
	"math"
	"testing"

	"github.com/eoskit/eoskit/eos"
	"gonum.org/v1/plot"
)

// flowsFixture returns two comparisons of the same three GD steps, as
// eos.CompareMany returns them, whose extremes are known by construction.
func flowsFixture() (a, b *eos.Comparison) {
	nan := math.NaN()
	gd := func(k int, loss, mean, sharp float64, model eos.Prediction) eos.CompareRow {
		return eos.CompareRow{Step: k, GDLoss: loss, GDLossMean2: mean, GDSharpness: sharp, Model: model}
	}
	a = &eos.Comparison{Flow: "free-energy", Eta: 0.1, Start: 10, Rows: []eos.CompareRow{
		gd(11, 0.5, 1, 18, eos.Prediction{LossMean: 1.1, Sharpness: 19}),
		gd(12, 1.5, 1.2, nan, eos.Prediction{LossMean: 1.3, Sharpness: nan}),
		gd(13, 0.8, 0.9, 21, eos.Prediction{LossMean: 0.85, Sharpness: 20.5}),
	}}
	b = &eos.Comparison{Flow: "gradient", Eta: 0.1, Start: 10, Rows: []eos.CompareRow{
		gd(11, 0.5, 1, 18, eos.Prediction{LossMean: 0.7, Sharpness: 22}),
		gd(12, 1.5, 1.2, nan, eos.Prediction{LossMean: 0.6, Sharpness: nan}),
		gd(13, 0.8, 0.9, 21, eos.Prediction{LossMean: 0.4, Sharpness: 30}),
	}}
	return a, b
}

func TestFlowsPlots(t *testing.T) {
	a, b := flowsFixture()
	for _, tc := range []struct {
		name   string
		make   func() (*plot.Plot, error)
		lo, hi float64 // the data's extremes, by construction
		room   float64 // legend headroom: 0.08 of the height per entry, plus one
		logY   bool
	}{
		// GD's 0.5 … 1.5 and the gradient flow's 0.4; 4 entries.
		{"loss, log", func() (*plot.Plot, error) { return FlowsLossPlot(nil, true, a, b) }, 0.4, 1.5, 0.4, true},
		{"loss, linear", func() (*plot.Plot, error) { return FlowsLossPlot([]string{"model", "GF"}, false, a, b) }, 0.4, 1.5, 0.4, false},
		// GD's 18 and the gradient flow's 30, 2/η = 20 inside; 4 entries.
		{"sharpness", func() (*plot.Plot, error) { return FlowsSharpnessPlot(nil, a, b) }, 18, 30, 0.4, false},
	} {
		p, err := tc.make()
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		want := tc.hi + tc.room*(tc.hi-tc.lo)
		if tc.logY {
			want = tc.hi * math.Pow(tc.hi/tc.lo, tc.room)
		}
		if p.Y.Min != tc.lo || math.Abs(p.Y.Max-want) > 1e-12 {
			t.Errorf("%s: y axis [%v, %v], want [%v, %v]", tc.name, p.Y.Min, p.Y.Max, tc.lo, want)
		}
		if p.X.Min != 11 || p.X.Max != 13 {
			t.Errorf("%s: step axis [%v, %v], want [11, 13]", tc.name, p.X.Min, p.X.Max)
		}
		if _, err := PNG(Width, Height, []*plot.Plot{p}); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
	}

	// Each flow measured its sharpness at steps 11 and 13 only: the line
	// joins the two measurements instead of leaving isolated points between
	// NaN gaps, which a line cannot draw.
	for _, c := range []*eos.Comparison{a, b} {
		x, y := modelSharpness(c)
		if len(x) != 2 || x[0] != 11 || x[1] != 13 || y[0] != c.Rows[0].Model.Sharpness || y[1] != c.Rows[2].Model.Sharpness {
			t.Errorf("%s: sharpness line through %v, %v; want steps 11 and 13", c.Flow, x, y)
		}
	}
	if _, err := FlowsSharpnessPlot([]string{"model"}, a); err != nil {
		t.Errorf("one comparison: %v", err)
	}

	other := *b
	other.Start = 11
	short := *b
	short.Rows = short.Rows[:2]
	for _, tc := range []struct {
		name  string
		names []string
		cs    []*eos.Comparison
	}{
		{"no comparisons", nil, nil},
		{"names mismatch", []string{"one"}, []*eos.Comparison{a, b}},
		{"nil comparison", nil, []*eos.Comparison{a, nil}},
		{"another start", nil, []*eos.Comparison{a, &other}},
		{"another length", nil, []*eos.Comparison{a, &short}},
	} {
		if _, err := FlowsLossPlot(tc.names, false, tc.cs...); err == nil {
			t.Errorf("FlowsLossPlot, %s: no error", tc.name)
		}
		if _, err := FlowsSharpnessPlot(tc.names, tc.cs...); err == nil {
			t.Errorf("FlowsSharpnessPlot, %s: no error", tc.name)
		}
	}
}

func TestOscillationPlot(t *testing.T) {
	// The last two entries of a trace's UNorm are NaN (they need later
	// iterates); the axis spans the rest, 1e-9 … 0.1, plus the legend's
	// headroom of 0.16 of the decades.
	tr := &eos.Trace{Step: []int{0, 1, 2, 3, 4}, UNorm: []float64{1e-9, 1e-5, 0.1, math.NaN(), math.NaN()}}
	p, err := OscillationPlot(tr)
	if err != nil {
		t.Fatal(err)
	}
	if want := 0.1 * math.Pow(1e8, 0.16); p.Y.Min != 1e-9 || math.Abs(p.Y.Max-want) > 1e-12*want {
		t.Errorf("y axis [%v, %v], want [1e-9, %v]", p.Y.Min, p.Y.Max, want)
	}
	if p.X.Min != 0 || p.X.Max != 2 {
		t.Errorf("step axis [%v, %v], want [0, 2]", p.X.Min, p.X.Max)
	}
	if _, err := PNG(Width, Height, []*plot.Plot{p}); err != nil {
		t.Fatal(err)
	}
	if _, err := OscillationPlot(&eos.Trace{}); err == nil {
		t.Error("empty trace accepted")
	}
}
