package eos

import (
	"math"
	"testing"
)

func TestGrowthFactor(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		name   string
		series []float64
		want   float64 // NaN for none
	}{
		// Oracle: geometric sequences s_k = s_0 r^k, whose factor is r.
		{"growing", []float64{2, 2.2, 2.42, 2.662}, 1.1},
		{"decaying", []float64{1, 0.5, 0.25, 0.125, 0.0625}, 0.5},
		{"NaN tail and head", []float64{nan, 3, 3 * 1.5, 3 * 1.5 * 1.5, nan, nan}, 1.5},
		{"gap inside", []float64{1, nan, 0.81}, 0.9},
		{"zero and negative skipped", []float64{0, 4, -1, 1}, 0.5},
		{"one value", []float64{nan, 2, nan}, nan},
		{"empty", nil, nan},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := GrowthFactor(tc.series)
			if math.IsNaN(tc.want) {
				if !math.IsNaN(got) {
					t.Errorf("GrowthFactor = %v, want NaN", got)
				}
				return
			}
			if math.Abs(got-tc.want) > 1e-14 {
				t.Errorf("GrowthFactor = %.16g, want %.16g", got, tc.want)
			}
		})
	}
}

func TestOscillationGrowth(t *testing.T) {
	const eta = 0.077
	for _, etaLam := range []float64{1.8, 1.99, 2.1, 2.3} {
		// Oracle: on E = ½λx², GD multiplies x by 1 − ηλ, so the
		// oscillation by |1 − ηλ| exactly; the model's u obeys
		// du/dt = (λ − 2/η)u exactly (the gradient is linear), a factor
		// e^{ηλ−2} per step, which RK4 at step η reproduces to
		// (ηλ−2)⁵/120.
		q := NewQuadratic([]float64{etaLam / eta}, nil)
		gd, model, err := OscillationGrowth(q, eta, []float64{1}, 20)
		if err != nil {
			t.Fatal(err)
		}
		if len(gd) != 20 || len(model) != 20 {
			t.Fatalf("ηλ = %v: %d GD and %d model values, want 20", etaLam, len(gd), len(model))
		}
		if math.Abs(gd[0]-model[0]) > 1e-15*gd[0] {
			t.Errorf("ηλ = %v: the model starts at ‖u‖ = %v, GD at %v", etaLam, model[0], gd[0])
		}
		if got, want := GrowthFactor(gd), math.Abs(1-etaLam); math.Abs(got-want) > 1e-12 {
			t.Errorf("ηλ = %v: GD factor %.15g, want %.15g", etaLam, got, want)
		}
		tol := 2*math.Pow(math.Abs(etaLam-2), 5)/120 + 1e-12
		if got, want := GrowthFactor(model), math.Exp(etaLam-2); math.Abs(got-want) > tol*want {
			t.Errorf("ηλ = %v: model factor %.15g, want %.15g", etaLam, got, want)
		}
	}
	q := NewQuadratic([]float64{1}, nil)
	if _, _, err := OscillationGrowth(q, 0.1, []float64{1}, 0); err == nil {
		t.Error("steps = 0 accepted")
	}
	if _, _, err := OscillationGrowth(q, -0.1, []float64{1}, 5); err == nil {
		t.Error("eta < 0 accepted")
	}
}
