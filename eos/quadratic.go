package eos

import (
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// Quadratic is the risk with constant Hessian H and minimiser x*,
//
//	E(x) = ½ (x − x*)ᵀ H (x − x*),   ∇E(x) = H (x − x*),   H(x)v = Hv.
//
// GD on it is linear and solvable in closed form along the eigenvectors q_i of
// H: the component of θ_k − x* along q_i is multiplied by (1 − ηλ_i) per step.
// That makes it the oracle for GD, Lanczos and the oscillation diagnostics.
type Quadratic struct {
	h    blas64.Symmetric
	xmin []float64 // x*; nil means the origin
	vals []float64
	vecs *mat.Dense

	diff []float64 // x − x*
	hx   []float64 // H(x − x*) for Loss
}

// NewQuadratic returns E(x) = ½ xᵀ Q diag(eigs) Qᵀ x, with Q a Haar-random
// orthogonal matrix drawn from rng, or Q = I when rng is nil. Column i of
// Eigenvectors is the eigenvector for eigs[i]. NewQuadratic panics if eigs is
// empty.
func NewQuadratic(eigs []float64, rng *rand.Rand) *Quadratic {
	n := len(eigs)
	if n == 0 {
		panic("eos: empty spectrum")
	}
	q := mat.NewDense(n, n, nil)
	h := mat.NewSymDense(n, nil)
	if rng == nil {
		for i, e := range eigs {
			q.Set(i, i, 1)
			h.SetSym(i, i, e)
		}
	} else {
		randomOrthogonal(q, rng)
		// H = (Q diag(eigs)) Qᵀ, symmetrised by averaging, since the
		// product is symmetric only up to rounding.
		var qd, qdq mat.Dense
		qd.Apply(func(_, j int, v float64) float64 { return v * eigs[j] }, q)
		qdq.Mul(&qd, q.T())
		for i := range n {
			for j := i; j < n; j++ {
				h.SetSym(i, j, (qdq.At(i, j)+qdq.At(j, i))/2)
			}
		}
	}
	return &Quadratic{
		h:    h.RawSymmetric(),
		vals: append([]float64(nil), eigs...),
		vecs: q,
		diff: make([]float64, n),
		hx:   make([]float64, n),
	}
}

// NewQuadraticMatrix returns E(x) = ½ (x − xmin)ᵀ H (x − xmin). A nil xmin
// means the origin. H and xmin are copied. The eigenpairs of H are computed
// with mat.EigenSym and returned by Eigenvalues (ascending) and Eigenvectors.
// NewQuadraticMatrix panics if xmin has the wrong length or the
// eigendecomposition fails (only for non-finite entries).
func NewQuadraticMatrix(h mat.Symmetric, xmin []float64) *Quadratic {
	n := h.SymmetricDim()
	if xmin != nil {
		checkLen("xmin", len(xmin), n)
		xmin = append([]float64(nil), xmin...)
	}
	hc := mat.NewSymDense(n, nil)
	hc.CopySym(h)
	var es mat.EigenSym
	if !es.Factorize(hc, true) {
		panic("eos: eigendecomposition of H failed")
	}
	vecs := &mat.Dense{}
	es.VectorsTo(vecs)
	return &Quadratic{
		h:    hc.RawSymmetric(),
		xmin: xmin,
		vals: es.Values(nil),
		vecs: vecs,
		diff: make([]float64, n),
		hx:   make([]float64, n),
	}
}

// randomOrthogonal fills the square q with a Haar-distributed orthogonal
// matrix: the Q factor of a Gaussian matrix, with columns flipped so that R
// has a positive diagonal (without the flip the distribution is not uniform).
func randomOrthogonal(q *mat.Dense, rng *rand.Rand) {
	n, _ := q.Dims()
	a := mat.NewDense(n, n, nil)
	for i := range n {
		for j := range n {
			a.Set(i, j, rng.NormFloat64())
		}
	}
	var qr mat.QR
	qr.Factorize(a)
	qr.QTo(q)
	var r mat.Dense
	qr.RTo(&r)
	for j := range n {
		if r.At(j, j) < 0 {
			for i := range n {
				q.Set(i, j, -q.At(i, j))
			}
		}
	}
}

// Dim returns the number of parameters.
func (q *Quadratic) Dim() int { return q.h.N }

// Eigenvalues returns the eigenvalues of H, in the order of the columns of
// Eigenvectors. The slice must not be modified.
func (q *Quadratic) Eigenvalues() []float64 { return q.vals }

// Eigenvectors returns the orthonormal eigenvectors of H as columns. The matrix
// must not be modified.
func (q *Quadratic) Eigenvectors() *mat.Dense { return q.vecs }

// Sharpness returns λ_max(H).
func (q *Quadratic) Sharpness() float64 {
	s := math.Inf(-1)
	for _, v := range q.vals {
		s = math.Max(s, v)
	}
	return s
}

// shift returns x − x*, in the workspace unless x* is the origin.
func (q *Quadratic) shift(x []float64) []float64 {
	if q.xmin == nil {
		return x
	}
	for i, v := range x {
		q.diff[i] = v - q.xmin[i]
	}
	return q.diff
}

func (q *Quadratic) mulH(dst, v []float64) {
	n := q.h.N
	blas64.Symv(1, q.h, blas64.Vector{N: n, Inc: 1, Data: v}, 0, blas64.Vector{N: n, Inc: 1, Data: dst})
}

// Loss returns E(x).
func (q *Quadratic) Loss(x []float64) float64 {
	checkLen("x", len(x), q.h.N)
	d := q.shift(x)
	q.mulH(q.hx, d)
	return 0.5 * floats.Dot(d, q.hx)
}

// Grad stores ∇E(x) = H(x − x*) in dst and returns E(x).
func (q *Quadratic) Grad(dst, x []float64) float64 {
	checkLen("x", len(x), q.h.N)
	checkLen("dst", len(dst), q.h.N)
	d := q.shift(x)
	q.mulH(dst, d)
	return 0.5 * floats.Dot(d, dst)
}

// HessVec stores Hv in dst.
func (q *Quadratic) HessVec(dst, x, v []float64) {
	checkLen("x", len(x), q.h.N)
	checkLen("v", len(v), q.h.N)
	checkLen("dst", len(dst), q.h.N)
	q.mulH(dst, v)
}
