package eos

import (
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/lapack"
	"gonum.org/v1/gonum/lapack/lapack64"
	"gonum.org/v1/gonum/mat"
)

// Centre stores in dst the two-step centre of three consecutive iterates,
//
//	θ̄_k = (θ_k + 2θ_{k+1} + θ_{k+2}) / 4,
//
// with x0, x1, x2 = θ_k, θ_{k+1}, θ_{k+2}. It filters the period-2
// component out of slowly varying iterates: for θ_k = c + (−1)^k u with
// constant c and u it returns c exactly. The weights are centred on the
// middle iterate, so for a drifting centre θ_k = c + kd + (−1)^k u it returns
// c + (k+1)d, the centre at k+1 (θ̄_k up to O(d)). dst may alias x0, x1 or
// x2. Centre panics if the lengths differ.
func Centre(dst, x0, x1, x2 []float64) {
	n := len(dst)
	checkLen("x0", len(x0), n)
	checkLen("x1", len(x1), n)
	checkLen("x2", len(x2), n)
	for i := range dst {
		dst[i] = (x0[i] + 2*x1[i] + x2[i]) / 4
	}
}

// Oscillation stores in dst the signed oscillation of three consecutive
// iterates,
//
//	(−1)^k u_k = (θ_k − 2θ_{k+1} + θ_{k+2}) / 4,
//
// with x0, x1, x2 = θ_k, θ_{k+1}, θ_{k+2}. The sign convention follows
// θ_k = θ̄_k + (−1)^k u_k: the returned vector is (−1)^k u_k, which to first
// order is θ_k − θ̄_k, so it flips sign from one k to the next while u_k
// varies slowly. For θ_k = c + kd + (−1)^k u it returns (−1)^k u exactly: a
// linear drift cancels. dst may alias x0, x1 or x2. Oscillation panics if the
// lengths differ.
func Oscillation(dst, x0, x1, x2 []float64) {
	n := len(dst)
	checkLen("x0", len(x0), n)
	checkLen("x1", len(x1), n)
	checkLen("x2", len(x2), n)
	for i := range dst {
		dst[i] = (x0[i] - 2*x1[i] + x2[i]) / 4
	}
}

// MeanLoss2 stores the two-step means of a loss sequence in dst,
//
//	dst[k] = (losses[k] + losses[k+1]) / 2,
//
// which removes the alternation of a period-2 orbit: it is what the effective
// model's L_sym predicts. If dst is nil a slice of length len(losses)−1 is
// allocated; otherwise it must have that length. MeanLoss2 returns dst. It
// panics if losses is empty.
func MeanLoss2(dst, losses []float64) []float64 {
	if len(losses) == 0 {
		panic("eos: losses is empty")
	}
	if dst == nil {
		dst = make([]float64, len(losses)-1)
	}
	checkLen("dst", len(dst), len(losses)-1)
	for k := range dst {
		dst[k] = (losses[k] + losses[k+1]) / 2
	}
	return dst
}

// DetectPeriod returns the smallest period p in {1, 2, 4, 8} of a loss
// sequence, or 0 when none fits:
//
//	|losses[i] − losses[i−p]| ≤ relTol · max_j |losses[j]|   for every i ≥ p.
//
// A period is only tested when the sequence holds at least two full periods
// (len(losses) ≥ 2p), so that every phase is compared once. relTol ≤ 0 means
// 1e-6. A sequence containing NaN or ±Inf has no period. Pass the tail of a
// run, after transients: a slowly converging sequence fits period 1 only once
// its drift over the window is below the tolerance.
func DetectPeriod(losses []float64, relTol float64) int {
	if relTol <= 0 {
		relTol = 1e-6
	}
	var scale float64
	for _, v := range losses {
		scale = math.Max(scale, math.Abs(v))
	}
	return DetectPeriodTol(losses, relTol*scale)
}

// DetectPeriodTol is DetectPeriod with an absolute tolerance:
//
//	|losses[i] − losses[i−p]| ≤ tol   for every i ≥ p.
//
// Use it with a tolerance relative to the scale of the whole run (such as
// the initial loss) when the window may have converged to zero: there the
// relative criterion of DetectPeriod compares rounding noise with itself.
func DetectPeriodTol(losses []float64, tol float64) int {
	for _, v := range losses {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return 0
		}
	}
	for _, p := range [...]int{1, 2, 4, 8} {
		if len(losses) < 2*p {
			return 0
		}
		fits := true
		for i := p; i < len(losses); i++ {
			if math.Abs(losses[i]-losses[i-p]) > tol {
				fits = false
				break
			}
		}
		if fits {
			return p
		}
	}
	return 0
}

// Covariance is the windowed covariance of the oscillation vectors,
//
//	Σ = (1/W) Σ_j u_j u_jᵀ   over the last W vectors added,
//
// (W the number held, at most the window). It is stored as the vectors
// themselves, never as a P×P matrix, so it works for any P: products and
// eigenpairs go through the W×W Gram matrix. Since u_j u_jᵀ does not depend
// on the sign of u_j, the signed vectors from Oscillation can be added as
// they are.
type Covariance struct {
	dim   int
	vecs  [][]float64 // ring buffer of the last window vectors
	n     int         // number held, ≤ len(vecs)
	next  int         // ring position of the next Add
	gram  []float64   // W×W
	coef  []float64   // W, for MulVec
	vals  []float64   // W eigenvalues of the Gram matrix
	work  []float64   // Dsyev workspace
	tmp   []float64   // P, for HessInner and TopEigs
	ready int         // Gram size work was sized for
}

// NewCovariance returns an empty Covariance of vectors of length dim over
// the last window vectors. It panics if dim or window is not positive.
func NewCovariance(dim, window int) *Covariance {
	if dim <= 0 || window <= 0 {
		panic("eos: non-positive Covariance size")
	}
	c := &Covariance{
		dim:  dim,
		vecs: make([][]float64, window),
		gram: make([]float64, window*window),
		coef: make([]float64, window),
		vals: make([]float64, window),
	}
	for i := range c.vecs {
		c.vecs[i] = make([]float64, dim)
	}
	return c
}

// Add copies u into the window, replacing the oldest vector once the window
// is full. It panics if len(u) is not the dimension.
func (c *Covariance) Add(u []float64) {
	checkLen("u", len(u), c.dim)
	copy(c.vecs[c.next], u)
	c.next = (c.next + 1) % len(c.vecs)
	c.n = min(c.n+1, len(c.vecs))
}

// Len returns the number of vectors held.
func (c *Covariance) Len() int { return c.n }

// Reset empties the window.
func (c *Covariance) Reset() { c.n, c.next = 0, 0 }

// held returns the vectors currently in the window (in ring order, which Σ
// does not depend on).
func (c *Covariance) held() [][]float64 { return c.vecs[:c.n] }

// vector returns the P-length workspace, allocated on first use.
func (c *Covariance) vector() []float64 {
	if c.tmp == nil {
		c.tmp = make([]float64, c.dim)
	}
	return c.tmp
}

// Trace returns tr Σ = (1/W) Σ_j ‖u_j‖², 0 when empty.
func (c *Covariance) Trace() float64 {
	if c.n == 0 {
		return 0
	}
	var t float64
	for _, u := range c.held() {
		t += floats.Dot(u, u)
	}
	return t / float64(c.n)
}

// MulVec stores Σv = (1/W) Σ_j (u_j·v) u_j in dst (zero when empty). dst must
// not alias v. It panics if the lengths are wrong.
func (c *Covariance) MulVec(dst, v []float64) {
	checkLen("v", len(v), c.dim)
	checkLen("dst", len(dst), c.dim)
	for i := range dst {
		dst[i] = 0
	}
	for _, u := range c.held() {
		floats.AddScaled(dst, floats.Dot(u, v)/float64(c.n), u)
	}
}

// HessInner returns ⟨H(x), Σ⟩ = tr(H(x)Σ) = (1/W) Σ_j u_jᵀ H(x) u_j, using
// one HVP of p per vector held; 0 when empty. It is the curvature term of the
// free energy F(θ, Σ) = E(θ) + ½⟨H(θ) − (2/η)I, Σ⟩. It panics if the
// dimensions differ.
func (c *Covariance) HessInner(p Problem, x []float64) float64 {
	checkLen("x", len(x), c.dim)
	checkLen("Problem", p.Dim(), c.dim)
	if c.n == 0 {
		return 0
	}
	hu := c.vector()
	var s float64
	for _, u := range c.held() {
		p.HessVec(hu, x, u)
		s += floats.Dot(u, hu)
	}
	return s / float64(c.n)
}

// TopEigs stores the len(vals) largest eigenvalues of Σ in descending order
// in vals and, if vecs is not nil, the unit eigenvectors in the columns of
// vecs (P×len(vals)).
//
// With U = [u_1 … u_W], Σ = UUᵀ/W shares its non-zero eigenvalues with the
// Gram matrix G = UᵀU/W: if Gz = λz with ‖z‖ = 1, then Σ(Uz) = λ(Uz) and
// ‖Uz‖² = Wλ, so the eigenvector is Uz/√(Wλ). Σ has rank at most W; for an
// eigenvalue at the rounding level (for instance beyond the rank) the value is
// reported as 0 and its vector column is set to zero, since no direction is
// determined. TopEigs panics if len(vals) exceeds Len() or vecs has the wrong
// shape.
func (c *Covariance) TopEigs(vals []float64, vecs *mat.Dense) {
	k := len(vals)
	w := c.n
	if k > w {
		panic("eos: more eigenvalues than vectors held")
	}
	if vecs != nil {
		r, cc := vecs.Dims()
		if r != c.dim || cc != k {
			panic("eos: vecs has wrong shape")
		}
	}
	if k == 0 {
		return
	}
	held := c.held()
	g := c.gram[:w*w]
	for i, ui := range held {
		for j := i; j < w; j++ {
			g[i*w+j] = floats.Dot(ui, held[j]) / float64(w)
		}
	}
	a := blas64.Symmetric{N: w, Stride: w, Data: g, Uplo: blas.Upper}
	ev := c.vals[:w]
	if c.ready != w {
		var q [1]float64
		lapack64.Syev(lapack.EVCompute, a, ev, q[:], -1)
		if len(c.work) < int(q[0]) {
			c.work = make([]float64, int(q[0]))
		}
		c.ready = w
	}
	if !lapack64.Syev(lapack.EVCompute, a, ev, c.work, len(c.work)) {
		panic("eos: eigendecomposition of the Gram matrix failed (non-finite vector?)")
	}
	// Syev leaves ascending eigenvalues in ev and eigenvectors in the
	// columns of g.
	floor := 100 * 0x1p-52 * math.Abs(ev[w-1]) * float64(w)
	for i := range k {
		col := w - 1 - i
		lam := ev[col]
		if lam <= floor {
			lam = 0
		}
		vals[i] = lam
		if vecs == nil {
			continue
		}
		if lam == 0 {
			for r := range c.dim {
				vecs.Set(r, i, 0)
			}
			continue
		}
		y := c.vector()
		for r := range y {
			y[r] = 0
		}
		for j, u := range held {
			floats.AddScaled(y, g[j*w+col], u)
		}
		floats.Scale(1/math.Sqrt(float64(w)*lam), y)
		vecs.SetCol(i, y)
	}
}
