package eos

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/floats"
)

// trigProblem is E(x) = ½xᵀAx + Σ_i s_i cos(b_i·x), a test problem with
// derivatives of every order in closed form:
//
//	∇E          = Ax − Σ s_i sin(b_i·x) b_i,
//	H v         = Av − Σ s_i cos(b_i·x)(b_i·v) b_i,
//	D³E[u, u, ·] =     Σ s_i sin(b_i·x)(b_i·u)² b_i.
type trigProblem struct {
	a [][]float64
	b [][]float64
	s []float64
}

func newTrigProblem(rng *rand.Rand, n, terms int) *trigProblem {
	p := &trigProblem{a: make([][]float64, n), b: make([][]float64, terms), s: make([]float64, terms)}
	for i := range n {
		p.a[i] = make([]float64, n)
	}
	for i := range n {
		for j := i; j < n; j++ {
			v := rng.NormFloat64()
			p.a[i][j], p.a[j][i] = v, v
		}
	}
	for i := range terms {
		p.b[i] = make([]float64, n)
		for j := range n {
			p.b[i][j] = rng.NormFloat64()
		}
		p.s[i] = 1 + rng.Float64()
	}
	return p
}

func (p *trigProblem) Dim() int { return len(p.a) }

func (p *trigProblem) Loss(x []float64) float64 {
	var e float64
	for i, row := range p.a {
		e += 0.5 * x[i] * floats.Dot(row, x)
	}
	for i, b := range p.b {
		e += p.s[i] * math.Cos(floats.Dot(b, x))
	}
	return e
}

func (p *trigProblem) Grad(dst, x []float64) float64 {
	for i, row := range p.a {
		dst[i] = floats.Dot(row, x)
	}
	for i, b := range p.b {
		floats.AddScaled(dst, -p.s[i]*math.Sin(floats.Dot(b, x)), b)
	}
	return p.Loss(x)
}

func (p *trigProblem) HessVec(dst, x, v []float64) {
	for i, row := range p.a {
		dst[i] = floats.Dot(row, v)
	}
	for i, b := range p.b {
		floats.AddScaled(dst, -p.s[i]*math.Cos(floats.Dot(b, x))*floats.Dot(b, v), b)
	}
}

func (p *trigProblem) thirdDeriv(dst, x, u []float64) {
	clear(dst)
	for i, b := range p.b {
		bu := floats.Dot(b, u)
		floats.AddScaled(dst, p.s[i]*math.Sin(floats.Dot(b, x))*bu*bu, b)
	}
}

// hvpDiffThirdDeriv stores D³E[u, u, ·] in dst by Richardson extrapolation of
// central differences of HVPs along u,
//
//	D_h = (H(x+hu)u − H(x−hu)u)/(2h),   D³E[u, u, ·] ≈ (4D_{h/2} − D_h)/3,
//
// exact up to rounding when H(x+su)u is a polynomial of degree ≤ 4 in s, as
// for depth-3 matrix factorisation (E has degree 6), and O(h⁴) otherwise.
func hvpDiffThirdDeriv(p Problem, dst, x, u []float64, h float64) {
	n := p.Dim()
	xt, a, b := make([]float64, n), make([]float64, n), make([]float64, n)
	diff := func(h float64, out []float64) {
		floats.AddScaledTo(xt, x, h, u)
		p.HessVec(a, xt, u)
		floats.AddScaledTo(xt, x, -h, u)
		p.HessVec(b, xt, u)
		for i := range out {
			out[i] = (a[i] - b[i]) / (2 * h)
		}
	}
	d1 := make([]float64, n)
	diff(h, d1)
	diff(h/2, dst)
	for i := range dst {
		dst[i] = (4*dst[i] - d1[i]) / 3
	}
}

// The second difference of gradients that gives ∇_θ⟨H, uuᵀ⟩ is checked against
// an analytic third derivative (trigProblem) and against differences of HVPs
// (matrix factorisation at a point of a GD run, with the oscillation GD has
// there). The error at h = 1e-3 was measured at 3e-8 for matrix
// factorisation and 6e-8 for an MNIST MLP; h = 3e-4 is slightly better for
// the first and worse for the second, where rounding (∝ 1/h²) takes over.
func TestCovarianceThirdDeriv(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	trig := newTrigProblem(rng, 5, 3)
	mf := newMFProblem(t, 5.5)
	mx := make([]float64, mf.Dim())
	mf.Init(mx, rand.New(rand.NewPCG(1, 2)))
	var tr Trace
	tr.KeepIterates = true
	if _, err := GD(mx, mf, mfEta, &GDSettings{Steps: 302, EigEvery: -1, Observers: []Observer{&tr}}); err != nil {
		t.Fatal(err)
	}
	mu := make([]float64, mf.Dim())
	Oscillation(mu, tr.Iterates[300], tr.Iterates[301], tr.Iterates[302])
	randVec := func(n int, scale float64) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = scale * rng.NormFloat64()
		}
		return v
	}
	for _, tc := range []struct {
		name   string
		p      Problem
		x, u   []float64
		oracle func(dst, x, u []float64)
		tol    float64
	}{
		{"trig |u|≈1", trig, randVec(5, 1), randVec(5, 0.5), trig.thirdDeriv, 1e-6},
		{"trig |u|≈0.01", trig, randVec(5, 1), randVec(5, 0.005), trig.thirdDeriv, 1e-6},
		{"matfact", mf, tr.Iterates[300], mu, func(dst, x, u []float64) { hvpDiffThirdDeriv(mf, dst, x, u, 1e-2) }, 1e-6},
	} {
		f, err := NewCovarianceFlow(tc.p, 0.1, nil)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]float64, tc.p.Dim())
		want := make([]float64, tc.p.Dim())
		f.ThirdDeriv(got, tc.x, tc.u)
		tc.oracle(want, tc.x, tc.u)
		d := floats.Distance(got, want, 2) / floats.Norm(want, 2)
		if d > tc.tol {
			t.Errorf("%s: relative error %.3g, want ≤ %.3g", tc.name, d, tc.tol)
		}
		t.Logf("%s: relative error %.3g", tc.name, d)
		if c := f.Cost(); c.Grads != 3 {
			t.Errorf("%s: ThirdDeriv used %d gradients, want 3", tc.name, c.Grads)
		}
	}
}

// The covariance form is the second-order truncation of the symmetrised
// model: with u scaled by s, the centre fields differ by O(s⁴) and the
// oscillation fields by O(s³) (Taylor expansion, see CovarianceFlow). The
// oracle is that expansion's order, measured from halving s on the analytic
// trigProblem.
func TestCovarianceTruncationOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	p := newTrigProblem(rng, 5, 3)
	n := p.Dim()
	const eta = 0.1
	fe, err := NewFreeEnergyFlow(p, eta, nil)
	if err != nil {
		t.Fatal(err)
	}
	cv, err := NewCovarianceFlow(p, eta, nil)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float64, n)
	u := make([]float64, n)
	for i := range x {
		x[i] = rng.NormFloat64()
		u[i] = rng.NormFloat64()
	}
	// diffs returns the distances of the centre and oscillation fields at
	// scale s.
	diffs := func(s float64) (dc, du float64) {
		state := make([]float64, 2*n)
		copy(state, x)
		floats.AddScaledTo(state[n:], state[n:], s, u)
		a, b := make([]float64, 2*n), make([]float64, 2*n)
		fe.VectorField(a, state)
		cv.VectorField(b, state)
		return floats.Distance(a[:n], b[:n], 2), floats.Distance(a[n:], b[n:], 2)
	}
	for _, s := range []float64{0.1, 0.05} {
		c1, u1 := diffs(s)
		c2, u2 := diffs(s / 2)
		oc, ou := math.Log2(c1/c2), math.Log2(u1/u2)
		if math.Abs(oc-4) > 0.2 || math.Abs(ou-3) > 0.2 {
			t.Errorf("s = %g: orders %.3g (centre) and %.3g (oscillation), want 4 and 3", s, oc, ou)
		}
		t.Logf("s = %g: orders %.3g (centre) and %.3g (oscillation)", s, oc, ou)
	}
}

// On a quadratic the truncation is exact: L_sym = E + ½uᵀHu and D³E = 0, so
// both forms have the same field and predictions (up to the rounding of the
// second difference, about ε‖∇E‖|u|²/h²).
func TestCovarianceQuadraticMatchesFreeEnergy(t *testing.T) {
	const eta = 0.1
	rng := rand.New(rand.NewPCG(1, 2))
	q := NewQuadratic([]float64{19, 21, 3, 0.5}, rng)
	n := q.Dim()
	fe, err := NewFreeEnergyFlow(q, eta, nil)
	if err != nil {
		t.Fatal(err)
	}
	cv, err := NewCovarianceFlow(q, eta, nil)
	if err != nil {
		t.Fatal(err)
	}
	x0, x1, x2 := make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range x0 {
		x0[i] = rng.NormFloat64()
		x1[i] = rng.NormFloat64()
		x2[i] = rng.NormFloat64()
	}
	var pf, pc Prediction
	for _, f := range []Flow{fe, cv} {
		if err := f.Init(x0, x1, x2); err != nil {
			t.Fatal(err)
		}
		if err := f.Advance(10 * eta); err != nil {
			t.Fatal(err)
		}
	}
	if err := fe.Predict(&pf); err != nil {
		t.Fatal(err)
	}
	if err := cv.Predict(&pc); err != nil {
		t.Fatal(err)
	}
	fc, fu := fe.State()
	cc, cu := cv.State()
	if d := floats.Distance(fc, cc, 2) + floats.Distance(fu, cu, 2); d > 1e-8 {
		t.Errorf("states differ by %.3g after 10 steps", d)
	}
	for _, c := range []struct {
		name string
		a, b float64
	}{
		{"LossMean", pf.LossMean, pc.LossMean},
		{"LossLo", pf.LossLo, pc.LossLo},
		{"LossHi", pf.LossHi, pc.LossHi},
		{"FreeEnergy", pf.FreeEnergy, pc.FreeEnergy},
		{"UNorm", pf.UNorm, pc.UNorm},
		{"Sharpness", pf.Sharpness, pc.Sharpness},
	} {
		if math.Abs(c.a-c.b) > 1e-8*math.Abs(c.a) {
			t.Errorf("%s: free-energy %v, covariance %v", c.name, c.a, c.b)
		}
	}
}
