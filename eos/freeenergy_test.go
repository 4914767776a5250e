package eos

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/floats"
)

// mfEta is the step size of the paper's matrix factorisation experiments;
// 2/η ≈ 25.97.
const mfEta = 0.077

// newMFProblem returns the depth-3 factorisation of diag(a, 1).
func newMFProblem(t *testing.T, a float64) *MatFact {
	t.Helper()
	m, err := NewMatFact(3, DiagTarget(a, 1))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// gdStep stores θ − η∇E(θ) in dst.
func gdStep(p Problem, eta float64, dst, x []float64) {
	g := make([]float64, p.Dim())
	p.Grad(g, x)
	floats.AddScaledTo(dst, x, -eta, g)
}

// mfOrbit returns two consecutive iterates of the period-2 orbit GD reaches
// from the paper's initialisation (seed) on diag(5.5, 1): 3000 steps, after
// which it checks that GD maps the second iterate back onto the first to
// 1e-13 relative, so that the pair is an orbit up to rounding.
func mfOrbit(t *testing.T, m *MatFact, seed uint64) (x0, x1 []float64) {
	t.Helper()
	x0 = make([]float64, m.Dim())
	m.Init(x0, rand.New(rand.NewPCG(seed, 2)))
	if _, err := GD(x0, m, mfEta, &GDSettings{Steps: 3000, EigEvery: -1}); err != nil {
		t.Fatal(err)
	}
	x1 = make([]float64, m.Dim())
	x2 := make([]float64, m.Dim())
	gdStep(m, mfEta, x1, x0)
	gdStep(m, mfEta, x2, x1)
	if d := floats.Distance(x2, x0, 2) / floats.Distance(x1, x0, 2); d > 1e-13 {
		t.Fatalf("seed %d: GD is not on a period-2 orbit after 3000 steps: ‖θ_2 − θ_0‖/‖θ_1 − θ_0‖ = %.3g", seed, d)
	}
	return x0, x1
}

// orbitState returns the model state (θ̄, u) of a period-2 orbit {x0, x1}:
// θ̄ = (x0 + x1)/2, u = (x0 − x1)/2, which is what Init computes from x0,
// x1, x0.
func orbitState(x0, x1 []float64) []float64 {
	n := len(x0)
	s := make([]float64, 2*n)
	for i := range x0 {
		s[i] = (x0[i] + x1[i]) / 2
		s[n+i] = (x0[i] - x1[i]) / 2
	}
	return s
}

// fieldRel returns ‖VF(state)‖ / ‖∇E(θ̄+u)‖, the size of the vector field
// relative to the gradients it balances (on an orbit both halves of the
// field are differences of terms of size ‖∇E(θ̄±u)‖ = 2‖u‖/η).
func fieldRel(f *FreeEnergyFlow, p Problem, state []float64) float64 {
	n := p.Dim()
	d := make([]float64, 2*n)
	f.VectorField(d, state)
	x := make([]float64, n)
	floats.AddTo(x, state[:n], state[n:])
	g := make([]float64, n)
	p.Grad(g, x)
	return floats.Norm(d, 2) / floats.Norm(g, 2)
}

// At a period-2 orbit of GD the model's vector field vanishes. The quadratic
// case is analytic: with an eigenvalue λ = 2/η, GD multiplies the component
// along its eigenvector by 1 − ηλ = −1, so {±u} is an orbit for any u along
// it. The matrix-factorisation orbits are found by GD itself (mfOrbit).
func TestFreeEnergyFixedPoints(t *testing.T) {
	const eta = 0.1
	q := NewQuadratic([]float64{2 / eta, 1, 5, 0.3}, rand.New(rand.NewPCG(1, 2)))
	qs := make([]float64, 8)
	for i := range 4 {
		qs[4+i] = 0.3 * q.Eigenvectors().At(i, 0)
	}
	m := newMFProblem(t, 5.5)
	for _, tc := range []struct {
		name  string
		p     Problem
		eta   float64
		state func() []float64
	}{
		{"quadratic λ=2/η", q, eta, func() []float64 { return qs }},
		{"matfact seed 1", m, mfEta, func() []float64 { return orbitState(mfOrbit(t, m, 1)) }},
		{"matfact seed 2", m, mfEta, func() []float64 { return orbitState(mfOrbit(t, m, 2)) }},
		{"matfact seed 3", m, mfEta, func() []float64 { return orbitState(mfOrbit(t, m, 3)) }},
	} {
		f, err := NewFreeEnergyFlow(tc.p, tc.eta, nil)
		if err != nil {
			t.Fatal(err)
		}
		rel := fieldRel(f, tc.p, tc.state())
		if rel > 1e-10 {
			t.Errorf("%s: ‖VF‖/‖∇E(θ̄+u)‖ = %.3g at a period-2 orbit, want ≤ 1e-10", tc.name, rel)
		}
		t.Logf("%s: ‖VF‖/‖∇E(θ̄+u)‖ = %.3g", tc.name, rel)
	}
}

// Started near a period-2 orbit, the model converges to a period-2 orbit
// next to it: its vector field vanishes, and the oracle is GD itself, which
// must map θ̄+u onto θ̄−u and back. The orbits of matrix factorisation come
// in continuous families (W_i → W_i Q, W_{i+1} → W_{i+1} Qᵀ for orthogonal
// Q leaves E invariant and commutes with GD), so the limit need not be the
// orbit perturbed, but it has the same two-step mean loss and lies within a
// few perturbation sizes of it.
func TestFreeEnergyConvergesToOrbit(t *testing.T) {
	m := newMFProblem(t, 5.5)
	n := m.Dim()
	rng := rand.New(rand.NewPCG(1, 2))
	for _, seed := range []uint64{1, 2, 3} {
		x0, x1 := mfOrbit(t, m, seed)
		orbit := orbitState(x0, x1)
		lOrbit := (m.Loss(x0) + m.Loss(x1)) / 2
		const delta = 1e-3
		f, err := NewFreeEnergyFlow(m, mfEta, &FlowSettings{EigEvery: -1})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Init(x0, x1, x0); err != nil {
			t.Fatal(err)
		}
		c, u := f.State()
		for i := range c {
			c[i] += delta * rng.NormFloat64()
			u[i] += delta * rng.NormFloat64()
		}
		if err := f.Advance(2000 * mfEta); err != nil {
			t.Fatal(err)
		}
		state := append(append([]float64(nil), c...), u...)
		rel := fieldRel(f, m, state)
		if rel > 1e-10 {
			t.Errorf("seed %d: ‖VF‖/‖∇E‖ = %.3g after 2000 steps, want ≤ 1e-10", seed, rel)
		}
		t.Logf("seed %d: ‖VF‖/‖∇E‖ = %.3g, distance to the orbit %.3g", seed, rel, floats.Distance(state, orbit, 2))
		plus, minus, next := make([]float64, n), make([]float64, n), make([]float64, n)
		floats.AddTo(plus, c, u)
		floats.SubTo(minus, c, u)
		gdStep(m, mfEta, next, plus)
		if d := floats.Distance(next, minus, 2) / floats.Norm(u, 2); d > 1e-9 {
			t.Errorf("seed %d: GD maps θ̄+u to θ̄−u only to %.3g relative, want 1e-9", seed, d)
		}
		gdStep(m, mfEta, next, minus)
		if d := floats.Distance(next, plus, 2) / floats.Norm(u, 2); d > 1e-9 {
			t.Errorf("seed %d: GD maps θ̄−u to θ̄+u only to %.3g relative, want 1e-9", seed, d)
		}
		var p Prediction
		if err := f.Predict(&p); err != nil {
			t.Fatal(err)
		}
		if d := math.Abs(p.LossMean-lOrbit) / lOrbit; d > 1e-9 {
			t.Errorf("seed %d: L_sym at the limit %v, orbit's two-step mean %v", seed, p.LossMean, lOrbit)
		}
		if d := floats.Distance(state, orbit, 2); d > 20*delta {
			t.Errorf("seed %d: limit %.3g away from the orbit, perturbation %.3g", seed, d, delta)
		}
	}
}

// The centre descends F and the oscillation ascends it: the vector field is
// (−∇_θ̄ F, +∇_u F). The oracle is central differences of FreeEnergy (step
// 1e-5, error about 1e-9 for this unit-scale problem) at points of a GD run
// on matrix factorisation, before and after the oscillation formed.
func TestFreeEnergyGradientStructure(t *testing.T) {
	m := newMFProblem(t, 5.5)
	n := m.Dim()
	f, err := NewFreeEnergyFlow(m, mfEta, nil)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float64, n)
	m.Init(x, rand.New(rand.NewPCG(9, 2)))
	var tr Trace
	tr.KeepIterates = true
	if _, err := GD(x, m, mfEta, &GDSettings{Steps: 60, EigEvery: -1, Observers: []Observer{&tr}}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []int{5, 20, 40} {
		if err := f.Init(tr.Iterates[k], tr.Iterates[k+1], tr.Iterates[k+2]); err != nil {
			t.Fatal(err)
		}
		c, u := f.State()
		state := append(append([]float64(nil), c...), u...)
		vf := make([]float64, 2*n)
		f.VectorField(vf, state)
		fd := make([]float64, 2*n)
		const h = 1e-5
		for i := range state {
			s := append([]float64(nil), state...)
			s[i] += h
			_, fp := FreeEnergy(m, mfEta, s[:n], s[n:])
			s[i] -= 2 * h
			_, fm := FreeEnergy(m, mfEta, s[:n], s[n:])
			fd[i] = (fp - fm) / (2 * h)
			if i < n {
				fd[i] = -fd[i]
			}
		}
		d := floats.Distance(vf, fd, 2) / floats.Norm(fd, 2)
		if d > 1e-7 {
			t.Errorf("step %d: ‖VF − (−∇_θ̄F, ∇_uF)‖/‖·‖ = %.3g, want ≤ 1e-7", k, d)
		}
		t.Logf("step %d: ‖VF − (−∇_θ̄F, ∇_uF)‖/‖·‖ = %.3g", k, d)
	}
}

// On a quadratic E = ½θᵀHθ the model is linear and decoupled,
//
//	dθ̄/dt = −Hθ̄,   du/dt = (H − 2/η)u,
//
// so each eigencomponent is multiplied by R(hμ) per step of size h, with R
// RK4's stability function and μ = −λ or λ − 2/η; the continuous solution
// multiplies by exp(μt). The first oracle checks the integrator wiring
// exactly; the second, with small steps, checks the model: an oscillation
// along λ grows or decays at rate λ − 2/η, so Σ at rate 2(λ − 2/η).
func TestFreeEnergyQuadratic(t *testing.T) {
	const eta = 0.1
	eigs := []float64{19, 20.5, 5, 0.5}
	q := NewQuadratic(eigs, rand.New(rand.NewPCG(1, 2)))
	n := q.Dim()
	vecs := q.Eigenvectors()
	c0 := []float64{1, -0.5, 0.25, 2}
	u0 := []float64{0.1, 0.2, -0.3, 0.05}
	rk4 := func(z float64) float64 { return 1 + z + z*z/2 + z*z*z/6 + z*z*z*z/24 }
	for _, tc := range []struct {
		name     string
		substeps int
		steps    int
		factor   func(mu float64) float64 // per GD step
		tol      float64
	}{
		// Rounding only.
		{"RK4 one step", 1, 20, func(mu float64) float64 { return rk4(mu * eta) }, 1e-12},
		{"RK4 four steps", 4, 20, func(mu float64) float64 { return math.Pow(rk4(mu*eta/4), 4) }, 1e-12},
		// RK4's global error for these rates: about 2e-9 relative.
		{"exact", 64, 20, func(mu float64) float64 { return math.Exp(mu * eta) }, 1e-8},
	} {
		f, err := NewFreeEnergyFlow(q, eta, &FlowSettings{Substeps: tc.substeps})
		if err != nil {
			t.Fatal(err)
		}
		// The state in the eigenbasis: θ̄ = Σ c0_i q_i, u = Σ u0_i q_i.
		// Init from θ̄+u, θ̄−u, θ̄+u gives exactly this state.
		c := make([]float64, n)
		u := make([]float64, n)
		for i := range n {
			for r := range n {
				c[r] += c0[i] * vecs.At(r, i)
				u[r] += u0[i] * vecs.At(r, i)
			}
		}
		xp, xm := make([]float64, n), make([]float64, n)
		floats.AddTo(xp, c, u)
		floats.SubTo(xm, c, u)
		if err := f.Init(xp, xm, xp); err != nil {
			t.Fatal(err)
		}
		for range tc.steps {
			if err := f.Advance(eta); err != nil {
				t.Fatal(err)
			}
		}
		gc, gu := f.State()
		for i, lam := range eigs {
			var pc, pu float64
			for r := range n {
				pc += vecs.At(r, i) * gc[r]
				pu += vecs.At(r, i) * gu[r]
			}
			wc := c0[i] * math.Pow(tc.factor(-lam), float64(tc.steps))
			wu := u0[i] * math.Pow(tc.factor(lam-2/eta), float64(tc.steps))
			if d := math.Abs(pc - wc); d > tc.tol*math.Max(math.Abs(wc), 1e-3) {
				t.Errorf("%s: centre along λ=%g: %v, want %v", tc.name, lam, pc, wc)
			}
			if d := math.Abs(pu - wu); d > tc.tol*math.Max(math.Abs(wu), 1e-3) {
				t.Errorf("%s: oscillation along λ=%g: %v, want %v", tc.name, lam, pu, wu)
			}
		}
	}
}

// With u = 0 the model is gradient flow: the same RK4 steps from the same
// point give the same trajectory, since ½(g + g) = g exactly.
func TestFreeEnergyZeroUIsGradientFlow(t *testing.T) {
	m := newMFProblem(t, 5.5)
	x := make([]float64, m.Dim())
	m.Init(x, rand.New(rand.NewPCG(1, 2)))
	fe, err := NewFreeEnergyFlow(m, mfEta, &FlowSettings{Substeps: 4})
	if err != nil {
		t.Fatal(err)
	}
	gf, err := NewGradientFlow(m, mfEta, &FlowSettings{Substeps: 4})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []Flow{fe, gf} {
		if err := f.Init(x, x, x); err != nil {
			t.Fatal(err)
		}
		if err := f.Advance(100 * mfEta); err != nil {
			t.Fatal(err)
		}
	}
	c, u := fe.State()
	if d := floats.Distance(c, gf.State(), 2) / floats.Norm(c, 2); d > 1e-14 {
		t.Errorf("free-energy model with u = 0 left gradient flow by %.3g relative", d)
	}
	if nu := floats.Norm(u, 2); nu != 0 {
		t.Errorf("u grew from 0 to %v", nu)
	}
}

// On a period-2 orbit the predictions are exact: L_sym is GD's two-step mean,
// the envelope is the pair of losses, F = L_sym − ‖u‖²/η, and the sharpness
// is measured at the centre (oracle: Sharpness, an independent Lanczos).
func TestFreeEnergyPredictOnOrbit(t *testing.T) {
	m := newMFProblem(t, 5.5)
	x0, x1 := mfOrbit(t, m, 1)
	f, err := NewFreeEnergyFlow(m, mfEta, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Init(x0, x1, x0); err != nil {
		t.Fatal(err)
	}
	var p Prediction
	if err := f.Predict(&p); err != nil {
		t.Fatal(err)
	}
	l0, l1 := m.Loss(x0), m.Loss(x1)
	u := make([]float64, m.Dim())
	floats.SubTo(u, x0, x1)
	floats.Scale(0.5, u)
	centre := make([]float64, m.Dim())
	floats.AddTo(centre, x0, x1)
	floats.Scale(0.5, centre)
	s, err := Sharpness(m, centre)
	if err != nil {
		t.Fatal(err)
	}
	nu := floats.Norm(u, 2)
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"LossMean", p.LossMean, (l0 + l1) / 2},
		{"LossLo", p.LossLo, math.Min(l0, l1)},
		{"LossHi", p.LossHi, math.Max(l0, l1)},
		{"FreeEnergy", p.FreeEnergy, (l0+l1)/2 - nu*nu/mfEta},
		{"UNorm", p.UNorm, nu},
		{"Sharpness", p.Sharpness, s},
	} {
		if d := math.Abs(c.got - c.want); d > 1e-12*math.Abs(c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	lsym, fe := FreeEnergy(m, mfEta, f.y[:m.Dim()], f.y[m.Dim():])
	if lsym != p.LossMean || fe != p.FreeEnergy {
		t.Errorf("FreeEnergy = %v, %v; Predict gave %v, %v", lsym, fe, p.LossMean, p.FreeEnergy)
	}
}
