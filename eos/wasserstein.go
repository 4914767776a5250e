package eos

import (
	"math"
	"slices"
)

// W1 returns the Wasserstein-1 distance between the empirical laws of the
// samples a and b (each point of weight 1/len),
//
//	W1 = ∫ |F_a(t) − F_b(t)| dt = ∫_0^1 |Q_a(s) − Q_b(s)| ds,
//
// with F the empirical CDFs and Q the quantile functions. Between two
// consecutive points of the merged samples both CDFs are constant, so the
// integral is an exact finite sum for any sizes; the CDF difference is
// formed in integers, |c_a·n_b − c_b·n_a| / (n_a·n_b). W1 sorts copies
// and does not modify a or b. It panics if either is empty.
func W1(a, b []float64) float64 {
	if len(a) == 0 || len(b) == 0 {
		panic("eos: W1 of an empty sample")
	}
	sa, sb := slices.Clone(a), slices.Clone(b)
	slices.Sort(sa)
	slices.Sort(sb)
	na, nb := len(sa), len(sb)
	var (
		i, j int // points of a and b at or below the current position
		sum  float64
		prev float64
	)
	for i < na || j < nb {
		var t float64
		switch {
		case j == nb || (i < na && sa[i] <= sb[j]):
			t = sa[i]
		default:
			t = sb[j]
		}
		if i+j > 0 {
			diff := i*nb - j*na
			if diff < 0 {
				diff = -diff
			}
			sum += float64(diff) * (t - prev)
		}
		for i < na && sa[i] == t {
			i++
		}
		for j < nb && sb[j] == t {
			j++
		}
		prev = t
	}
	return sum / (float64(na) * float64(nb))
}

// BlockNorms stores in dst the Euclidean norms of the coordinates [from, to)
// of each block of p consecutive entries of x: for the neuron-major vectors
// of a MeanField, the norm of a part of each neuron, e.g. its input weights
// (0, D) or output weights (p−k, p). If dst is nil a slice of length len(x)/p
// is allocated. BlockNorms returns dst; it panics if len(x) is not a multiple
// of p, the range is not within [0, p] or dst has the wrong length.
func BlockNorms(dst, x []float64, p, from, to int) []float64 {
	if p <= 0 || len(x)%p != 0 {
		panic("eos: BlockNorms length is not a multiple of the block size")
	}
	if from < 0 || to > p || from > to {
		panic("eos: BlockNorms range out of the block")
	}
	if dst == nil {
		dst = make([]float64, len(x)/p)
	}
	checkLen("dst", len(dst), len(x)/p)
	for j := range dst {
		var s float64
		for _, v := range x[j*p+from : j*p+to] {
			s += v * v
		}
		dst[j] = math.Sqrt(s)
	}
	return dst
}

// Amplitudes stores the oscillation amplitudes |u_j| of the blocks of p
// entries of u in dst, as BlockNorms(dst, u, p, 0, p).
func Amplitudes(dst, u []float64, p int) []float64 { return BlockNorms(dst, u, p, 0, p) }

// Bins are N equal bins over [Lo, Hi]: bin i is [Lo + iΔ, Lo + (i+1)Δ),
// Δ = (Hi − Lo)/N, the last bin closed on the right.
type Bins struct {
	Lo, Hi float64
	N      int
}

// RangeBins returns n bins spanning the smallest to the largest of vals,
// widened to [v − ½, v + ½] when all values equal v. It panics if vals is
// empty or n < 1.
func RangeBins(vals []float64, n int) Bins {
	if len(vals) == 0 || n < 1 {
		panic("eos: RangeBins needs values and at least one bin")
	}
	lo, hi := slices.Min(vals), slices.Max(vals)
	if lo == hi {
		lo, hi = lo-0.5, hi+0.5
	}
	return Bins{Lo: lo, Hi: hi, N: n}
}

// Edges returns the N+1 bin edges.
func (b Bins) Edges() []float64 {
	e := make([]float64, b.N+1)
	for i := range e {
		e[i] = b.Lo + (b.Hi-b.Lo)*float64(i)/float64(b.N)
	}
	e[b.N] = b.Hi
	return e
}

// index returns the bin of v, or −1 when v is outside [Lo, Hi] or NaN.
func (b Bins) index(v float64) int {
	if !(v >= b.Lo && v <= b.Hi) {
		return -1
	}
	i := int(float64(b.N) * (v - b.Lo) / (b.Hi - b.Lo))
	return min(i, b.N-1)
}

func (b Bins) check() {
	if b.N < 1 || !(b.Hi > b.Lo) || math.IsInf(b.Hi-b.Lo, 0) {
		panic("eos: bins need N ≥ 1 and finite Lo < Hi")
	}
}

// Histogram returns the number of values of vals in each bin of b; values
// outside [Lo, Hi] and NaN are not counted. It panics if b is not a valid
// set of bins.
func Histogram(vals []float64, b Bins) []int {
	b.check()
	counts := make([]int, b.N)
	for _, v := range vals {
		if i := b.index(v); i >= 0 {
			counts[i]++
		}
	}
	return counts
}

// Heatmap returns the joint histogram of the pairs (x_i, y_i): counts[r][c]
// is the number of pairs with x in bin r of bx and y in bin c of by, for
// instance the joint law of a weight norm and the amplitude |u_j| of the
// particles. Pairs outside the bins are not counted. It panics if the
// lengths differ or the bins are invalid.
func Heatmap(x, y []float64, bx, by Bins) [][]int {
	checkLen("y", len(y), len(x))
	bx.check()
	by.check()
	counts := make([][]int, bx.N)
	for r := range counts {
		counts[r] = make([]int, by.N)
	}
	for i, v := range x {
		r, c := bx.index(v), by.index(y[i])
		if r >= 0 && c >= 0 {
			counts[r][c]++
		}
	}
	return counts
}
