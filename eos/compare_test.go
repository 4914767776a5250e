package eos

import (
	"errors"
	"fmt"
	"log"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/floats"
)

// Started on a period-2 orbit, the model sits at its fixed point and every
// row agrees with GD up to rounding: the time alignment is exact there.
func TestCompareOnOrbit(t *testing.T) {
	m := newMFProblem(t, 5.5)
	x0, _ := mfOrbit(t, m, 1)
	f, err := NewFreeEnergyFlow(m, mfEta, &FlowSettings{EigEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	const steps = 50
	cmp, err := Compare(m, x0, mfEta, f, &CompareSettings{Start: 0, Steps: steps, GD: &GDSettings{EigEvery: -1}})
	if err != nil {
		t.Fatal(err)
	}
	if len(cmp.Rows) != steps || cmp.Rows[0].Step != 1 || cmp.Rows[steps-1].Step != steps {
		t.Fatalf("rows for steps %d…%d (%d), want 1…%d", cmp.Rows[0].Step, cmp.Rows[len(cmp.Rows)-1].Step, len(cmp.Rows), steps)
	}
	for _, r := range cmp.Rows {
		for _, c := range []struct {
			name      string
			got, want float64
		}{
			{"LossMean", r.Model.LossMean, r.GDLossMean2},
			{"UNorm", r.Model.UNorm, r.GDUNorm},
			{"FreeEnergy", r.Model.FreeEnergy, r.GDFreeEnergy},
			{"LossLo/Hi", r.Model.LossLo + r.Model.LossHi, 2 * r.GDLossMean2},
		} {
			if math.Abs(c.got-c.want) > 1e-12*math.Abs(c.want) {
				t.Errorf("step %d: model %s %v, GD %v", r.Step, c.name, c.got, c.want)
			}
		}
	}
	s := cmp.Summary
	// The raw loss alternates: 25 rises in 49 pairs when it starts low,
	// 24 when it starts high.
	if s.GDLossRiseFraction != 24.0/49 && s.GDLossRiseFraction != 25.0/49 {
		t.Errorf("GD loss rise fraction %v, want 24/49 or 25/49", s.GDLossRiseFraction)
	}
	if s.FreeEnergyRiseFraction != 0 || s.GDFreeEnergyRiseFraction != 0 {
		t.Errorf("F rose on a fixed point: model %v, GD %v", s.FreeEnergyRiseFraction, s.GDFreeEnergyRiseFraction)
	}
	if s.MaxRelErr > 1e-12 || s.SpikesGD != 0 {
		t.Errorf("max error %v and %d spikes on a fixed point", s.MaxRelErr, s.SpikesGD)
	}
	// RK4 with one step per η: 8 gradients per step, over a flow time of
	// Steps − ½ steps which the half step at the start (one RK4 step of
	// η/2) also costs 8.
	if want := 8.0 * steps / (steps - 0.5); math.Abs(s.GradEvalsPerStep-want) > 1e-12 {
		t.Errorf("%v gradients per step, want %v", s.GradEvalsPerStep, want)
	}
}

// Under a slow drift the pairing of GD's two-step mean (centred at k+½)
// with the flow at k+½ is right to second order. On E = ½λθ² with a = ηλ
// small, expanding GD (factor 1 − a per step) and the flow (e^{−λt}) gives a
// first-row relative error a²/2 + O(a³); pairing with the flow at k or k+1
// instead would leave an error of a.
func TestCompareAlignment(t *testing.T) {
	const eta = 0.1
	for _, a := range []float64{0.01, 0.05, 0.1} {
		q := NewQuadratic([]float64{a / eta}, nil)
		for _, fc := range flowConstructors {
			if fc.name == "covariance" {
				continue // same as free-energy on a quadratic
			}
			f, err := fc.make(q, eta, &FlowSettings{Substeps: 8, EigEvery: -1})
			if err != nil {
				t.Fatal(err)
			}
			cmp, err := Compare(q, []float64{1}, eta, f, &CompareSettings{Start: 3, Steps: 1, GD: &GDSettings{EigEvery: -1}})
			if err != nil {
				t.Fatal(err)
			}
			e := cmp.Summary.MaxRelErr
			if e > a*a || e < a*a/4 {
				t.Errorf("%s, ηλ = %g: first-row error %.3g, want about %.3g", fc.name, a, e, a*a/2)
			}
			t.Logf("%s, ηλ = %g: first-row error %.3g, a²/2 = %.3g", fc.name, a, e, a*a/2)
		}
	}
}

// The GD half of each row is checked against an independent GD run recorded
// by a Trace: losses, two-step means, oscillation sizes and GD's F from the
// recorded iterates, and sharpness where GD measured it.
func TestCompareGDRows(t *testing.T) {
	m := newMFProblem(t, 5.5)
	x0 := make([]float64, m.Dim())
	m.Init(x0, rand.New(rand.NewPCG(1, 2)))
	f, err := NewGradientFlow(m, mfEta, nil)
	if err != nil {
		t.Fatal(err)
	}
	const start, steps = 5, 20
	var seen []int
	cmp, err := Compare(m, x0, mfEta, f, &CompareSettings{
		Start: start, Steps: steps, GD: &GDSettings{EigEvery: 2},
		Progress: func(r CompareRow) error { seen = append(seen, r.Step); return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	var tr Trace
	tr.KeepIterates = true
	x := append([]float64(nil), x0...)
	if _, err := GD(x, m, mfEta, &GDSettings{Steps: start + steps + 2, EigEvery: 2, Observers: []Observer{&tr}}); err != nil {
		t.Fatal(err)
	}
	if len(seen) != steps {
		t.Errorf("Progress saw %d rows, want %d", len(seen), steps)
	}
	c, u := make([]float64, m.Dim()), make([]float64, m.Dim())
	for i, r := range cmp.Rows {
		k := start + 1 + i
		if r.Step != k || seen[i] != k {
			t.Fatalf("row %d is step %d (Progress saw %d), want %d", i, r.Step, seen[i], k)
		}
		Centre(c, tr.Iterates[k], tr.Iterates[k+1], tr.Iterates[k+2])
		Oscillation(u, tr.Iterates[k], tr.Iterates[k+1], tr.Iterates[k+2])
		_, fe := FreeEnergy(m, mfEta, c, u)
		same := func(a, b float64) bool { return a == b || (math.IsNaN(a) && math.IsNaN(b)) }
		if !same(r.GDLoss, tr.Loss[k]) || !same(r.GDLossMean2, tr.LossMean2[k]) ||
			!same(r.GDUNorm, tr.UNorm[k]) || !same(r.GDFreeEnergy, fe) || !same(r.GDSharpness, tr.Sharpness[k]) {
			t.Errorf("step %d: row %+v, trace loss %v mean2 %v u %v F %v sharpness %v",
				k, r, tr.Loss[k], tr.LossMean2[k], tr.UNorm[k], fe, tr.Sharpness[k])
		}
	}
	// Gradient flow has F = E, which never rises (beyond rounding).
	if cmp.Summary.FreeEnergyRiseFraction != 0 {
		t.Errorf("gradient flow's F rose in %v of the steps", cmp.Summary.FreeEnergyRiseFraction)
	}
}

// A diverging GD stops the comparison with the *DivergenceError and the rows
// completed so far: a row needs the two iterates after it, so the rows are
// steps Start+1 … Step−3 for a divergence detected at step Step.
func TestCompareDivergence(t *testing.T) {
	const eta = 0.1
	// ηλ = 3: GD multiplies θ by −2 per step.
	q := NewQuadratic([]float64{3 / eta}, nil)
	f, err := NewFreeEnergyFlow(q, eta, nil)
	if err != nil {
		t.Fatal(err)
	}
	const start = 2
	cmp, err := Compare(q, []float64{1}, eta, f, &CompareSettings{Start: start, Steps: 100})
	var div *DivergenceError
	if !errors.As(err, &div) {
		t.Fatalf("error %v, want a *DivergenceError", err)
	}
	if cmp == nil || len(cmp.Rows) != div.Step-3-start {
		t.Fatalf("diverged at step %d with %v, want %d rows", div.Step, cmp, div.Step-3-start)
	}
	if cmp.Rows[len(cmp.Rows)-1].Step != div.Step-3 {
		t.Errorf("last row is step %d, want %d", cmp.Rows[len(cmp.Rows)-1].Step, div.Step-3)
	}
}

func TestCompareErrors(t *testing.T) {
	q := NewQuadratic([]float64{1, 2}, nil)
	x := []float64{1, 1}
	f, err := NewGradientFlow(q, 0.1, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		eta  float64
		s    *CompareSettings
		want string
	}{
		{0.1, &CompareSettings{Start: -1}, "Start = -1"},
		{0.1, &CompareSettings{Steps: -2}, "Steps = -2"},
		{0.1, &CompareSettings{SpikeRise: math.NaN()}, "SpikeRise = NaN"},
		{0.1, &CompareSettings{SpikeWindow: -1}, "SpikeWindow = -1"},
		{0.1, &CompareSettings{SpikeTol: -1}, "SpikeTol = -1"},
		{0, nil, "η = 0"},
		{0.1, &CompareSettings{GD: &GDSettings{EigK: 3}}, "EigK = 3"},
	} {
		cmp, err := Compare(q, x, tc.eta, f, tc.s)
		if err == nil || !strings.Contains(err.Error(), tc.want) || cmp != nil {
			t.Errorf("%+v: %v, %v; want a nil comparison and an error naming %q", tc.s, cmp, err, tc.want)
		}
	}

	// An error from Progress stops the run after the row it was given.
	stop := errors.New("stop")
	cmp, err := Compare(q, x, 0.1, f, &CompareSettings{Steps: 10, Progress: func(r CompareRow) error {
		if r.Step == 3 {
			return stop
		}
		return nil
	}})
	if !errors.Is(err, stop) || cmp == nil || len(cmp.Rows) != 3 {
		t.Errorf("Progress error: %v with %v, want the error and 3 rows", err, cmp)
	}

	// GD's observers from the settings see every step, and the caller's
	// settings are not modified.
	var tr Trace
	gs := &GDSettings{Observers: []Observer{&tr}}
	if _, err := Compare(q, x, 0.1, f, &CompareSettings{Steps: 4, GD: gs}); err != nil {
		t.Fatal(err)
	}
	if len(tr.Step) != 7 || len(gs.Observers) != 1 || gs.Steps != 0 {
		t.Errorf("caller's observer saw %d steps, want 7; settings now %+v", len(tr.Step), gs)
	}
	if floats.Norm(x, 2) != math.Sqrt2 {
		t.Errorf("x0 modified to %v", x)
	}
}

// The free-energy model against GD on the paper's matrix factorisation,
// started from GD's iterates at step 20.
func ExampleCompare() {
	m, err := NewMatFact(3, DiagTarget(5.5, 1))
	if err != nil {
		log.Fatal(err)
	}
	const eta = 0.077
	x0 := make([]float64, m.Dim())
	m.Init(x0, rand.New(rand.NewPCG(1, 2)))
	f, err := NewFreeEnergyFlow(m, eta, nil)
	if err != nil {
		log.Fatal(err)
	}
	cmp, err := Compare(m, x0, eta, f, &CompareSettings{Start: 20, Steps: 200, GD: &GDSettings{EigEvery: -1}})
	if err != nil {
		log.Fatal(err)
	}
	s := cmp.Summary
	fmt.Printf("rows for steps %d to %d\n", cmp.Rows[0].Step, cmp.Rows[len(cmp.Rows)-1].Step)
	fmt.Printf("median relative error below 1e-4: %t\n", s.MedianRelErr < 1e-4)
	fmt.Printf("GD's loss rose in %.0f%% of the steps, the model's F in %.0f%%\n",
		100*s.GDLossRiseFraction, 100*s.FreeEnergyRiseFraction)
	// Output:
	// rows for steps 21 to 220
	// median relative error below 1e-4: true
	// GD's loss rose in 50% of the steps, the model's F in 0%
}
