package eos

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

func TestCentreOscillation(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	n := 5
	c, d, u := randUnitVec(rng, n), randUnitVec(rng, n), randUnitVec(rng, n)
	for _, tc := range []struct {
		name  string
		drift float64 // θ_k = c + drift·k·d + (−1)^k u
	}{
		{"period 2", 0},
		{"linear drift", 0.3},
	} {
		for k := range 2 {
			theta := func(j int) []float64 {
				x := slices.Clone(c)
				floats.AddScaled(x, tc.drift*float64(j), d)
				floats.AddScaled(x, math.Pow(-1, float64(j)), u)
				return x
			}
			x0, x1, x2 := theta(k), theta(k+1), theta(k+2)
			// Analytic: the weights (1, 2, 1)/4 give the centre at k+1
			// and (1, −2, 1)/4 cancel the drift and return (−1)^k u.
			wantC := slices.Clone(c)
			floats.AddScaled(wantC, tc.drift*float64(k+1), d)
			wantU := slices.Clone(u)
			floats.Scale(math.Pow(-1, float64(k)), wantU)
			got := make([]float64, n)
			Centre(got, x0, x1, x2)
			if e := floats.Distance(got, wantC, math.Inf(1)); e > 1e-15 {
				t.Errorf("%s k=%d: Centre off by %.3g", tc.name, k, e)
			}
			Oscillation(got, x0, x1, x2)
			if e := floats.Distance(got, wantU, math.Inf(1)); e > 1e-15 {
				t.Errorf("%s k=%d: Oscillation off (−1)^k u by %.3g", tc.name, k, e)
			}
			// In place: dst aliasing an input.
			Oscillation(x0, x0, x1, x2)
			if e := floats.Distance(x0, wantU, math.Inf(1)); e > 1e-15 {
				t.Errorf("%s k=%d: aliased Oscillation off by %.3g", tc.name, k, e)
			}
		}
	}
}

func TestMeanLoss2(t *testing.T) {
	got := MeanLoss2(nil, []float64{1, 3, 2, 6})
	if want := []float64{2, 2.5, 4}; !floats.Equal(got, want) {
		t.Errorf("MeanLoss2 = %v, want %v", got, want)
	}
	if got := MeanLoss2(nil, []float64{1}); len(got) != 0 {
		t.Errorf("MeanLoss2 of one loss = %v, want empty", got)
	}
}

func TestDetectPeriod(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	repeat := func(pattern []float64, n int, noise float64) []float64 {
		s := make([]float64, n)
		for i := range s {
			s[i] = pattern[i%len(pattern)] * (1 + noise*(2*rng.Float64()-1))
		}
		return s
	}
	converging := make([]float64, 100)
	for i := range converging {
		converging[i] = 1 + math.Pow(0.5, float64(60+i))
	}
	slow := make([]float64, 100)
	for i := range slow {
		slow[i] = 1 + math.Pow(0.99, float64(i))
	}
	for _, tc := range []struct {
		name   string
		losses []float64
		relTol float64
		want   int
	}{
		{"constant", repeat([]float64{2}, 100, 0), 0, 1},
		{"period 2", repeat([]float64{2, 3}, 100, 0), 0, 2},
		{"period 4", repeat([]float64{2, 3, 2.5, 4}, 100, 0), 0, 4},
		{"period 4 with equal halves' means", repeat([]float64{1, 3, 3, 1}, 100, 0), 0, 4},
		{"period 8", repeat([]float64{1, 2, 3, 4, 5, 6, 7, 8}, 100, 0), 0, 8},
		{"period 3", repeat([]float64{1, 2, 3}, 100, 0), 0, 0},
		// Noise of relative size 1e-8 against the default tolerance 1e-6:
		// the largest difference is 2e-8·4 < 1e-6·4.
		{"period 2, noise below tol", repeat([]float64{2, 4}, 100, 1e-8), 0, 2},
		{"period 2, noise above tol", repeat([]float64{2, 4}, 100, 1e-4), 0, 0},
		{"period 2, noise below loose tol", repeat([]float64{2, 4}, 100, 1e-4), 1e-3, 2},
		{"converged to rounding", converging, 0, 1},
		{"still converging", slow, 0, 0},
		{"too short for period 2", []float64{1, 2, 1}, 0, 0},
		{"NaN", []float64{1, 1, math.NaN(), 1}, 0, 0},
		{"Inf", []float64{1, math.Inf(1), 1, math.Inf(1)}, 0, 0},
	} {
		if got := DetectPeriod(tc.losses, tc.relTol); got != tc.want {
			t.Errorf("%s: DetectPeriod = %d, want %d", tc.name, got, tc.want)
		}
	}
}

// denseCovariance returns (1/W) Σ u uᵀ over us, the oracle of the
// Covariance tests.
func denseCovariance(us [][]float64) *mat.SymDense {
	n := len(us[0])
	s := mat.NewSymDense(n, nil)
	for _, u := range us {
		s.SymRankOne(s, 1/float64(len(us)), mat.NewVecDense(n, u))
	}
	return s
}

func TestCovariance(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	n, w := 30, 5
	var us [][]float64
	for range 8 {
		us = append(us, randUnitVec(rng, n))
		floats.Scale(1+rng.Float64(), us[len(us)-1])
	}
	same := randUnitVec(rng, n)
	minus := slices.Clone(same)
	floats.Scale(-1, minus)

	for _, tc := range []struct {
		name string
		add  [][]float64 // vectors added in order
		held [][]float64 // the last W of them
		k    int
	}{
		{"partial window", us[:3], us[:3], 3},
		{"wrapped window", us, us[3:], 3},
		// A pure period-2 orbit: ±u alternate, Σ = u uᵀ has rank 1.
		{"rank one", [][]float64{same, minus, same, minus}, [][]float64{same, minus, same, minus}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewCovariance(n, w)
			for _, u := range tc.add {
				c.Add(u)
			}
			if c.Len() != len(tc.held) {
				t.Fatalf("Len = %d, want %d", c.Len(), len(tc.held))
			}
			sigma := denseCovariance(tc.held)

			// Oracle: eigenvalues of the dense Σ by EigenSym.
			var es mat.EigenSym
			if !es.Factorize(sigma, false) {
				t.Fatal("dense eigendecomposition failed")
			}
			want := es.Values(nil)
			slices.Reverse(want)
			vals := make([]float64, tc.k)
			vecs := mat.NewDense(n, tc.k, nil)
			c.TopEigs(vals, vecs)
			for i := range tc.k {
				if math.Abs(vals[i]-want[i]) > 1e-12*want[0] {
					t.Errorf("λ_%d = %.15g, dense %.15g", i, vals[i], want[i])
				}
				v := mat.Col(nil, i, vecs)
				sv := make([]float64, n)
				c.MulVec(sv, v)
				if vals[i] == 0 {
					if floats.Norm(v, 2) != 0 {
						t.Errorf("λ_%d = 0 with a non-zero vector", i)
					}
					continue
				}
				if nv := floats.Norm(v, 2); math.Abs(nv-1) > 1e-12 {
					t.Errorf("vector %d has norm %.15g", i, nv)
				}
				floats.AddScaled(sv, -vals[i], v)
				if r := floats.Norm(sv, 2); r > 1e-12*vals[i] {
					t.Errorf("pair %d: ‖Σv − λv‖ = %.3g", i, r)
				}
			}

			// MulVec and Trace against the dense Σ.
			x := randUnitVec(rng, n)
			got := make([]float64, n)
			c.MulVec(got, x)
			var wantV mat.VecDense
			wantV.MulVec(sigma, mat.NewVecDense(n, x))
			if e := floats.Distance(got, wantV.RawVector().Data, math.Inf(1)); e > 1e-14 {
				t.Errorf("MulVec off the dense product by %.3g", e)
			}
			if tr, want := c.Trace(), mat.Trace(sigma); math.Abs(tr-want) > 1e-14*want {
				t.Errorf("Trace = %.15g, dense %.15g", tr, want)
			}

			// HessInner: tr(HΣ) with the dense Hessian of a quadratic.
			q := NewQuadraticMatrix(randomSymmetric(n, rng), nil)
			var hs mat.Dense
			hs.Mul(denseHessian(q, x), sigma)
			if hi, want := c.HessInner(q, x), mat.Trace(&hs); math.Abs(hi-want) > 1e-12*math.Abs(want) {
				t.Errorf("HessInner = %.15g, tr(HΣ) = %.15g", hi, want)
			}
		})
	}
}

// TestGDPeriodTwo runs GD on E = λx²/2 with λ = 2/η, where 1 − ηλ = −1
// exactly (η = 1/8 and λ = 16 are exact in binary), so the iterates are
// x_k = (−1)^k x_0: the centre is 0 and ‖u‖ = |x_0| at every step.
func TestGDPeriodTwo(t *testing.T) {
	const eta, x0 = 0.125, 0.75
	q := NewQuadratic([]float64{2 / eta}, nil)
	tr := &Trace{KeepIterates: true}
	x := []float64{x0}
	if _, err := GD(x, q, eta, &GDSettings{Steps: 50, Observers: []Observer{tr}}); err != nil {
		t.Fatal(err)
	}
	var c, u [1]float64
	for k := 0; k+2 < len(tr.Iterates); k++ {
		Centre(c[:], tr.Iterates[k], tr.Iterates[k+1], tr.Iterates[k+2])
		Oscillation(u[:], tr.Iterates[k], tr.Iterates[k+1], tr.Iterates[k+2])
		if c[0] != 0 || u[0] != math.Pow(-1, float64(k))*x0 || tr.UNorm[k] != x0 {
			t.Fatalf("step %d: centre %v, (−1)^k u = %v, ‖u‖ = %v; want 0, %v, %v", k, c[0], u[0], tr.UNorm[k], math.Pow(-1, float64(k))*x0, x0)
		}
	}
	if p := DetectPeriod(tr.Loss, 0); p != 1 {
		// E(x) = E(−x): the loss is constant although x has period 2.
		t.Errorf("loss period %d, want 1", p)
	}
	if tr.Sharpness[0] != 16 {
		t.Errorf("sharpness %v, want 16", tr.Sharpness[0])
	}
}

// TestGDOscillationGrowth checks MODEL.md §3 fact 2 on E = λx²/2 with λ
// slightly off 2/η: the oscillation is multiplied by |1 − ηλ| per step
// (analytic: x_k = (1 − ηλ)^k x_0, so u_k = x_k (ηλ)²/4), and its covariance
// Σ = u² grows at rate 2(λ − 2/η) per unit time t = kη, to first order in
// λ − 2/η.
func TestGDOscillationGrowth(t *testing.T) {
	const eta = 0.1
	for _, delta := range []float64{1e-4, -1e-4, 1e-2, -1e-2} {
		lambda := 2 / eta * (1 + delta)
		q := NewQuadratic([]float64{lambda}, nil)
		tr := &Trace{}
		x := []float64{1}
		if _, err := GD(x, q, eta, &GDSettings{Steps: 40, EigEvery: -1, Observers: []Observer{tr}}); err != nil {
			t.Fatal(err)
		}
		factor := math.Abs(1 - eta*lambda)
		for k := 0; k+3 < len(tr.UNorm); k++ {
			if r := tr.UNorm[k+1] / tr.UNorm[k]; math.Abs(r-factor) > 1e-12 {
				t.Errorf("δ=%g step %d: ‖u_{k+1}‖/‖u_k‖ = %.15g, |1 − ηλ| = %.15g", delta, k, r, factor)
			}
		}
		// Growth rate of Σ per unit time, from the window covariance.
		c := NewCovariance(1, 1)
		c.Add([]float64{tr.UNorm[10]})
		s0 := c.Trace()
		c.Add([]float64{tr.UNorm[11]})
		rate := math.Log(c.Trace()/s0) / eta
		want := 2 * (lambda - 2/eta)
		if e := math.Abs(rate-want) / math.Abs(want); e > 2*math.Abs(delta) {
			t.Errorf("δ=%g: Σ growth rate %.6g per unit t, 2(λ − 2/η) = %.6g: relative error %.2g > 2|δ|", delta, rate, want, e)
		}
	}
}
