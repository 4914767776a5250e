package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// record is one labelled example of a generated file.
type record struct {
	label  byte
	pixels []byte
}

// cifarBytes encodes records in the CIFAR-10 binary layout, written out
// here independently of the reader: label byte, then the pixels.
func cifarBytes(recs []record) []byte {
	var b bytes.Buffer
	for _, r := range recs {
		b.WriteByte(r.label)
		b.Write(r.pixels)
	}
	return b.Bytes()
}

// idxBytes encodes an unsigned-byte IDX file: 00 00 08 ndims, big-endian
// uint32 dimensions, data.
func idxBytes(dims []int, data []byte) []byte {
	b := []byte{0, 0, 8, byte(len(dims))}
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, uint32(d))
	}
	return append(b, data...)
}

func gzipBytes(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	z := gzip.NewWriter(&buf)
	if _, err := z.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// firstPerClass is the subset oracle, written differently from subset.add:
// it gathers every class's indices, keeps the first k of each, and marks
// them in a boolean mask that is then read in file order. ok is false when a
// class has fewer than k records.
func firstPerClass(recs []record, classes, k int) (sel []record, ok bool) {
	byClass := make([][]int, classes)
	for i, r := range recs {
		byClass[r.label] = append(byClass[r.label], i)
	}
	keep := make([]bool, len(recs))
	for _, idx := range byClass {
		if len(idx) < k {
			return nil, false
		}
		for _, i := range idx[:k] {
			keep[i] = true
		}
	}
	for i, r := range recs {
		if keep[i] {
			sel = append(sel, r)
		}
	}
	return sel, true
}

// checkImageSet compares a set loaded with Normalize = None against the
// expected records: X = pixel/255 exactly, Labels, one-hot Y.
func checkImageSet(t *testing.T, set *Set, want []record, classes int) {
	t.Helper()
	n, d := set.X.Dims()
	if n != len(want) || d != len(want[0].pixels) {
		t.Fatalf("X is %d×%d, want %d×%d", n, d, len(want), len(want[0].pixels))
	}
	if yr, yc := set.Y.Dims(); yr != n || yc != classes {
		t.Fatalf("Y is %d×%d, want %d×%d", yr, yc, n, classes)
	}
	if set.Classes != classes || len(set.Labels) != n {
		t.Fatalf("Classes = %d, len(Labels) = %d, want %d, %d", set.Classes, len(set.Labels), classes, n)
	}
	for i, r := range want {
		if set.Labels[i] != int(r.label) {
			t.Fatalf("Labels[%d] = %d, want %d", i, set.Labels[i], r.label)
		}
		for c := range classes {
			want := 0.0
			if c == int(r.label) {
				want = 1
			}
			if got := set.Y.At(i, c); got != want {
				t.Fatalf("Y[%d, %d] = %v, want %v", i, c, got, want)
			}
		}
		for j, p := range r.pixels {
			if got := set.X.At(i, j); got != float64(p)/255 {
				t.Fatalf("X[%d, %d] = %v, want %d/255", i, j, got, p)
			}
		}
	}
}

// groupStats returns the mean and population standard deviation of the
// values of x in columns [lo, hi), by the textbook two-pass formula.
func groupStats(x *mat.Dense, lo, hi int) (mean, sd float64) {
	n, _ := x.Dims()
	m := float64(n * (hi - lo))
	for i := range n {
		for j := lo; j < hi; j++ {
			mean += x.At(i, j)
		}
	}
	mean /= m
	for i := range n {
		for j := lo; j < hi; j++ {
			d := x.At(i, j) - mean
			sd += d * d
		}
	}
	return mean, math.Sqrt(sd / m)
}

// checkStandardized checks that raw, standardised by groups of g columns,
// gives got: got = (raw − μ)/σ with μ, σ from groupStats, or raw − raw for a
// group constant in raw.
func checkStandardized(t *testing.T, got, raw *mat.Dense, g int, tol float64) {
	t.Helper()
	n, d := raw.Dims()
	for lo := 0; lo < d; lo += g {
		mean, sd := groupStats(raw, lo, lo+g)
		constant := true
		for i := range n {
			for j := lo; j < lo+g; j++ {
				constant = constant && raw.At(i, j) == raw.At(0, lo)
			}
		}
		for i := range n {
			for j := lo; j < lo+g; j++ {
				want := (raw.At(i, j) - mean) / sd
				if constant {
					want = 0
				}
				if diff := math.Abs(got.At(i, j) - want); diff > tol || math.IsNaN(got.At(i, j)) {
					t.Fatalf("X[%d, %d] = %v, want %v (group at column %d, μ = %v, σ = %v)", i, j, got.At(i, j), want, lo, mean, sd)
				}
			}
		}
	}
}
