package plotting

import (
	"math"
	"testing"

	"github.com/eoskit/eoskit/eos"
	"gonum.org/v1/plot"
)

// kineticFixture is a three-step kinetic run and a GD run whose extremes
// are known by construction.
func kineticFixture() (*eos.KineticRun, *eos.MeanFieldRun) {
	nan := math.NaN()
	kin := &eos.KineticRun{Particles: 8, Eta: 0.5, T: []float64{0, 0.5, 1},
		LSym: []float64{1, 0.5, 0.4}, EnvLow: []float64{0.9, 0.3, 0.2}, EnvHigh: []float64{1.1, 0.7, 0.6},
		Free: []float64{0.95, -0.1, 0.3}, Sharpness: []float64{nan, 3.5, 4.2}}
	gd := &eos.MeanFieldRun{Width: 16, Eta: 0.5, Loss: []float64{1.2, 0.8, 0.5}, LossMean2: []float64{1, 0.65},
		Sharpness: []float64{3, nan, 4.5}}
	return kin, gd
}

// axisTop is the top of an axis whose data reach hi, after legendRoom with
// the given entries: 0.08 of the height per entry plus one (in decades on a
// log axis).
func axisTop(lo, hi float64, entries int, logY bool) float64 {
	f := 0.08 * float64(entries+1)
	if logY {
		return hi * math.Pow(hi/lo, f)
	}
	return hi + f*(hi-lo)
}

func TestKineticPlots(t *testing.T) {
	kin, gd := kineticFixture()
	rates := &eos.EnergyRates{T: []float64{0.25, 0.75, 1.25}, FreeRate: []float64{-2, 0.5, 0},
		Dissipation: []float64{2, 0.1, 1}, Injection: []float64{0.01, 0.6, 1}, Residual: []float64{1e-6, 1e-3, math.NaN()}}

	loss, err := KineticLossPlot(kin, gd)
	if err != nil {
		t.Fatal(err)
	}
	sharp, err := KineticSharpnessPlot(kin, gd)
	if err != nil {
		t.Fatal(err)
	}
	free, err := KineticFreeEnergyPlot(kin)
	if err != nil {
		t.Fatal(err)
	}
	gd2 := &eos.MeanFieldRun{Width: 64, Loss: []float64{1}, LateLoss: 0.3}
	gd.LateLoss = 0.25
	kin2 := &eos.KineticRun{Particles: 4, Eta: 0.5, T: []float64{0}, LateLoss: 0.35}
	kin.LateLoss = 0.2
	width, err := KineticWidthPlot([]*eos.MeanFieldRun{gd, gd2}, []*eos.KineticRun{kin2, kin})
	if err != nil {
		t.Fatal(err)
	}
	rp, res, err := EnergyRatesPlots(rates)
	if err != nil {
		t.Fatal(err)
	}
	// Oracle: the extremes of the fixture by hand. The kinetic run's steps
	// are T/η = 0, 1, 2; a log axis leaves out F = −0.1 and the NaN
	// residual (so the residual panel ends at t = 0.75); the sharpness axis
	// holds 2/η = 4 inside the data.
	for _, tc := range []struct {
		name           string
		p              *plot.Plot
		xMin, xMax     float64
		yMin, yMaxData float64
		entries        int
		logY           bool
	}{
		{"loss", loss, 0, 2, 0.4, 1, 2, true},
		{"sharpness", sharp, 0, 2, 3, 4.5, 3, false},
		{"free energy", free, 0, 1, 0.3, 1, 2, true},
		{"rates", rp, 0.25, 1.25, 0.01, 2, 4, true},
		{"residual", res, 0.25, 0.75, 1e-6, 1e-3, 1, true},
		// Widths 4, 8 (kinetic), 16, 64 (GD); late losses 0.2 to 0.35.
		{"width", width, 4, 64, 0.2, 0.35, 2, false},
	} {
		want := axisTop(tc.yMin, tc.yMaxData, tc.entries, tc.logY)
		if tc.p.X.Min != tc.xMin || tc.p.X.Max != tc.xMax || tc.p.Y.Min != tc.yMin || math.Abs(tc.p.Y.Max-want) > 1e-12*want {
			t.Errorf("%s: axes [%v, %v] × [%v, %v], want [%v, %v] × [%v, %v]",
				tc.name, tc.p.X.Min, tc.p.X.Max, tc.p.Y.Min, tc.p.Y.Max, tc.xMin, tc.xMax, tc.yMin, want)
		}
	}
	if _, err := PNG(Width, Height, []*plot.Plot{loss, sharp, free}, []*plot.Plot{rp, res, width}); err != nil {
		t.Fatal(err)
	}

	if _, err := KineticLossPlot(nil, gd); err == nil {
		t.Error("nil kinetic run accepted")
	}
	if _, err := KineticSharpnessPlot(&eos.KineticRun{}, gd); err == nil {
		t.Error("empty kinetic run accepted")
	}
	if _, err := KineticLossPlot(kin, gd, nil); err == nil {
		t.Error("nil GD run accepted")
	}
	if _, err := KineticFreeEnergyPlot(nil); err == nil {
		t.Error("nil kinetic run accepted by the free-energy plot")
	}
	if _, err := KineticWidthPlot(nil, []*eos.KineticRun{kin}); err == nil {
		t.Error("width plot without GD runs accepted")
	}
	if _, err := KineticWidthPlot([]*eos.MeanFieldRun{gd}, []*eos.KineticRun{{}}); err == nil {
		t.Error("width plot with an empty kinetic run accepted")
	}
	if _, _, err := EnergyRatesPlots(&eos.EnergyRates{}); err == nil {
		t.Error("empty rates accepted")
	}
}
