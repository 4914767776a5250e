package eos

import (
	"math"
	"testing"
)

func TestOnset(t *testing.T) {
	nan := math.NaN()
	// η = 0.1, so 2/η = 20; the expected steps are read off the series.
	for _, tc := range []struct {
		name  string
		sharp []float64
		want  int
	}{
		{"sharpening", []float64{10, 15, 19.9, 20, 25}, 3},
		{"gaps", []float64{10, nan, nan, 19, nan, 21, 22}, 5},
		{"catapult first", []float64{30, 25, 15, 18, 21, 16}, 4},
		{"never below", []float64{30, 25, 21, 20}, -1},
		{"never reached", []float64{10, 12, 19.99}, -1},
		{"unmeasured", []float64{nan, nan}, -1},
		{"empty", nil, -1},
	} {
		tr := &Trace{Eta: 0.1, Sharpness: tc.sharp}
		for i := range tc.sharp {
			tr.Step = append(tr.Step, 100+i) // a trace that starts at step 100
		}
		want := tc.want
		if want >= 0 {
			want += 100
		}
		if got := Onset(tr); got != want {
			t.Errorf("%s: Onset = %d, want %d", tc.name, got, want)
		}
	}
}

// On a quadratic the sharpness is its top eigenvalue λ at every step, so a
// GD trace with λ = 25 > 2/η never crosses 2/η from below, and one with
// λ = 15 never reaches it: both have no onset. This checks Onset on the
// trace GD itself records.
func TestOnsetGD(t *testing.T) {
	const eta = 0.1
	for _, lam := range []float64{25, 15} {
		q := NewQuadratic([]float64{lam, 1}, nil)
		x := []float64{1e-3, 1}
		tr := &Trace{}
		if _, err := GD(x, q, eta, &GDSettings{Steps: 5, EigEvery: 1, Observers: []Observer{tr}}); err != nil {
			t.Fatal(err)
		}
		if got := Onset(tr); got != -1 {
			t.Errorf("constant sharpness %v: Onset = %d, want −1", lam, got)
		}
	}
}
