package eos

import (
	"math"
	"testing"

	"github.com/eoskit/eoskit/data"
)

func TestKineticEnergyRates(t *testing.T) {
	// Oracle: the definitions, worked by hand on a made-up record with
	// η = 0.5 and one warm-up step (entry 0 is not a step of the flow).
	nan := math.NaN()
	r := &KineticRun{
		Eta:         0.5,
		Warmup:      1,
		T:           []float64{0, 0.5, 1, 1.5, 2, 2.5},
		Free:        []float64{9, 5, 4, 4.5, 4.6, 4.6},
		FloorWork:   []float64{0, 0, 0.25, 0.25, 0.25, 0.25},
		Dissipation: []float64{0, 0, 1, 1.5, 2, 2},
		Injection:   []float64{0, 0, 0.3, 1.5, 1.75, 1.75},
	}
	e := KineticEnergyRates(r)
	want := EnergyRates{
		T:           []float64{0.75, 1.25, 1.75, 2.25},
		FreeRate:    []float64{(4 - 5 - 0.25) / 0.5, (4.5 - 4) / 0.5, (4.6 - 4.5) / 0.5, 0},
		Dissipation: []float64{2, 1, 1, 0},
		Injection:   []float64{0.6, 2.4, 0.5, 0},
		Residual:    []float64{1.1 / 2.6, 0.4 / 3.4, 0.7 / 1.5, nan},
		MaxResidual: 0.7 / 1.5,
		// Steps 2 and 3 rise; in step 3 F rises while I − D < 0.
		Rises:          2,
		SignMismatches: 1,
	}
	same := func(a, b float64) bool {
		return (math.IsNaN(a) && math.IsNaN(b)) || math.Abs(a-b) <= 1e-14*math.Max(1, math.Abs(b))
	}
	for _, col := range []struct {
		name      string
		got, want []float64
	}{
		{"T", e.T, want.T},
		{"FreeRate", e.FreeRate, want.FreeRate},
		{"Dissipation", e.Dissipation, want.Dissipation},
		{"Injection", e.Injection, want.Injection},
		{"Residual", e.Residual, want.Residual},
	} {
		if len(col.got) != len(col.want) {
			t.Fatalf("%s has %d entries, want %d", col.name, len(col.got), len(col.want))
		}
		for i := range col.got {
			if !same(col.got[i], col.want[i]) {
				t.Errorf("%s[%d] = %v, want %v", col.name, i, col.got[i], col.want[i])
			}
		}
	}
	if !same(e.MaxResidual, want.MaxResidual) || e.Rises != want.Rises || e.SignMismatches != want.SignMismatches {
		t.Errorf("MaxResidual %v, Rises %d, SignMismatches %d; want %v, %d, %d",
			e.MaxResidual, e.Rises, e.SignMismatches, want.MaxResidual, want.Rises, want.SignMismatches)
	}
}

func TestKineticEnergyRatesOrder(t *testing.T) {
	// Oracle: the identity holds exactly for the flow, so the residual of
	// a step is the local error of RK4 over s substeps of η/s, of order
	// s·(η/s)⁵ relative to the step's change: halving the substep divides
	// it by 16. The teacher–student regime of the kinetic tests (targets of
	// data.Teacher times 3, η = 0.8, M = 32), started at the noise floor
	// 1e-3 with no warm-up, so that the 30 steps hold the catapult.
	set, err := data.Teacher(&data.Options{N: 200, InputDim: 5, TeacherWidth: 3, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	set.Y.Scale(3, set.Y)
	m, err := NewMeanField(set.X, set.Y, &MeanFieldConfig{Width: 32})
	if err != nil {
		t.Fatal(err)
	}
	var prev float64
	for _, sub := range []int{2, 4, 8} {
		run, err := RunKinetic(m, 0.8, &KineticSettings{Steps: 30, Warmup: -1, Substeps: sub, NoiseFloor: 1e-3, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		e := KineticEnergyRates(run)
		if len(e.T) != 30 {
			t.Fatalf("substeps %d: %d steps of rates, want 30", sub, len(e.T))
		}
		t.Logf("substeps %d: largest step residual %.3g, F rises in %d steps, sign mismatches %d", sub, e.MaxResidual, e.Rises, e.SignMismatches)
		if sub > 2 {
			if ratio := prev / e.MaxResidual; !(ratio > 12) {
				t.Errorf("substeps %d: residual ratio %.3g for a halved step, want > 12 (fourth order gives 16)", sub, ratio)
			}
		}
		prev = e.MaxResidual
	}
}
