package eos

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

func TestMatFactDerivatives(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		depth, d int
		scale    float64
	}{
		{1, 1, 1}, {1, 3, 1},
		{2, 1, 1}, {2, 2, 1}, {2, 3, 0.8},
		{3, 2, 0.8}, {3, 3, 0.8},
		{4, 2, 0.8}, {4, 3, 0.7},
	} {
		t.Run(fmt.Sprintf("L=%d,d=%d", tc.depth, tc.d), func(t *testing.T) {
			a := mat.NewDense(tc.d, tc.d, nil)
			for i := 0; i < tc.d; i++ {
				for j := 0; j < tc.d; j++ {
					a.Set(i, j, rng.NormFloat64())
				}
			}
			m, err := NewMatFact(tc.depth, a)
			if err != nil {
				t.Fatal(err)
			}
			x := make([]float64, m.Dim())
			m.InitScaled(x, rng, tc.scale)
			checkDerivs(t, m, x, rng)
			checkNoAllocs(t, m, x)
		})
	}
}

// With one factor E = ½‖W − A‖², so ∇E = W − A and H = I exactly; the
// implementation multiplies only by exact identities and zeros, so the
// comparisons are exact.
func TestMatFactDepthOne(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const d = 3
	a := mat.NewDense(d, d, nil)
	for i := 0; i < d; i++ {
		for j := 0; j < d; j++ {
			a.Set(i, j, rng.NormFloat64())
		}
	}
	m, err := NewMatFact(1, a)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float64, m.Dim())
	m.Init(x, rng)
	want := make([]float64, d*d)
	var loss float64
	for i := 0; i < d; i++ {
		for j := 0; j < d; j++ {
			r := x[i*d+j] - a.At(i, j)
			want[i*d+j] = r
			loss += 0.5 * r * r
		}
	}
	g := make([]float64, d*d)
	if got := m.Grad(g, x); math.Abs(got-loss) > 1e-15*loss {
		t.Errorf("loss = %v, want ½‖W − A‖² = %v", got, loss)
	}
	if !floats.Equal(g, want) {
		t.Errorf("gradient = %v, want W − A = %v", g, want)
	}
	v := randUnitVec(rng, d*d)
	hv := make([]float64, d*d)
	m.HessVec(hv, x, v)
	if !floats.Equal(hv, v) {
		t.Errorf("HessVec(v) = %v, want v = %v", hv, v)
	}
}

// At W_i = c·I and A = diag(a) the product is c^L I, so
//
//	E = ½ Σ_j (c^L − a_j)²,   ∂E/∂W_i = c^{L−1} diag(c^L − a_j),
//
// computed by hand for each case.
func TestMatFactScaledIdentity(t *testing.T) {
	for _, tc := range []struct {
		depth int
		c     float64
		diag  []float64
	}{
		{2, 1.5, []float64{5.5, 1}},
		{3, 1.5, []float64{5.5, 1}},
		{3, -0.7, []float64{2, -1, 0.5}},
	} {
		d := len(tc.diag)
		m, err := NewMatFact(tc.depth, DiagTarget(tc.diag...))
		if err != nil {
			t.Fatal(err)
		}
		x := make([]float64, m.Dim())
		for i := 0; i < tc.depth; i++ {
			for j := 0; j < d; j++ {
				x[i*d*d+j*d+j] = tc.c
			}
		}
		cl := math.Pow(tc.c, float64(tc.depth))
		var loss float64
		want := make([]float64, m.Dim())
		for j, aj := range tc.diag {
			loss += 0.5 * (cl - aj) * (cl - aj)
			for i := 0; i < tc.depth; i++ {
				want[i*d*d+j*d+j] = math.Pow(tc.c, float64(tc.depth-1)) * (cl - aj)
			}
		}
		g := make([]float64, m.Dim())
		got := m.Grad(g, x)
		if math.Abs(got-loss) > 1e-14*loss {
			t.Errorf("L=%d c=%v: loss = %v, want %v", tc.depth, tc.c, got, loss)
		}
		if e := vecRelDist(g, want); e > 1e-14 {
			t.Errorf("L=%d c=%v: gradient relative error %.3g", tc.depth, tc.c, e)
		}
	}
}

// For d = 1, L = 2, E = ½(w₂w₁ − a)² has the Hessian, by hand,
//
//	H = [ w₂²          2w₁w₂ − a ]
//	    [ 2w₁w₂ − a    w₁²       ].
func TestMatFactScalarHessian(t *testing.T) {
	const w1, w2, a = 1.5, -0.5, 2.0
	m, err := NewMatFact(2, DiagTarget(a))
	if err != nil {
		t.Fatal(err)
	}
	x := []float64{w1, w2}
	want := [2][2]float64{{w2 * w2, 2*w1*w2 - a}, {2*w1*w2 - a, w1 * w1}}
	col := make([]float64, 2)
	for j := 0; j < 2; j++ {
		e := make([]float64, 2)
		e[j] = 1
		m.HessVec(col, x, e)
		for i := 0; i < 2; i++ {
			if math.Abs(col[i]-want[i][j]) > 1e-15 {
				t.Errorf("H[%d][%d] = %v, want %v", i, j, col[i], want[i][j])
			}
		}
	}
}

// At the balanced minimum W_i = diag(a_j^{1/L}) of a diagonal target the
// sharpness is L·σ₁^{2−2/L} (MODEL.md §4): the direction moving every
// factor's (1,1) entry equally has the largest curvature. The oracle is that
// formula; the Hessian is assembled from HessVec columns and diagonalised
// densely with mat.EigenSym.
func TestMatFactBalancedSharpness(t *testing.T) {
	for _, tc := range []struct {
		depth int
		diag  []float64
	}{
		{3, []float64{5.5, 1}},
		{2, []float64{3, 0.5}},
		{4, []float64{2, 1, 0.25}},
	} {
		m, err := NewMatFact(tc.depth, DiagTarget(tc.diag...))
		if err != nil {
			t.Fatal(err)
		}
		d, p := m.Size(), m.Dim()
		x := make([]float64, p)
		for i := 0; i < tc.depth; i++ {
			for j, aj := range tc.diag {
				x[i*d*d+j*d+j] = math.Pow(aj, 1/float64(tc.depth))
			}
		}
		if l := m.Loss(x); l > 1e-28 {
			t.Errorf("L=%d: loss at the balanced minimum %v, want 0", tc.depth, l)
		}
		h := mat.NewSymDense(p, nil)
		col, e := make([]float64, p), make([]float64, p)
		for j := 0; j < p; j++ {
			e[j] = 1
			m.HessVec(col, x, e)
			e[j] = 0
			for i := 0; i <= j; i++ {
				h.SetSym(i, j, col[i])
			}
		}
		var eig mat.EigenSym
		if !eig.Factorize(h, false) {
			t.Fatal("eigendecomposition failed")
		}
		vals := eig.Values(nil)
		got := vals[len(vals)-1]
		want := float64(tc.depth) * math.Pow(tc.diag[0], 2-2/float64(tc.depth))
		if math.Abs(got-want) > 1e-12*want {
			t.Errorf("L=%d, σ₁=%v: sharpness %v, want L·σ₁^{2−2/L} = %v", tc.depth, tc.diag[0], got, want)
		}
	}
}

func TestMatFactErrors(t *testing.T) {
	for _, tc := range []struct {
		depth  int
		target *mat.Dense
		want   string
	}{
		{0, DiagTarget(1, 2), "depth 0"},
		{-2, DiagTarget(1), "depth -2"},
		{2, mat.NewDense(2, 3, nil), "2×3"},
		{2, DiagTarget(), "empty"},
		{2, nil, "empty"},
	} {
		_, err := NewMatFact(tc.depth, tc.target)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewMatFact(%d, …) error = %v, want one containing %q", tc.depth, err, tc.want)
		}
	}
}
