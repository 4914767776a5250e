package eos

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/eoskit/eoskit/eos/ode"
)

var errStopHere = errors.New("stop here")

// sameRows reports the first row where a and b differ in any bit, -1 if
// none.
func sameRows(a, b []CompareRow) int {
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	bits := func(r CompareRow) [12]uint64 {
		m := r.Model
		var v [12]uint64
		for i, f := range [...]float64{float64(r.Step), r.GDLoss, r.GDLossMean2, r.GDUNorm, r.GDFreeEnergy, r.GDSharpness,
			m.LossMean, m.LossLo, m.LossHi, m.FreeEnergy, m.Sharpness, m.UNorm} {
			v[i] = math.Float64bits(f)
		}
		return v
	}
	for i := range a {
		if bits(a[i]) != bits(b[i]) {
			return i
		}
	}
	return -1
}

// TestCompareResume stops comparisons of every flow at a checkpoint, passes
// the checkpoint through its file encoding, resumes with a fresh flow, and
// checks that the rows, the summary and the cost are those of the run that
// was not stopped, bit for bit (the oracle). The stops fall before the flow
// starts, at its start, and in the middle; the sharpness is measured by GD
// and the flows, so the eigensolvers' warm starts are carried too.
func TestCompareResume(t *testing.T) {
	const eta = 0.077
	p, err := NewMatFact(3, DiagTarget(5.5, 1))
	if err != nil {
		t.Fatal(err)
	}
	x0 := make([]float64, p.Dim())
	p.Init(x0, rand.New(rand.NewPCG(1, 2)))
	adaptive := &FlowSettings{Controller: &ode.PIController{RelTol: 1e-8, AbsTol: 1e-10}, EigEvery: 3}
	flows := []struct {
		name string
		make func() Flow
	}{
		{"free-energy", func() Flow { f, _ := NewFreeEnergyFlow(p, eta, &FlowSettings{EigEvery: 2}); return f }},
		{"free-energy dopri5", func() Flow { f, _ := NewFreeEnergyFlow(p, eta, adaptive); return f }},
		{"covariance", func() Flow { f, _ := NewCovarianceFlow(p, eta, nil); return f }},
		{"gradient", func() Flow { f, _ := NewGradientFlow(p, eta, &FlowSettings{EigEvery: -1}); return f }},
		{"central", func() Flow { f, _ := NewCentralFlow(p, eta, nil); return f }},
	}
	set := func() *CompareSettings {
		return &CompareSettings{Start: 30, Steps: 60, GD: &GDSettings{EigEvery: 5}}
	}
	for _, fl := range flows {
		want, err := Compare(p, x0, eta, fl.make(), set())
		if err != nil {
			t.Fatalf("%s: %v", fl.name, err)
		}
		for _, stop := range []int{10, 32, 33, 71, 92} {
			s := set()
			var ck *Checkpoint
			s.Checkpoint = func(k int, save func() (*Checkpoint, error)) error {
				if k != stop {
					return nil
				}
				c, err := save()
				if err != nil {
					return err
				}
				// Through the file format, as a resumed command reads it.
				b, err := c.MarshalBinary()
				if err != nil {
					return err
				}
				ck = &Checkpoint{}
				if err := ck.UnmarshalBinary(b); err != nil {
					return err
				}
				return errStopHere
			}
			part, err := Compare(p, x0, eta, fl.make(), s)
			if !errors.Is(err, errStopHere) || ck == nil {
				t.Fatalf("%s stopped before step %d: error %v, checkpoint %v", fl.name, stop, err, ck != nil)
			}
			if len(part.Rows) != max(0, stop-1-2-30) {
				t.Errorf("%s stopped before step %d: %d rows, want %d", fl.name, stop, len(part.Rows), max(0, stop-3-30))
			}
			s = set()
			s.Resume = ck
			// x0 is not used on resume: pass another point to show it.
			got, err := Compare(p, make([]float64, p.Dim()), eta, fl.make(), s)
			if err != nil {
				t.Fatalf("%s resumed before step %d: %v", fl.name, stop, err)
			}
			if i := sameRows(got.Rows, want.Rows); i >= 0 {
				t.Errorf("%s resumed before step %d: rows differ from row %d", fl.name, stop, i)
			}
			if !sameSummaryButNaN(got.Summary, want.Summary) {
				t.Errorf("%s resumed before step %d: summary %+v, want %+v", fl.name, stop, got.Summary, want.Summary)
			}
		}
	}
}

// sameSummaryButNaN compares summaries whose NaN fields are NaN in both.
func sameSummaryButNaN(a, b CompareSummary) bool {
	same := func(x, y float64) bool { return x == y || math.IsNaN(x) && math.IsNaN(y) }
	return same(a.MedianRelErr, b.MedianRelErr) && same(a.P95RelErr, b.P95RelErr) && same(a.MaxRelErr, b.MaxRelErr) &&
		same(a.FreeEnergyRiseFraction, b.FreeEnergyRiseFraction) && same(a.MaxFreeEnergyRelRise, b.MaxFreeEnergyRelRise) &&
		same(a.GDLossRiseFraction, b.GDLossRiseFraction) && same(a.GDFreeEnergyRiseFraction, b.GDFreeEnergyRiseFraction) &&
		same(a.GradEvalsPerStep, b.GradEvalsPerStep) && same(a.HVPsPerStep, b.HVPsPerStep) &&
		a.SpikesGD == b.SpikesGD && a.SpikesMatched == b.SpikesMatched
}

// TestCompareResumeRefused resumes from checkpoints that do not belong to
// the comparison: each is refused with an error naming the mismatch.
func TestCompareResumeRefused(t *testing.T) {
	const eta = 0.077
	p, _ := NewMatFact(3, DiagTarget(5.5, 1))
	x0 := make([]float64, p.Dim())
	p.Init(x0, rand.New(rand.NewPCG(1, 2)))
	var ck *Checkpoint
	s := &CompareSettings{Start: 10, Steps: 30, GD: &GDSettings{EigEvery: 5}, Checkpoint: func(k int, save func() (*Checkpoint, error)) error {
		if k == 25 {
			var err error
			ck, err = save()
			return err
		}
		return nil
	}}
	fe, _ := NewFreeEnergyFlow(p, eta, nil)
	if _, err := Compare(p, x0, eta, fe, s); err != nil || ck == nil {
		t.Fatalf("error %v, checkpoint %v", err, ck != nil)
	}
	gdCk, _ := NewGDCheckpoint(&GDState{K: 3, X: x0, LossBound: 1}, nil, nil)
	p2, _ := NewMatFact(4, DiagTarget(5.5, 1))
	for _, tc := range []struct {
		name string
		p    Problem
		eta  float64
		flow func() Flow
		set  CompareSettings
		ck   *Checkpoint
		want string
	}{
		{"other flow", p, eta, func() Flow { f, _ := NewGradientFlow(p, eta, nil); return f }, CompareSettings{Start: 10, Steps: 30, GD: &GDSettings{EigEvery: 5}}, ck, "free-energy flow, not of a gradient flow"},
		{"other window", p, eta, func() Flow { f, _ := NewFreeEnergyFlow(p, eta, nil); return f }, CompareSettings{Start: 10, Steps: 40, GD: &GDSettings{EigEvery: 5}}, ck, "compares steps 11 to 40"},
		{"other eta", p, 0.07, func() Flow { f, _ := NewFreeEnergyFlow(p, 0.07, nil); return f }, CompareSettings{Start: 10, Steps: 30, GD: &GDSettings{EigEvery: 5}}, ck, "η = 0.077"},
		{"no sharpness", p, eta, func() Flow { f, _ := NewFreeEnergyFlow(p, eta, nil); return f }, CompareSettings{Start: 10, Steps: 30, GD: &GDSettings{EigEvery: -1}}, ck, "measures no sharpness"},
		{"other problem", p2, eta, func() Flow { f, _ := NewFreeEnergyFlow(p2, eta, nil); return f }, CompareSettings{Start: 10, Steps: 30, GD: &GDSettings{EigEvery: 5}}, ck, "dimension"},
		{"a GD checkpoint", p, eta, func() Flow { f, _ := NewFreeEnergyFlow(p, eta, nil); return f }, CompareSettings{Start: 10, Steps: 30}, gdCk, "not of a comparison run"},
	} {
		set := tc.set
		set.Resume = tc.ck
		x := make([]float64, tc.p.Dim())
		cmp, err := Compare(tc.p, x, tc.eta, tc.flow(), &set)
		if err == nil || cmp != nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: comparison %v, error %v, want one containing %q", tc.name, cmp != nil, err, tc.want)
		}
	}
}
