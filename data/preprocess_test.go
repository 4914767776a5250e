package data

import (
	"math"
	"slices"
	"testing"
)

func TestStandardize(t *testing.T) {
	s := math.Sqrt(1.5) // (v − 2)/σ for v = 1, 2, 3: σ = √(2/3), so ±1/σ = ±√1.5
	for _, c := range []struct {
		name string
		n, d int
		g    int
		x    []float64
		want []float64 // worked out by hand
		tol  float64
	}{
		{
			name: "features", n: 3, d: 2, g: 1,
			x:    []float64{1, 10, 2, 10, 3, 10},
			want: []float64{-s, 0, 0, 0, s, 0}, // second column constant: centred only
			tol:  1e-15,
		},
		{
			// 0.1 three times sums to 0.30000000000000004; divided by 3 it is
			// not 0.1, which a test on the computed σ would miss.
			name: "inexactconstant", n: 3, d: 1, g: 1,
			x:    []float64{0.1, 0.1, 0.1},
			want: []float64{0, 0, 0},
		},
		{
			// Two channels of two pixels: channel 0 holds 1, 3, 1, 3
			// (μ = 2, σ = 1), channel 1 holds 0, 0, 4, 4 (μ = 2, σ = 2).
			name: "channels", n: 2, d: 4, g: 2,
			x:    []float64{1, 3, 0, 0, 1, 3, 4, 4},
			want: []float64{-1, 1, -1, -1, -1, 1, 1, 1},
		},
		{
			name: "onerow", n: 1, d: 3, g: 1,
			x:    []float64{5, -2, 7},
			want: []float64{0, 0, 0},
		},
	} {
		x := slices.Clone(c.x)
		standardize(x, c.n, c.d, c.g)
		for i := range x {
			if math.Abs(x[i]-c.want[i]) > c.tol {
				t.Errorf("%s: got %v, want %v", c.name, x, c.want)
				break
			}
		}
	}
}

func TestSubset(t *testing.T) {
	// Labels in file order, fed in two chunks; one pixel per record holding
	// its index, so the output shows which records were taken.
	labels := []byte{2, 0, 0, 1, 2, 0, 2, 1, 1, 0, 2}
	pixels := make([]byte, len(labels))
	for i := range pixels {
		pixels[i] = byte(i)
	}
	for _, c := range []struct {
		name       string
		n          int
		split      int // first chunk length
		wantPixels []byte
		complete   bool
	}{
		// Worked out by hand: the first n/3 indices of each class, in order.
		{name: "one", n: 3, split: 4, wantPixels: []byte{0, 1, 3}, complete: true},
		{name: "two", n: 6, split: 5, wantPixels: []byte{0, 1, 2, 3, 4, 7}, complete: true},
		{name: "three", n: 9, split: 2, wantPixels: []byte{0, 1, 2, 3, 4, 5, 6, 7, 8}, complete: true},
		{name: "short", n: 12, split: 6, wantPixels: []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
	} {
		s := newSubset(c.n, 3, 1)
		done := s.add(labels[:c.split], pixels[:c.split])
		done = done || s.add(labels[c.split:], pixels[c.split:])
		if done != c.complete || !slices.Equal(s.pixels, c.wantPixels) {
			t.Errorf("%s: took %v (complete %v), want %v (complete %v)", c.name, s.pixels, done, c.wantPixels, c.complete)
		}
		for i, p := range s.pixels {
			if s.labels[i] != int(labels[p]) {
				t.Errorf("%s: label %d for record %d, want %d", c.name, s.labels[i], p, labels[p])
			}
		}
		if !c.complete {
			if err := s.shortfall("f"); err == nil || err.Error() != "data: N = 12 needs 4 examples of class 1, but only 3 are in f" {
				t.Errorf("%s: shortfall %v", c.name, err)
			}
		}
	}
}
