package eos

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/floats"
)

// quarticSep is the separable risk E(x) = Σ_i (½ b_i x_i² + ¼ a_i x_i⁴),
// whose period-2 orbits of GD are known in closed form: along coordinate i,
// GD maps u to −u when 2u = η(b_i u + a_i u³), that is
//
//	u² = (2/η − b_i) / a_i,
//
// with centre 0, while coordinates with u_i = 0 stay at 0.
type quarticSep struct{ a, b []float64 }

func (q quarticSep) Dim() int { return len(q.a) }

func (q quarticSep) Loss(x []float64) float64 {
	var e float64
	for i, v := range x {
		e += 0.5*q.b[i]*v*v + 0.25*q.a[i]*v*v*v*v
	}
	return e
}

func (q quarticSep) Grad(dst, x []float64) float64 {
	for i, v := range x {
		dst[i] = q.b[i]*v + q.a[i]*v*v*v
	}
	return q.Loss(x)
}

func (q quarticSep) HessVec(dst, x, v []float64) {
	for i, xi := range x {
		dst[i] = (q.b[i] + 3*q.a[i]*xi*xi) * v[i]
	}
}

// cycleTestInit is the paper's initialisation of a d = 2, L = 3 matrix
// factorisation, from a fixed seed.
func cycleTestInit(m *MatFact) []float64 {
	x := make([]float64, m.Dim())
	m.InitScaled(x, rand.New(rand.NewPCG(1, 2)), 0.3)
	return x
}

// cycleTestStart returns the centre and oscillation of GD's iterates
// θ_k, θ_{k+1}, θ_{k+2} with step eta from x0.
func cycleTestStart(t *testing.T, p Problem, x0 []float64, eta float64, k int) (c, u []float64) {
	t.Helper()
	tr := &Trace{KeepIterates: true}
	x := append([]float64(nil), x0...)
	if _, err := GD(x, p, eta, &GDSettings{Steps: k + 2, EigEvery: -1, Observers: []Observer{tr}}); err != nil {
		t.Fatal(err)
	}
	c = make([]float64, len(x0))
	u = make([]float64, len(x0))
	Centre(c, tr.Iterates[k], tr.Iterates[k+1], tr.Iterates[k+2])
	Oscillation(u, tr.Iterates[k], tr.Iterates[k+1], tr.Iterates[k+2])
	return c, u
}

func TestCycleResidualAnalytic(t *testing.T) {
	const eta = 0.077
	k := 2 / eta
	for _, tc := range []struct {
		name    string
		a, b    float64
		c, u    float64
		onCycle bool
	}{
		{"off the cycle", 1.5, 20, 0.3, 0.7, false},
		{"off the cycle, negative curvature", 2, -3, -0.4, 1.1, false},
		{"on the cycle", 1, 20, 0, math.Sqrt(k - 20), true},
		{"on the cycle, steep", 4, 5, 0, math.Sqrt((k - 5) / 4), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := quarticSep{a: []float64{tc.a}, b: []float64{tc.b}}
			field, gd := CycleResidual(q, eta, []float64{tc.c}, []float64{tc.u})
			// Oracle: the field expanded by hand from g(x) = bx + ax³,
			//	g(c+u) + g(c−u) = 2bc + 2a(c³ + 3cu²),
			//	g(c+u) − g(c−u) = 2bu + 2a(3c²u + u³),
			// so V = (−bc − a(c³ + 3cu²), bu + a(3c²u + u³) − ku).
			a, b, c, u := tc.a, tc.b, tc.c, tc.u
			vc := -b*c - a*(c*c*c+3*c*u*u)
			vu := b*u + a*(3*c*c*u+u*u*u) - k*u
			want := math.Hypot(vc, vu) / (k * math.Abs(u))
			if tc.onCycle {
				if field > 1e-14 || gd > 1e-14 {
					t.Errorf("at the analytic 2-cycle: field %.3g, gd %.3g, want ≤ 1e-14", field, gd)
				}
				return
			}
			if math.Abs(field-want) > 1e-13*want {
				t.Errorf("field residual %.16g, want %.16g (hand expansion)", field, want)
			}
			if math.Abs(gd-want) > 1e-13*want {
				t.Errorf("GD residual %.16g, want %.16g (equal to the field's)", gd, want)
			}
		})
	}
}

func TestCycleResidualIdentity(t *testing.T) {
	// Oracle: the algebraic identity V = (e_+ + e_−, e_− − e_+)/(2η), which
	// makes the two relative residuals equal at any point.
	m, err := NewMatFact(3, DiagTarget(5.5, 1))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	c := make([]float64, m.Dim())
	u := make([]float64, m.Dim())
	for trial := range 5 {
		m.InitScaled(c, rng, 1)
		m.InitScaled(u, rng, 0.1*float64(trial+1))
		field, gd := CycleResidual(m, 0.077, c, u)
		if math.Abs(field-gd) > 1e-12*field {
			t.Errorf("trial %d: field residual %.16g, GD residual %.16g, want equal", trial, field, gd)
		}
	}
	if f, g := CycleResidual(m, 0.077, c, make([]float64, m.Dim())); !math.IsInf(f, 1) || !math.IsInf(g, 1) {
		t.Errorf("u = 0: residuals %v, %v, want +Inf", f, g)
	}
}

func TestFindPeriodTwoAnalytic(t *testing.T) {
	const eta = 0.077
	k := 2 / eta
	for _, tc := range []struct {
		name     string
		q        quarticSep
		c0, u0   []float64
		wantU    []float64 // |u| expected; the centre is 0
		iterTest bool
	}{
		{
			name:  "1-D",
			q:     quarticSep{a: []float64{1}, b: []float64{20}},
			c0:    []float64{0.2},
			u0:    []float64{1.5},
			wantU: []float64{math.Sqrt(k - 20)},
		},
		{
			name:  "2-D, second coordinate at rest",
			q:     quarticSep{a: []float64{2, 1}, b: []float64{10, 5}},
			c0:    []float64{-0.1, 0.05},
			u0:    []float64{2.5, 0.1},
			wantU: []float64{math.Sqrt((k - 10) / 2), 0},
		},
		{
			name:  "2-D, both coordinates oscillate",
			q:     quarticSep{a: []float64{2, 1}, b: []float64{10, 5}},
			c0:    []float64{0.1, 0.1},
			u0:    []float64{2.6, 4.4},
			wantU: []float64{math.Sqrt((k - 10) / 2), math.Sqrt(k - 5)},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := FindPeriodTwo(tc.q, eta, tc.c0, tc.u0, nil)
			if err != nil {
				t.Fatal(err)
			}
			// Oracle: the closed form u² = (2/η − b_i)/a_i at centre 0.
			for i := range tc.wantU {
				if math.Abs(got.Centre[i]) > 1e-10 {
					t.Errorf("centre[%d] = %.3g, want 0", i, got.Centre[i])
				}
				if d := math.Abs(math.Abs(got.U[i]) - tc.wantU[i]); d > 1e-10*max(1, tc.wantU[i]) {
					t.Errorf("|u[%d]| = %.16g, want %.16g", i, math.Abs(got.U[i]), tc.wantU[i])
				}
			}
			if got.Residual > 1e-12 {
				t.Errorf("residual %.3g above the default tolerance", got.Residual)
			}
			// Oracle for the losses: E at ±u by the closed form, the
			// separable E being even in each coordinate.
			wantLoss := tc.q.Loss(tc.wantU)
			for _, l := range []float64{got.LSym, got.LossLo, got.LossHi} {
				if math.Abs(l-wantLoss) > 1e-10*wantLoss {
					t.Errorf("loss on the cycle %.16g, want %.16g", l, wantLoss)
				}
			}
			if wantF := wantLoss - floats.Dot(tc.wantU, tc.wantU)/eta; math.Abs(got.FreeEnergy-wantF) > 1e-9*math.Abs(wantF) {
				t.Errorf("free energy %.16g, want %.16g", got.FreeEnergy, wantF)
			}
		})
	}
}

func TestFindPeriodTwoCollapse(t *testing.T) {
	// Oracle: on a quadratic with every eigenvalue off 2/η the field
	// (−Hθ̄, (H − 2/η)u) is linear and vanishes only at u = 0, which one
	// Newton step reaches.
	q := NewQuadratic([]float64{3, 10, 20}, rand.New(rand.NewPCG(1, 2)))
	c := []float64{0.3, -0.2, 0.1}
	u := []float64{0.05, 0.02, -0.04}
	_, err := FindPeriodTwo(q, 0.077, c, u, nil)
	if !errors.Is(err, ErrNoPeriodTwo) {
		t.Errorf("error %v, want ErrNoPeriodTwo", err)
	}
}

func TestFindPeriodTwoSettings(t *testing.T) {
	q := quarticSep{a: []float64{1}, b: []float64{20}}
	c, u := []float64{0}, []float64{1}
	for _, tc := range []struct {
		name string
		eta  float64
		s    *PeriodTwoSettings
	}{
		{"eta zero", 0, nil},
		{"eta NaN", math.NaN(), nil},
		{"eta +Inf", math.Inf(1), nil},
		{"Tol 1", 0.077, &PeriodTwoSettings{Tol: 1}},
		{"Tol negative", 0.077, &PeriodTwoSettings{Tol: -1e-9}},
		{"MaxIter negative", 0.077, &PeriodTwoSettings{MaxIter: -1}},
		{"MinU 1", 0.077, &PeriodTwoSettings{MinU: 1}},
		{"MinU NaN", 0.077, &PeriodTwoSettings{MinU: math.NaN()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := FindPeriodTwo(q, tc.eta, c, u, tc.s)
			if err == nil || errors.Is(err, ErrNoPeriodTwo) {
				t.Errorf("error %v, want an error naming the value", err)
			}
		})
	}
	// One Newton step is not enough from far away: MaxIter is honoured.
	_, err := FindPeriodTwo(q, 0.077, []float64{0.5}, []float64{1}, &PeriodTwoSettings{MaxIter: 1})
	if !errors.Is(err, ErrNoPeriodTwo) {
		t.Errorf("MaxIter 1: error %v, want ErrNoPeriodTwo", err)
	}
}

// TestFindPeriodTwoGD checks a fixed point found on the matrix factorisation
// against GD itself: started at θ̄ + u, GD must alternate between θ̄ − u and
// θ̄ + u.
func TestFindPeriodTwoGD(t *testing.T) {
	const eta = 0.077
	for _, tc := range []struct {
		name  string
		sigma float64
		start int // GD step whose iterates start Newton
		steps int // GD steps checked on the cycle
	}{
		// diag(5.5, 1): GD converges to a stable 2-cycle; Newton starts
		// from the early transient, far from it.
		{"period 2, from step 20", 5.5, 20, 40},
		// diag(6, 1): GD is period 4, so its 2-cycle is unstable; just past
		// the period-doubling (σ_1 ≈ 5.94) the instability is weak enough
		// for GD to stay on the cycle found for 40 steps.
		{"unstable 2-cycle, from step 400", 6, 400, 40},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := NewMatFact(3, DiagTarget(tc.sigma, 1))
			if err != nil {
				t.Fatal(err)
			}
			c, u := cycleTestStart(t, m, cycleTestInit(m), eta, tc.start)
			got, err := FindPeriodTwo(m, eta, c, u, nil)
			if err != nil {
				t.Fatal(err)
			}
			want := [2][]float64{make([]float64, m.Dim()), make([]float64, m.Dim())}
			floats.AddTo(want[0], got.Centre, got.U)
			floats.SubTo(want[1], got.Centre, got.U)
			x := append([]float64(nil), want[0]...)
			tr := &Trace{KeepIterates: true}
			if _, err := GD(x, m, eta, &GDSettings{Steps: tc.steps, EigEvery: -1, Observers: []Observer{tr}}); err != nil {
				t.Fatal(err)
			}
			for k, it := range tr.Iterates {
				if d := floats.Distance(it, want[k%2], math.Inf(1)); d > 1e-10 {
					t.Errorf("GD step %d is %.3g away from θ̄ %s u", k, d, map[int]string{0: "+", 1: "−"}[k%2])
				}
			}
			if l := tr.Loss[0]; math.Abs(l-got.LossLo) > 1e-12*l && math.Abs(l-got.LossHi) > 1e-12*l {
				t.Errorf("GD loss %.16g is neither LossLo %.16g nor LossHi %.16g", l, got.LossLo, got.LossHi)
			}
		})
	}
}
