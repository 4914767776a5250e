package eos

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestW1(t *testing.T) {
	// Oracle: hand computation of ∫|F_a − F_b| (or ∫|Q_a − Q_b|), given
	// per case.
	for _, tc := range []struct {
		name string
		a, b []float64
		want float64
	}{
		// Two Dirac masses one apart.
		{"diracs", []float64{0}, []float64{1}, 1},
		// Q_a = 0 then 1 at s = ½, Q_b = ½: |Q_a − Q_b| = ½ throughout.
		{"split", []float64{1, 0}, []float64{0.5}, 0.5},
		// The same law in another order.
		{"permuted", []float64{3, 1, 2}, []float64{1, 2, 3}, 0},
		// A translation by 2 moves every quantile by 2.
		{"shift", []float64{0, 1, 5}, []float64{2, 3, 7}, 2},
		// F_a − F_b on [0,1), [1,2), [2,3), [3,4): ½, ⅙, −⅙, ⅓.
		{"unequal", []float64{0, 3}, []float64{1, 2, 4}, 7.0 / 6},
		// Ties: F_a − F_b = ⅓ on [0, 2).
		{"ties", []float64{0, 0, 2}, []float64{0, 2, 2}, 2.0 / 3},
		// The same law with every point doubled.
		{"duplicated", []float64{1, 1, 1}, []float64{1, 1}, 0},
	} {
		a0, b0 := slices.Clone(tc.a), slices.Clone(tc.b)
		for _, swap := range []bool{false, true} {
			a, b := tc.a, tc.b
			if swap {
				a, b = b, a
			}
			if got := W1(a, b); math.Abs(got-tc.want) > 1e-15 {
				t.Errorf("%s (swap %v): W1 = %v, want %v", tc.name, swap, got, tc.want)
			}
		}
		if !slices.Equal(a0, tc.a) || !slices.Equal(b0, tc.b) {
			t.Errorf("%s: W1 modified its arguments", tc.name)
		}
	}
}

func TestW1Random(t *testing.T) {
	// Oracles: for equal sizes W1 is the mean distance between sorted
	// samples (the quantile functions are step functions on the same
	// grid); repeating every point of a sample r times leaves its law, and
	// so W1, unchanged.
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 7, 100} {
		a, b := make([]float64, n), make([]float64, n)
		for i := range a {
			a[i] = rng.NormFloat64()
			b[i] = 2*rng.Float64() - 0.5
		}
		sa, sb := slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b))
		var want float64
		for i := range sa {
			want += math.Abs(sa[i] - sb[i])
		}
		want /= float64(n)
		if got := W1(a, b); math.Abs(got-want) > 1e-14 {
			t.Errorf("n=%d: W1 = %v, want sorted mean distance %v", n, got, want)
		}
		var a3 []float64
		for _, v := range a {
			a3 = append(a3, v, v, v)
		}
		if got := W1(a3, b); math.Abs(got-want) > 1e-14 {
			t.Errorf("n=%d: W1 with a repeated 3 times = %v, want %v", n, got, want)
		}
	}
}

func TestHistogramHeatmap(t *testing.T) {
	// Oracle: counts by hand. Bins of width ½ on [0, 2]; 2 falls in the
	// last bin, −1, 2.5 and NaN in none.
	b := Bins{Lo: 0, Hi: 2, N: 4}
	vals := []float64{0, 0.1, 0.5, 0.99, 1.7, 2, -1, 2.5, math.NaN()}
	if got, want := Histogram(vals, b), []int{2, 2, 0, 2}; !slices.Equal(got, want) {
		t.Errorf("Histogram = %v, want %v", got, want)
	}
	if got, want := b.Edges(), []float64{0, 0.5, 1, 1.5, 2}; !slices.Equal(got, want) {
		t.Errorf("Edges = %v, want %v", got, want)
	}
	x := []float64{0.1, 0.1, 1.9, 3}
	y := []float64{10, 19, 10, 10}
	got := Heatmap(x, y, Bins{0, 2, 2}, Bins{10, 20, 2})
	want := [][]int{{1, 1}, {1, 0}}
	for r := range want {
		if !slices.Equal(got[r], want[r]) {
			t.Errorf("Heatmap row %d = %v, want %v", r, got[r], want[r])
		}
	}
	if rb := RangeBins([]float64{3, 1, 2}, 5); rb != (Bins{1, 3, 5}) {
		t.Errorf("RangeBins = %+v, want {1 3 5}", rb)
	}
	if rb := RangeBins([]float64{4, 4}, 1); rb != (Bins{3.5, 4.5, 1}) {
		t.Errorf("RangeBins of equal values = %+v, want {3.5 4.5 1}", rb)
	}
}

func TestBlockNorms(t *testing.T) {
	// Oracle: Pythagorean triples, (3, 4) → 5 and (6, 8) → 10.
	x := []float64{3, 4, 1, 6, 8, 2}
	if got, want := Amplitudes(nil, []float64{3, 4, 0, 0, 6, 8}, 3), []float64{5, 10}; !slices.Equal(got, want) {
		t.Errorf("Amplitudes = %v, want %v", got, want)
	}
	if got, want := BlockNorms(nil, x, 3, 0, 2), []float64{5, 10}; !slices.Equal(got, want) {
		t.Errorf("BlockNorms = %v, want %v", got, want)
	}
	if got, want := BlockNorms(nil, x, 3, 2, 3), []float64{1, 2}; !slices.Equal(got, want) {
		t.Errorf("BlockNorms of the last coordinate = %v, want %v", got, want)
	}
}
