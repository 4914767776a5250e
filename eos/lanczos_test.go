package eos

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// denseHessian builds H(x) column by column from HessVec on the basis
// vectors, symmetrised, for comparison with a dense eigensolver.
func denseHessian(p Problem, x []float64) *mat.SymDense {
	n := p.Dim()
	e := make([]float64, n)
	col := make([]float64, n)
	h := mat.NewDense(n, n, nil)
	for j := range n {
		e[j] = 1
		p.HessVec(col, x, e)
		e[j] = 0
		h.SetCol(j, col)
	}
	s := mat.NewSymDense(n, nil)
	for i := range n {
		for j := i; j < n; j++ {
			s.SetSym(i, j, (h.At(i, j)+h.At(j, i))/2)
		}
	}
	return s
}

// denseTop returns the k largest eigenvalues of H(x), descending, from
// mat.EigenSym on the dense Hessian: the oracle of the Lanczos tests.
func denseTop(t *testing.T, p Problem, x []float64, k int) []float64 {
	t.Helper()
	var es mat.EigenSym
	if !es.Factorize(denseHessian(p, x), false) {
		t.Fatal("dense eigendecomposition failed")
	}
	v := es.Values(nil)
	slices.Reverse(v)
	return v[:k]
}

// randomSymmetric returns a P×P matrix with independent N(0, 1) entries on
// and above the diagonal.
func randomSymmetric(n int, rng *rand.Rand) *mat.SymDense {
	a := mat.NewSymDense(n, nil)
	for i := range n {
		for j := i; j < n; j++ {
			a.SetSym(i, j, rng.NormFloat64())
		}
	}
	return a
}

// geometric returns n eigenvalues top·r^i.
func geometric(n int, top, r float64) []float64 {
	e := make([]float64, n)
	for i := range e {
		e[i] = top * math.Pow(r, float64(i))
	}
	return e
}

// checkRitz fails t unless the columns of vecs are orthonormal to 1e-10 and
// are eigenvectors of H(x) with the eigenvalues vals: ‖Hv − λv‖ ≤ tol·|λ|,
// measured with fresh HVPs.
func checkRitz(t *testing.T, p Problem, x, vals []float64, vecs *mat.Dense, tol float64) {
	t.Helper()
	n, k := vecs.Dims()
	var g mat.Dense
	g.Mul(vecs.T(), vecs)
	for i := range k {
		for j := range k {
			want := 0.0
			if i == j {
				want = 1
			}
			if d := math.Abs(g.At(i, j) - want); d > 1e-10 {
				t.Errorf("VᵀV[%d,%d] off identity by %.3g", i, j, d)
			}
		}
	}
	v := make([]float64, n)
	hv := make([]float64, n)
	for i := range k {
		mat.Col(v, i, vecs)
		p.HessVec(hv, x, v)
		floats.AddScaled(hv, -vals[i], v)
		if r := floats.Norm(hv, 2) / math.Abs(vals[i]); r > tol {
			t.Errorf("pair %d: residual ‖Hv − λv‖/|λ| = %.3g > %.3g", i, r, tol)
		}
	}
}

func TestLanczosTop(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))

	mf, err := NewMatFact(3, DiagTarget(5.5, 1, 2))
	if err != nil {
		t.Fatal(err)
	}
	mfx := make([]float64, mf.Dim())
	mf.InitScaled(mfx, rng, 0.5)

	// A top eigenvalue of multiplicity 3 above a geometric tail.
	degen := append([]float64{10, 10, 10}, geometric(57, 9, 0.95)...)
	// Three top eigenvalues 1e-7 apart.
	cluster := append([]float64{10, 10 - 1e-7, 10 - 2e-7}, geometric(97, 9, 0.97)...)
	// Largest algebraic, not largest magnitude: the negative end is 10×
	// larger.
	signed := make([]float64, 80)
	for i := range signed {
		signed[i] = 5 - 55*float64(i)/79
	}

	for _, tc := range []struct {
		name string
		p    Problem
		x    []float64
		s    *LanczosSettings
		tol  float64 // relative error of the eigenvalues
	}{
		{"random symmetric P=40", NewQuadraticMatrix(randomSymmetric(40, rng), nil), make([]float64, 40), &LanczosSettings{K: 3}, 1e-8},
		{"random symmetric P=120 K=1", NewQuadraticMatrix(randomSymmetric(120, rng), nil), make([]float64, 120), nil, 1e-8},
		{"geometric P=500", NewQuadratic(geometric(500, 30, 0.98), rng), make([]float64, 500), &LanczosSettings{K: 3}, 1e-8},
		{"degenerate top", NewQuadratic(degen, rng), make([]float64, 60), &LanczosSettings{K: 3}, 1e-8},
		{"clustered top", NewQuadratic(cluster, rng), make([]float64, 100), &LanczosSettings{K: 3}, 1e-8},
		{"signed spectrum", NewQuadratic(signed, rng), make([]float64, 80), &LanczosSettings{K: 2}, 1e-8},
		{"matfact d=3 L=3", mf, mfx, &LanczosSettings{K: 3}, 1e-8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := NewLanczos(tc.p, tc.s)
			if err != nil {
				t.Fatal(err)
			}
			k := l.K()
			vals := make([]float64, k)
			vecs := mat.NewDense(tc.p.Dim(), k, nil)
			hvps, err := l.Top(vals, vecs, tc.x, rand.New(rand.NewPCG(3, 4)))
			if err != nil {
				t.Fatal(err)
			}
			want := denseTop(t, tc.p, tc.x, k)
			for i := range k {
				if e := math.Abs(vals[i]-want[i]) / math.Abs(want[i]); e > tc.tol {
					t.Errorf("λ_%d = %.15g, dense EigenSym %.15g: relative error %.3g > %.3g", i, vals[i], want[i], e, tc.tol)
				}
			}
			// The residual bound: Tol = 1e-10 on the Lanczos estimate,
			// checked independently with fresh HVPs and a margin for
			// rounding.
			checkRitz(t, tc.p, tc.x, vals, vecs, 1e-8)
			t.Logf("P=%d K=%d: %d HVPs, top %.10g", tc.p.Dim(), k, hvps, vals[0])
		})
	}
}

func TestLanczosSharpness(t *testing.T) {
	// The quadratic's sharpness is max(eigs) by construction.
	eigs := geometric(200, 12.5, 0.97)
	q := NewQuadratic(eigs, rand.New(rand.NewPCG(1, 2)))
	s, err := Sharpness(q, make([]float64, 200))
	if err != nil {
		t.Fatal(err)
	}
	if e := math.Abs(s-12.5) / 12.5; e > 1e-8 {
		t.Errorf("Sharpness = %.15g, want 12.5: relative error %.3g", s, e)
	}
}

// TestLanczosWarmStart measures the HVPs of warm- and cold-started Lanczos
// along a GD trajectory of a matrix factorisation, where the Hessian changes
// at each step, and checks both agree with each other and with the dense
// oracle.
func TestLanczosWarmStart(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	mf, err := NewMatFact(3, DiagTarget(5.5, 4, 3, 2, 1, 1, 0.5, 0.5))
	if err != nil {
		t.Fatal(err)
	}
	n := mf.Dim()
	x := make([]float64, n)
	mf.InitScaled(x, rng, 0.5)
	g := make([]float64, n)
	for _, k := range []int{1, 3} {
		warm, err := NewLanczos(mf, &LanczosSettings{K: k})
		if err != nil {
			t.Fatal(err)
		}
		cold, err := NewLanczos(mf, &LanczosSettings{K: k})
		if err != nil {
			t.Fatal(err)
		}
		xs := append([]float64(nil), x...)
		vw, vc := make([]float64, k), make([]float64, k)
		var hw, hc int
		const steps = 20
		for step := range steps {
			cold.Reset()
			h, err := cold.Top(vc, nil, xs, rng)
			if err != nil {
				t.Fatal(err)
			}
			hc += h
			h, err = warm.Top(vw, nil, xs, rng)
			if err != nil {
				t.Fatal(err)
			}
			if step > 0 { // the first warm call is cold too
				hw += h
			} else {
				hc -= h
			}
			for i := range k {
				if e := math.Abs(vw[i]-vc[i]) / vc[i]; e > 1e-8 {
					t.Errorf("K=%d step %d: warm λ_%d = %.15g, cold %.15g", k, step, i, vw[i], vc[i])
				}
			}
			mf.Grad(g, xs)
			floats.AddScaled(xs, -0.02, g)
		}
		t.Logf("K=%d P=%d: %d steps, HVPs warm %d, cold %d", k, n, steps-1, hw, hc)
		if hw >= hc {
			t.Errorf("K=%d: warm start used %d HVPs, not fewer than cold %d", k, hw, hc)
		}
		// And the warm start still finds the right eigenvalues.
		if _, err := warm.Top(vw, nil, xs, rng); err != nil {
			t.Fatal(err)
		}
		want := denseTop(t, mf, xs, k)
		for i := range k {
			if e := math.Abs(vw[i]-want[i]) / want[i]; e > 1e-8 {
				t.Errorf("K=%d final: warm λ_%d = %.15g, dense EigenSym %.15g", k, i, vw[i], want[i])
			}
		}
	}
}

func TestLanczosNotConverged(t *testing.T) {
	// 5 HVPs cannot resolve the top of a slowly decaying spectrum to 1e-10.
	q := NewQuadratic(geometric(300, 1, 0.999), rand.New(rand.NewPCG(1, 2)))
	l, err := NewLanczos(q, &LanczosSettings{MaxIter: 5})
	if err != nil {
		t.Fatal(err)
	}
	var v [1]float64
	h, err := l.Top(v[:], nil, make([]float64, 300), nil)
	if !errors.Is(err, ErrNotConverged) {
		t.Errorf("error %v, want ErrNotConverged", err)
	}
	if h != 5 {
		t.Errorf("%d HVPs, want MaxIter = 5", h)
	}
	// A Ritz value is a Rayleigh quotient: within the spectrum, below the
	// top eigenvalue 1.
	if !(v[0] > 0 && v[0] <= 1) {
		t.Errorf("Ritz value %v outside (0, 1]", v[0])
	}
}

func TestNewLanczosErrors(t *testing.T) {
	q := NewQuadratic([]float64{3, 2, 1}, nil)
	for _, s := range []LanczosSettings{
		{K: -1},
		{K: 4},
		{MaxIter: -1},
		{K: 3, MaxIter: 2},
		{Tol: -1e-3},
		{Tol: 1},
		{Tol: math.NaN()},
	} {
		if _, err := NewLanczos(q, &s); err == nil {
			t.Errorf("settings %+v: no error", s)
		}
	}
}

func TestLanczosNoAllocs(t *testing.T) {
	q := NewQuadratic(geometric(100, 4, 0.9), rand.New(rand.NewPCG(1, 2)))
	l, err := NewLanczos(q, &LanczosSettings{K: 2})
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float64, 100)
	vals := make([]float64, 2)
	if _, err := l.Top(vals, nil, x, nil); err != nil {
		t.Fatal(err)
	}
	if a := testing.AllocsPerRun(5, func() { l.Top(vals, nil, x, nil) }); a != 0 {
		t.Errorf("Top allocates %v times per call in steady state", a)
	}
}
