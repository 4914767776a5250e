package eos

import (
	"math"
	"slices"
	"testing"
)

func TestSpikes(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		name   string
		series []float64
		rise   float64
		window int
		want   []int
	}{
		// Expected indices read off the series by hand.
		{"flat", []float64{1, 1, 1, 1, 1}, 0.3, 2, nil},
		{"one spike", []float64{1, 1, 2, 1, 1}, 0.3, 2, []int{2}},
		{"too small", []float64{1, 1, 1.2, 1, 1}, 0.3, 2, nil},
		// 1.3 is exactly 30 % above the median 1.
		{"at threshold", []float64{1, 1, 1.3, 1, 1}, 0.3, 2, []int{2}},
		{"two spikes", []float64{1, 3, 1, 1, 1, 1, 4, 1, 1}, 0.3, 2, []int{1, 6}},
		// Within one window only the larger peak counts.
		{"close peaks", []float64{1, 1, 3, 1, 4, 1, 1}, 0.3, 2, []int{4}},
		// A plateau at the top is one spike, at its first point.
		{"plateau", []float64{1, 1, 3, 3, 1, 1}, 0.3, 2, []int{2}},
		// The ends are never spikes: they are not local maxima.
		{"ends", []float64{5, 1, 1, 1, 5}, 0.3, 2, nil},
		// NaN is neither a spike nor part of a median: the median of
		// {1, 1, 2, 1} (without the NaN) is 1.
		{"nan", []float64{1, nan, 2, 1, 1}, 0.3, 2, []int{2}},
		// Rising slope: every point is a local maximum of nothing.
		{"ramp", []float64{1, 2, 3, 4, 5, 6}, 0.3, 2, nil},
		// A wide bump raises the median of a small window.
		{"wide bump small window", []float64{1, 2, 2.2, 2, 1}, 0.3, 1, nil},
		{"wide bump large window", []float64{1, 1, 1, 2, 2.2, 2, 1, 1, 1}, 0.3, 4, []int{4}},
	} {
		got := Spikes(tc.series, tc.rise, tc.window)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: Spikes = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestSpikesPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Spikes with window 0 did not panic")
		}
	}()
	Spikes([]float64{1, 2, 1}, 0.3, 0)
}

func TestMatchSpikes(t *testing.T) {
	for _, tc := range []struct {
		name     string
		ref, got []int
		tol      int
		want     int
	}{
		// Expected counts from pairing by hand.
		{"empty", nil, nil, 5, 0},
		{"no model spikes", []int{10, 50}, nil, 5, 0},
		{"exact", []int{10, 50}, []int{10, 50}, 0, 2},
		{"within tol", []int{10, 50}, []int{15, 46}, 5, 2},
		{"outside tol", []int{10, 50}, []int{16, 44}, 5, 0},
		// One model spike cannot serve two GD spikes.
		{"shared", []int{10, 14}, []int{12}, 5, 1},
		// Greedy pairing in order finds both pairs: 10↔6, 14↔18.
		{"order", []int{10, 14}, []int{6, 18}, 4, 2},
		{"extra model spikes", []int{30}, []int{1, 29, 60}, 5, 1},
	} {
		if got := MatchSpikes(tc.ref, tc.got, tc.tol); got != tc.want {
			t.Errorf("%s: MatchSpikes = %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestRises(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		name         string
		series       []float64
		frac, maxRel float64
	}{
		// Expected values computed by hand.
		{"falling", []float64{4, 2, 1}, 0, -0.5},
		{"alternating", []float64{1, 2, 1, 2, 1}, 0.5, 1},
		// A rise of 2⁻⁴⁶ ≈ 1.4e-14 relative is rounding, not a rise, but
		// it is still the largest relative change.
		{"rounding", []float64{1, 1 + 0x1p-46, 1 + 0x1p-46}, 0, 0x1p-46},
		{"negative values", []float64{-2, -1, -1.5}, 0.5, 0.5},
		{"nan skipped", []float64{1, nan, 2, 3}, 1, 0.5},
		{"single", []float64{1}, nan, nan},
	} {
		frac, maxRel := Rises(tc.series)
		same := func(a, b float64) bool {
			return (math.IsNaN(a) && math.IsNaN(b)) || math.Abs(a-b) <= 1e-15*math.Abs(b)
		}
		if !same(frac, tc.frac) || !same(maxRel, tc.maxRel) {
			t.Errorf("%s: Rises = %v, %v, want %v, %v", tc.name, frac, maxRel, tc.frac, tc.maxRel)
		}
	}
}
