package eos

import (
	"errors"
	"math"
	"slices"
	"testing"

	"gonum.org/v1/gonum/floats"
)

// sweepFactorisation is the family of the period-doubling diagram: depth 3,
// target diag(v, 1).
func sweepFactorisation(v float64) (Problem, error) { return NewMatFact(3, DiagTarget(v, 1)) }

func TestSweepMatFact(t *testing.T) {
	const eta = 0.077
	m, err := NewMatFact(3, DiagTarget(5.5, 1))
	if err != nil {
		t.Fatal(err)
	}
	x0 := cycleTestInit(m)
	x0copy := slices.Clone(x0)
	values := []float64{4.8, 5.5, 6, 6.3, 6.4}
	var seen []int
	pts, err := Sweep(values, sweepFactorisation, x0, eta, &SweepSettings{
		Progress: func(i int, pt *SweepPoint) error {
			seen = append(seen, i)
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(x0, x0copy) {
		t.Error("Sweep modified x0")
	}
	if !slices.Equal(seen, []int{0, 1, 2, 3, 4}) {
		t.Errorf("Progress saw indices %v, want 0 … 4", seen)
	}
	if len(pts) != len(values) {
		t.Fatalf("%d points for %d values", len(pts), len(values))
	}

	// Oracle for the late losses: the tail of a Trace of the same GD run.
	tr := &Trace{}
	x := slices.Clone(x0)
	if _, err := GD(x, m, eta, &GDSettings{Steps: 4000, EigEvery: -1, Observers: []Observer{tr}}); err != nil {
		t.Fatal(err)
	}
	if want := tr.Loss[len(tr.Loss)-128:]; !slices.Equal(pts[1].Late, want) {
		t.Errorf("late losses at 5.5 differ from the last 128 losses of a traced run")
	}

	// σ_1 = 4.8: the balanced minimum's sharpness L σ_1^{2−2/L} ≈ 24.2 is
	// below 2/η ≈ 25.97, so GD converges and u collapses.
	if p := pts[0]; p.Period != 1 || p.Model != nil || !errors.Is(p.ModelErr, ErrNoPeriodTwo) {
		t.Errorf("σ_1 = 4.8: period %d, model %v, error %v; want period 1 and no fixed point", p.Period, p.Model, p.ModelErr)
	}
	// σ_1 = 5.5: GD settles on a period-2 orbit, which is the model's
	// fixed point: its two losses are GD's late losses.
	if p := pts[1]; p.Period != 2 || p.Model == nil {
		t.Errorf("σ_1 = 5.5: period %d, model error %v; want period 2 and a fixed point", p.Period, p.ModelErr)
	} else {
		lo, hi := slices.Min(p.Late), slices.Max(p.Late)
		if math.Abs(p.Model.LossLo-lo) > 1e-9*lo || math.Abs(p.Model.LossHi-hi) > 1e-9*hi {
			t.Errorf("σ_1 = 5.5: model losses [%.12g, %.12g], GD's late losses [%.12g, %.12g]", p.Model.LossLo, p.Model.LossHi, lo, hi)
		}
	}
	// Beyond the period-doubling the fixed point persists though GD leaves
	// it: check each against GD itself, two steps from θ̄ + u back to θ̄ + u.
	for _, p := range pts[2:] {
		if p.Model == nil {
			t.Errorf("σ_1 = %v: no fixed point (%v)", p.Value, p.ModelErr)
			continue
		}
		pm, _ := sweepFactorisation(p.Value)
		start := make([]float64, pm.Dim())
		floats.AddTo(start, p.Model.Centre, p.Model.U)
		y := slices.Clone(start)
		if _, err := GD(y, pm, eta, &GDSettings{Steps: 2, EigEvery: -1}); err != nil {
			t.Fatal(err)
		}
		if d := floats.Distance(y, start, math.Inf(1)); d > 1e-10 {
			t.Errorf("σ_1 = %v: two GD steps from θ̄ + u end %.3g away from it", p.Value, d)
		}
		if p.Period == 2 || p.Period == 1 {
			t.Errorf("σ_1 = %v: period %d, want a period-doubled or aperiodic orbit", p.Value, p.Period)
		}
	}
}

func TestSweepDivergence(t *testing.T) {
	// Oracle: GD on E = ½λx² multiplies x by 1 − ηλ: with η = 0.1 it
	// converges for λ = 5 (factor 0.5, the loss underflows below the floor)
	// and diverges for λ = 30 (factor −2).
	family := func(v float64) (Problem, error) { return NewQuadratic([]float64{v}, nil), nil }
	pts, err := Sweep([]float64{5, 30}, family, []float64{1}, 0.1, &SweepSettings{Steps: 2000})
	if err != nil {
		t.Fatal(err)
	}
	if p := pts[0]; p.Diverged || p.Period != 1 || len(p.Late) != 128 {
		t.Errorf("λ = 5: diverged %v, period %d, %d late losses; want converged, period 1, 128", p.Diverged, p.Period, len(p.Late))
	}
	if p := pts[1]; !p.Diverged || p.Late != nil || p.Period != 0 || !errors.Is(p.ModelErr, ErrNoPeriodTwo) {
		t.Errorf("λ = 30: diverged %v, late %v, period %d, model error %v; want a recorded divergence", p.Diverged, p.Late, p.Period, p.ModelErr)
	}
}

func TestSweepErrors(t *testing.T) {
	x0 := []float64{1}
	family := func(v float64) (Problem, error) { return NewQuadratic([]float64{v}, nil), nil }
	for _, tc := range []struct {
		name string
		eta  float64
		s    *SweepSettings
	}{
		{"eta negative", -0.1, nil},
		{"eta +Inf", math.Inf(1), nil},
		{"Steps 1", 0.1, &SweepSettings{Steps: 1}},
		{"Steps negative", 0.1, &SweepSettings{Steps: -5}},
		{"Late negative", 0.1, &SweepSettings{Late: -1}},
		{"Late above Steps+1", 0.1, &SweepSettings{Steps: 10, Late: 12}},
		{"PeriodTol 1", 0.1, &SweepSettings{PeriodTol: 1}},
		{"LossFloor negative", 0.1, &SweepSettings{LossFloor: -1}},
		{"LossFloor +Inf", 0.1, &SweepSettings{LossFloor: math.Inf(1)}},
		{"PeriodTwo.Tol 2", 0.1, &SweepSettings{PeriodTwo: &PeriodTwoSettings{Tol: 2}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pts, err := Sweep([]float64{1}, family, x0, tc.eta, tc.s)
			if err == nil || pts != nil {
				t.Errorf("points %v, error %v; want no points and an error", pts, err)
			}
		})
	}

	// A failing problem constructor and a failing Progress stop the sweep
	// and return the points so far.
	bad := errors.New("no such problem")
	pts, err := Sweep([]float64{1, 2, 3}, func(v float64) (Problem, error) {
		if v == 2 {
			return nil, bad
		}
		return family(v)
	}, x0, 0.1, &SweepSettings{Steps: 10, Late: 4})
	if !errors.Is(err, bad) || len(pts) != 1 {
		t.Errorf("failing constructor: %d points, error %v; want 1 point and the constructor's error", len(pts), err)
	}
	stop := errors.New("stop")
	pts, err = Sweep([]float64{1, 2, 3}, family, x0, 0.1, &SweepSettings{Steps: 10, Late: 4,
		Progress: func(i int, _ *SweepPoint) error {
			if i == 1 {
				return stop
			}
			return nil
		}})
	if !errors.Is(err, stop) || len(pts) != 2 {
		t.Errorf("failing Progress: %d points, error %v; want 2 points and Progress's error", len(pts), err)
	}
}

func TestPeriodTwoAgreement(t *testing.T) {
	// Oracle: the relative differences by hand. Only the two period-2
	// points with a model count: 0.01/1 and 0.1/2 at the first, 0.02/0.5
	// at the second.
	pts := []SweepPoint{
		{Period: 1, Late: []float64{1e-28}},
		{Period: 2, Late: []float64{1, 2, 1, 2}, Model: &PeriodTwo{LossLo: 1.01, LossHi: 2.1}},
		{Period: 2, Late: []float64{0.5, 3}, Model: &PeriodTwo{LossLo: 0.52, LossHi: 3}},
		{Period: 2, Late: []float64{0.5, 3}},
		{Period: 4, Late: []float64{1, 9, 2, 8}, Model: &PeriodTwo{LossLo: 3, LossHi: 6}},
	}
	got, n := PeriodTwoAgreement(pts)
	if n != 2 || math.Abs(got-0.05) > 1e-15 {
		t.Errorf("PeriodTwoAgreement = %v over %d points, want 0.05 over 2", got, n)
	}
	if got, n := PeriodTwoAgreement(pts[:1]); !math.IsNaN(got) || n != 0 {
		t.Errorf("no period-2 point: %v over %d points, want NaN over 0", got, n)
	}
}
