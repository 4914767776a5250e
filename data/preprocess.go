package data

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// subset collects, from labelled records streamed in file order, the first
// perClass records of each class, keeping them in file order.
type subset struct {
	perClass int
	size     int   // bytes per record
	count    []int // records taken so far, per class
	labels   []int
	pixels   []byte // len(labels)×size, grown as records are taken
	missing  int    // records still wanted, over all classes
}

func newSubset(n, classes, size int) *subset {
	return &subset{
		perClass: n / classes,
		size:     size,
		count:    make([]int, classes),
		missing:  n,
	}
}

// add takes the records it still needs from a chunk of records: labels[i]
// (already checked to be below the number of classes) and the size bytes of
// pixels starting at i·size. It reports whether the subset is complete.
//
// The pixel buffer grows with what is taken rather than being allocated for
// n records up front, so that an absurd n fails on the data, not on memory.
func (s *subset) add(labels, pixels []byte) bool {
	for i, l := range labels {
		if s.missing == 0 {
			break
		}
		if s.count[l] == s.perClass {
			continue
		}
		s.count[l]++
		s.missing--
		s.labels = append(s.labels, int(l))
		s.pixels = append(s.pixels, pixels[i*s.size:(i+1)*s.size]...)
	}
	return s.missing == 0
}

// shortfall returns an error naming the first class with too few records in
// the files read.
func (s *subset) shortfall(files string) error {
	for c, k := range s.count {
		if k < s.perClass {
			return fmt.Errorf("data: N = %d needs %d examples of class %d, but only %d are in %s",
				s.perClass*len(s.count), s.perClass, c, k, files)
		}
	}
	panic("data: shortfall called on a complete subset")
}

// imageSet converts a complete subset of 8-bit images to a Set: pixels are
// divided by 255, normalised as asked, and the targets are one-hot.
func imageSet(name string, s *subset, classes, channels, height, width int, norm Normalization, source string) *Set {
	n, d := len(s.labels), channels*height*width
	x := make([]float64, n*d)
	for i, p := range s.pixels {
		x[i] = float64(p) / 255
	}
	switch norm {
	case PerFeature:
		standardize(x, n, d, 1)
	case PerChannel:
		standardize(x, n, d, height*width)
	}
	return &Set{
		Name:     name,
		X:        mat.NewDense(n, d, x),
		Y:        oneHot(s.labels, classes),
		Labels:   s.labels,
		Classes:  classes,
		Channels: channels,
		Height:   height,
		Width:    width,
		Source:   source,
	}
}

// oneHot returns the len(labels)×classes matrix with a 1 at (i, labels[i]).
func oneHot(labels []int, classes int) *mat.Dense {
	y := mat.NewDense(len(labels), classes, nil)
	for i, l := range labels {
		y.Set(i, l, 1)
	}
	return y
}

// standardize centres and scales in place the n×d row-major matrix x, group
// by group, where group k is the block of g consecutive columns
// [k·g, (k+1)·g): g = 1 standardises each feature, g = Height·Width each
// channel. With m = n·g values in a group,
//
//	μ = (1/m) Σ v,   σ² = (1/m) Σ (v − μ)²,   v ← (v − μ)/σ.
//
// A group that is constant over the set (σ = 0, e.g. MNIST's border pixels)
// is only centred, so it becomes exactly 0: dividing by σ is impossible and
// dividing by a rounding error would blow it up. Constancy is detected by
// comparing values, not by testing the computed σ, because the sum of m
// copies of v divided by m need not round back to v.
func standardize(x []float64, n, d, g int) {
	groups := d / g
	mean := make([]float64, groups)
	sd := make([]float64, groups)
	constant := make([]bool, groups)
	for k := range constant {
		constant[k] = true
	}
	for i := range n {
		for j, v := range x[i*d : (i+1)*d] {
			k := j / g
			mean[k] += v
			if v != x[k*g] {
				constant[k] = false
			}
		}
	}
	m := float64(n * g)
	for k := range mean {
		if constant[k] {
			mean[k] = x[k*g]
		} else {
			mean[k] /= m
		}
	}
	for i := range n {
		for j, v := range x[i*d : (i+1)*d] {
			dv := v - mean[j/g]
			sd[j/g] += dv * dv
		}
	}
	for k := range sd {
		sd[k] = math.Sqrt(sd[k] / m)
		if constant[k] || sd[k] == 0 {
			sd[k] = 1
		}
	}
	for i := range n {
		row := x[i*d : (i+1)*d]
		for j, v := range row {
			row[j] = (v - mean[j/g]) / sd[j/g]
		}
	}
}
