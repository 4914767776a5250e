package eos

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// manyFlows returns fresh instances of the flows CompareMany is tested with.
func manyFlows(t *testing.T, p Problem, eta float64) []Flow {
	t.Helper()
	fs := &FlowSettings{EigEvery: 5}
	fe, err := NewFreeEnergyFlow(p, eta, fs)
	if err != nil {
		t.Fatal(err)
	}
	gf, err := NewGradientFlow(p, eta, fs)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := NewCentralFlow(p, eta, nil)
	if err != nil {
		t.Fatal(err)
	}
	return []Flow{fe, gf, cf}
}

// manyBitsEqual reports whether a and b are the same float64, NaN included.
func manyBitsEqual(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) }

// sameComparison reports the first difference between two comparisons, bit
// for bit, or "" when there is none.
func sameComparison(a, b *Comparison) string {
	if a.Flow != b.Flow || a.Eta != b.Eta || a.Start != b.Start || len(a.Rows) != len(b.Rows) {
		return "header or row count"
	}
	for i, ra := range a.Rows {
		rb := b.Rows[i]
		if ra.Step != rb.Step {
			return "step"
		}
		for _, v := range [][2]float64{
			{ra.GDLoss, rb.GDLoss}, {ra.GDLossMean2, rb.GDLossMean2}, {ra.GDUNorm, rb.GDUNorm},
			{ra.GDFreeEnergy, rb.GDFreeEnergy}, {ra.GDSharpness, rb.GDSharpness},
			{ra.Model.LossMean, rb.Model.LossMean}, {ra.Model.LossLo, rb.Model.LossLo},
			{ra.Model.LossHi, rb.Model.LossHi}, {ra.Model.FreeEnergy, rb.Model.FreeEnergy},
			{ra.Model.Sharpness, rb.Model.Sharpness}, {ra.Model.UNorm, rb.Model.UNorm},
		} {
			if !manyBitsEqual(v[0], v[1]) {
				return "row values"
			}
		}
	}
	sa, sb := a.Summary, b.Summary
	for _, v := range [][2]float64{
		{sa.MedianRelErr, sb.MedianRelErr}, {sa.P95RelErr, sb.P95RelErr}, {sa.MaxRelErr, sb.MaxRelErr},
		{sa.FreeEnergyRiseFraction, sb.FreeEnergyRiseFraction}, {sa.GDLossRiseFraction, sb.GDLossRiseFraction},
		{sa.GDFreeEnergyRiseFraction, sb.GDFreeEnergyRiseFraction}, {sa.MaxFreeEnergyRelRise, sb.MaxFreeEnergyRelRise},
		{sa.GradEvalsPerStep, sb.GradEvalsPerStep}, {sa.HVPsPerStep, sb.HVPsPerStep},
	} {
		if !manyBitsEqual(v[0], v[1]) {
			return "summary"
		}
	}
	if sa.SpikesGD != sb.SpikesGD || sa.SpikesMatched != sb.SpikesMatched {
		return "spikes"
	}
	return ""
}

// The oracle is Compare itself: GD and every flow are deterministic, so
// running the flows on one GD run must give, bit for bit, what one Compare
// per flow gives, rows and summaries alike.
func TestCompareManyMatchesCompare(t *testing.T) {
	const eta = 0.077
	m, err := NewMatFact(3, DiagTarget(5.5, 1))
	if err != nil {
		t.Fatal(err)
	}
	x0 := make([]float64, m.Dim())
	m.InitScaled(x0, rand.New(rand.NewPCG(1, 2)), 0.3)
	for _, set := range []CompareSettings{
		{Start: 20, Steps: 150, GD: &GDSettings{EigEvery: 5}},
		{Start: 0, Steps: 40, SpikeRise: 0.01, SpikeWindow: 3, SpikeTol: 1},
	} {
		trace := &Trace{}
		progress := 0
		s := set
		if s.GD == nil {
			s.GD = &GDSettings{}
		}
		gd := *s.GD
		gd.Observers = []Observer{trace}
		s.GD = &gd
		s.Progress = func(CompareRow) error { progress++; return nil }
		many, err := CompareMany(m, x0, eta, manyFlows(t, m, eta), &s)
		if err != nil {
			t.Fatal(err)
		}
		if len(many) != 3 {
			t.Fatalf("%d comparisons, want 3", len(many))
		}
		if progress != set.Steps {
			t.Errorf("Progress saw %d rows, want the %d of the first flow", progress, set.Steps)
		}
		if want := set.Start + set.Steps + 3; len(trace.Loss) != want {
			t.Errorf("the caller's observer saw %d steps, want %d (one GD run)", len(trace.Loss), want)
		}
		for i, f := range manyFlows(t, m, eta) {
			one, err := Compare(m, x0, eta, f, &set)
			if err != nil {
				t.Fatal(err)
			}
			if d := sameComparison(many[i], one); d != "" {
				t.Errorf("start %d, flow %s: CompareMany differs from Compare in %s", set.Start, one.Flow, d)
			}
		}
	}
}

func TestCompareManyErrors(t *testing.T) {
	const eta = 0.077
	m, err := NewMatFact(3, DiagTarget(5.5, 1))
	if err != nil {
		t.Fatal(err)
	}
	x0 := make([]float64, m.Dim())
	m.InitScaled(x0, rand.New(rand.NewPCG(1, 2)), 0.3)
	if cs, err := CompareMany(m, x0, eta, nil, nil); err == nil || cs != nil {
		t.Errorf("no flows: %v, %v; want nil and an error", cs, err)
	}
	for _, set := range []CompareSettings{{Start: -1}, {Steps: -1}, {SpikeTol: -1}} {
		if cs, err := CompareMany(m, x0, eta, manyFlows(t, m, eta), &set); err == nil || cs != nil {
			t.Errorf("%+v: %v, %v; want nil and an error", set, cs, err)
		}
	}
	// A Progress error at the 10th row stops the one GD run: every flow
	// has the same rows so far.
	stop := errors.New("stop")
	seen := 0
	s := &CompareSettings{Start: 5, Steps: 50, Progress: func(CompareRow) error {
		seen++
		if seen == 10 {
			return stop
		}
		return nil
	}}
	cs, err := CompareMany(m, x0, eta, manyFlows(t, m, eta), s)
	if !errors.Is(err, stop) {
		t.Fatalf("error %v, want the Progress error", err)
	}
	for _, c := range cs {
		if len(c.Rows) != 10 {
			t.Errorf("flow %s: %d rows after the stop, want 10", c.Flow, len(c.Rows))
		}
	}
}
