package eos

import (
	"fmt"
	"math/rand/v2"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// MatFact is deep matrix factorisation of a square target A ∈ R^{d×d},
//
//	E(W_1, …, W_L) = ½‖W_L ⋯ W_1 − A‖_F²,   W_i ∈ R^{d×d}.
//
// The parameter vector is W_1, …, W_L concatenated, each row-major, so
// P = L d². With the prefixes and suffixes of the product
//
//	P_i = W_i ⋯ W_1 (P_0 = I),   S_i = W_L ⋯ W_{i+1} (S_L = I),
//
// and the residual R = P_L − A, the gradient is
//
//	∂E/∂W_i = S_iᵀ R P_{i−1}ᵀ,
//
// and the Hessian-vector product along V = (V_1, …, V_L) is its directional
// derivative (R-operator), with Ṗ_i, Ṡ_i the derivatives of the prefixes and
// suffixes along V and Ṙ = Ṗ_L:
//
//	H V|_i = Ṡ_iᵀ R P_{i−1}ᵀ + S_iᵀ (Ṙ P_{i−1}ᵀ + R Ṗ_{i−1}ᵀ).
//
// At a balanced minimum of a diagonal target the sharpness is
// L σ_1(A)^{2−2/L}, which is why GD with step η cannot converge once that
// exceeds 2/η.
type MatFact struct {
	depth, d int
	a        []float64 // target, d×d row-major

	// Workspaces of d² entries each: pre[i] = P_i and suf[i] = S_i for
	// i = 0, …, L, their tangents dpre and dsuf, the residual res and
	// two products.
	pre, suf, dpre, dsuf [][]float64
	res, t1, t2          []float64
}

// NewMatFact returns the factorisation of target into depth square factors.
// It returns an error if depth < 1 or target is empty or not square. The
// target is copied.
func NewMatFact(depth int, target *mat.Dense) (*MatFact, error) {
	if depth < 1 {
		return nil, fmt.Errorf("eos: matrix factorisation depth %d out of range (want ≥ 1)", depth)
	}
	if target == nil || target.IsEmpty() {
		return nil, fmt.Errorf("eos: matrix factorisation target is empty")
	}
	r, c := target.Dims()
	if r != c {
		return nil, fmt.Errorf("eos: matrix factorisation target is %d×%d (want square)", r, c)
	}
	d := r
	m := &MatFact{depth: depth, d: d, a: make([]float64, d*d)}
	for i := 0; i < d; i++ {
		mat.Row(m.a[i*d:(i+1)*d], i, target)
	}
	alloc := func() [][]float64 {
		s := make([][]float64, depth+1)
		for i := range s {
			s[i] = make([]float64, d*d)
		}
		return s
	}
	m.pre, m.suf, m.dpre, m.dsuf = alloc(), alloc(), alloc(), alloc()
	m.res = make([]float64, d*d)
	m.t1 = make([]float64, d*d)
	m.t2 = make([]float64, d*d)
	for i := 0; i < d; i++ {
		m.pre[0][i*d+i] = 1
		m.suf[depth][i*d+i] = 1
	}
	// dpre[0] and dsuf[depth] stay zero: the ends I do not depend on W.
	return m, nil
}

// DiagTarget returns the diagonal matrix diag(diag...), the usual target of
// the EoS literature (for example diag(5.5, 1)). With no arguments it
// returns an empty matrix, which NewMatFact rejects.
func DiagTarget(diag ...float64) *mat.Dense {
	if len(diag) == 0 {
		return &mat.Dense{}
	}
	a := mat.NewDense(len(diag), len(diag), nil)
	for i, v := range diag {
		a.Set(i, i, v)
	}
	return a
}

// Depth returns the number of factors L.
func (m *MatFact) Depth() int { return m.depth }

// Size returns the side d of the target and of each factor.
func (m *MatFact) Size() int { return m.d }

// Dim returns the number of parameters L d².
func (m *MatFact) Dim() int { return m.depth * m.d * m.d }

// InitScaled stores independent scale·N(0, 1) entries in dst.
func (m *MatFact) InitScaled(dst []float64, rng *rand.Rand, scale float64) {
	checkLen("dst", len(dst), m.Dim())
	for i := range dst {
		dst[i] = scale * rng.NormFloat64()
	}
}

// Init stores independent 0.3·N(0, 1) entries in dst, the paper's
// initialisation.
func (m *MatFact) Init(dst []float64, rng *rand.Rand) { m.InitScaled(dst, rng, 0.3) }

// factor returns W_{i+1} (0-based i) as a view of x.
func (m *MatFact) factor(x []float64, i int) blas64.General {
	dd := m.d * m.d
	return blasView(m.d, m.d, x[i*dd:(i+1)*dd])
}

// forward computes the prefixes and the residual and returns the loss.
func (m *MatFact) forward(x []float64) float64 {
	d := m.d
	for i := 0; i < m.depth; i++ {
		blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, m.factor(x, i), blasView(d, d, m.pre[i]), 0, blasView(d, d, m.pre[i+1]))
	}
	var sum float64
	for j, p := range m.pre[m.depth] {
		r := p - m.a[j]
		m.res[j] = r
		sum += r * r
	}
	return 0.5 * sum
}

// suffixes computes S_i for i = L−1, …, 0.
func (m *MatFact) suffixes(x []float64) {
	d := m.d
	for i := m.depth - 1; i >= 0; i-- {
		blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, blasView(d, d, m.suf[i+1]), m.factor(x, i), 0, blasView(d, d, m.suf[i]))
	}
}

// Loss returns E(x).
func (m *MatFact) Loss(x []float64) float64 {
	checkLen("x", len(x), m.Dim())
	return m.forward(x)
}

// Grad stores ∇E(x) in dst and returns E(x).
func (m *MatFact) Grad(dst, x []float64) float64 {
	checkLen("x", len(x), m.Dim())
	checkLen("dst", len(dst), m.Dim())
	loss := m.forward(x)
	m.suffixes(x)
	d := m.d
	res, t := blasView(d, d, m.res), blasView(d, d, m.t1)
	for i := 0; i < m.depth; i++ {
		// ∂E/∂W_{i+1} = S_{i+1}ᵀ (R P_iᵀ).
		blas64.Gemm(blas.NoTrans, blas.Trans, 1, res, blasView(d, d, m.pre[i]), 0, t)
		blas64.Gemm(blas.Trans, blas.NoTrans, 1, blasView(d, d, m.suf[i+1]), t, 0, m.factor(dst, i))
	}
	return loss
}

// HessVec stores ∇²E(x) v in dst.
func (m *MatFact) HessVec(dst, x, v []float64) {
	checkLen("x", len(x), m.Dim())
	checkLen("v", len(v), m.Dim())
	checkLen("dst", len(dst), m.Dim())
	m.forward(x)
	m.suffixes(x)
	d, L := m.d, m.depth
	view := func(s []float64) blas64.General { return blasView(d, d, s) }
	// Ṗ_i = V_i P_{i−1} + W_i Ṗ_{i−1} and Ṡ_{i−1} = Ṡ_i W_i + S_i V_i.
	for i := 0; i < L; i++ {
		blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, m.factor(v, i), view(m.pre[i]), 0, view(m.dpre[i+1]))
		blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, m.factor(x, i), view(m.dpre[i]), 1, view(m.dpre[i+1]))
	}
	for i := L - 1; i >= 0; i-- {
		blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, view(m.dsuf[i+1]), m.factor(x, i), 0, view(m.dsuf[i]))
		blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, view(m.suf[i+1]), m.factor(v, i), 1, view(m.dsuf[i]))
	}
	res, dres := view(m.res), view(m.dpre[L])
	t1, t2 := view(m.t1), view(m.t2)
	for i := 0; i < L; i++ {
		out := m.factor(dst, i)
		// t1 = R P_iᵀ, t2 = Ṙ P_iᵀ + R Ṗ_iᵀ.
		blas64.Gemm(blas.NoTrans, blas.Trans, 1, res, view(m.pre[i]), 0, t1)
		blas64.Gemm(blas.NoTrans, blas.Trans, 1, dres, view(m.pre[i]), 0, t2)
		blas64.Gemm(blas.NoTrans, blas.Trans, 1, res, view(m.dpre[i]), 1, t2)
		blas64.Gemm(blas.Trans, blas.NoTrans, 1, view(m.dsuf[i+1]), t1, 0, out)
		blas64.Gemm(blas.Trans, blas.NoTrans, 1, view(m.suf[i+1]), t2, 1, out)
	}
}
