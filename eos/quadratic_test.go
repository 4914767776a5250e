package eos

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

func TestQuadraticSpectrum(t *testing.T) {
	for _, tc := range []struct {
		name string
		eigs []float64
		rng  *rand.Rand
	}{
		{"diagonal", []float64{3, -1, 0.5, 7}, nil},
		{"rotated", []float64{3, -1, 0.5, 7, 7, 2}, rand.New(rand.NewPCG(1, 2))},
		{"rotated P=50", geometric(50, 20, 0.9), rand.New(rand.NewPCG(1, 2))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := NewQuadratic(tc.eigs, tc.rng)
			n := q.Dim()
			x := make([]float64, n)
			// Oracle: mat.EigenSym of the Hessian assembled from HessVec.
			var es mat.EigenSym
			if !es.Factorize(denseHessian(q, x), false) {
				t.Fatal("dense eigendecomposition failed")
			}
			got := es.Values(nil)
			want := slices.Clone(tc.eigs)
			slices.Sort(want)
			scale := math.Abs(want[0]) + math.Abs(want[n-1])
			for i := range n {
				if d := math.Abs(got[i] - want[i]); d > 1e-12*scale {
					t.Errorf("eigenvalue %d: EigenSym %.15g, prescribed %.15g", i, got[i], want[i])
				}
			}
			checkRitz(t, q, x, q.Eigenvalues(), q.Eigenvectors(), 1e-12)
			if s := q.Sharpness(); s != want[n-1] {
				t.Errorf("Sharpness %v, want %v", s, want[n-1])
			}
		})
	}
}

func TestQuadraticDerivs(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	n := 12
	xmin := make([]float64, n)
	for i := range xmin {
		xmin[i] = rng.NormFloat64()
	}
	for _, tc := range []struct {
		name string
		q    *Quadratic
	}{
		{"NewQuadratic", NewQuadratic(geometric(n, 5, 0.8), rng)},
		{"NewQuadraticMatrix", NewQuadraticMatrix(randomSymmetric(n, rng), xmin)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := randUnitVec(rng, n)
			checkDerivs(t, tc.q, x, rng)
			checkNoAllocs(t, tc.q, x)
		})
	}
}

func TestQuadraticMatrixMinimum(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	n := 6
	h := randomSymmetric(n, rng)
	xmin := randUnitVec(rng, n)
	q := NewQuadraticMatrix(h, xmin)
	g := make([]float64, n)
	if e := q.Grad(g, xmin); e != 0 || floats.Norm(g, 2) != 0 {
		t.Errorf("at x*: E = %v, ‖∇E‖ = %v, want 0, 0", e, floats.Norm(g, 2))
	}
	// Oracle: ½ vᵀHv with the dense matrix, for x = x* + v.
	v := randUnitVec(rng, n)
	x := make([]float64, n)
	floats.AddTo(x, xmin, v)
	vv := mat.NewVecDense(n, v)
	want := 0.5 * mat.Inner(vv, h, vv)
	if got := q.Loss(x); math.Abs(got-want) > 1e-14*math.Abs(want)+1e-15 {
		t.Errorf("E(x* + v) = %.16g, ½vᵀHv = %.16g", got, want)
	}
	// H and x* were copied.
	h.SetSym(0, 0, 1e6)
	xmin[0] = 1e6
	if got := q.Loss(x); math.Abs(got-want) > 1e-14*math.Abs(want)+1e-15 {
		t.Errorf("E changed with the caller's H or x*: %.16g, want %.16g", got, want)
	}
}
