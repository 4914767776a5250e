package eos

import (
	"bytes"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// quadraticIterate returns θ_k of GD on a quadratic with minimiser 0 from x0,
// the analytic oracle θ_k = Q diag((1 − ηλ_i)^k) Qᵀ θ_0.
func quadraticIterate(q *Quadratic, x0 []float64, eta float64, k int) []float64 {
	n := q.Dim()
	vecs := q.Eigenvectors()
	c := mat.NewVecDense(n, nil)
	c.MulVec(vecs.T(), mat.NewVecDense(n, x0))
	for i, l := range q.Eigenvalues() {
		c.SetVec(i, c.AtVec(i)*math.Pow(1-eta*l, float64(k)))
	}
	var x mat.VecDense
	x.MulVec(vecs, c)
	return x.RawVector().Data
}

func TestGDQuadratic(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		name string
		eigs []float64
		eta  float64
	}{
		// η·λ_max = 1.5: converging with alternating sign on top.
		{"stable", geometric(20, 10, 0.7), 0.15},
		// η·λ_max = 1.9: slow, strongly alternating top component.
		{"near edge", geometric(20, 10, 0.7), 0.19},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := NewQuadratic(tc.eigs, rng)
			x0 := randUnitVec(rng, q.Dim())
			x := append([]float64(nil), x0...)
			tr := &Trace{KeepIterates: true}
			const steps = 60
			res, err := GD(x, q, tc.eta, &GDSettings{Steps: steps, EigK: 2, Observers: []Observer{tr}})
			if err != nil {
				t.Fatal(err)
			}
			if res.Steps != steps || len(tr.Step) != steps+1 {
				t.Fatalf("%d updates and %d observations, want %d and %d", res.Steps, len(tr.Step), steps, steps+1)
			}
			g := make([]float64, q.Dim())
			for k := 0; k <= steps; k++ {
				want := quadraticIterate(q, x0, tc.eta, k)
				if tr.Step[k] != k {
					t.Errorf("observation %d has K = %d", k, tr.Step[k])
				}
				if e := floats.Distance(tr.Iterates[k], want, 2); e > 1e-12 {
					t.Errorf("θ_%d off the analytic iterate by %.3g", k, e)
				}
				wantLoss := q.Grad(g, want)
				if e := math.Abs(tr.Loss[k] - wantLoss); e > 1e-12*wantLoss+1e-300 {
					t.Errorf("loss at step %d: %.15g, analytic %.15g", k, tr.Loss[k], wantLoss)
				}
				if e := math.Abs(tr.GradNorm[k] - floats.Norm(g, 2)); e > 1e-12 {
					t.Errorf("gradient norm at step %d off by %.3g", k, e)
				}
				// Top two eigenvalues are 10 and 7 by construction.
				if math.Abs(tr.Eigs[k][0]-10) > 1e-8*10 || math.Abs(tr.Eigs[k][1]-7) > 1e-8*7 || tr.Sharpness[k] != tr.Eigs[k][0] {
					t.Errorf("step %d: eigenvalues %v, sharpness %v, want [10 7]", k, tr.Eigs[k], tr.Sharpness[k])
				}
			}
			if e := floats.Distance(x, quadraticIterate(q, x0, tc.eta, steps), 2); e > 1e-12 {
				t.Errorf("final x off the analytic θ_%d by %.3g", steps, e)
			}
			if res.Loss != tr.Loss[steps] || res.Sharpness != tr.Sharpness[steps] {
				t.Errorf("result loss %v sharpness %v, last observed %v %v", res.Loss, res.Sharpness, tr.Loss[steps], tr.Sharpness[steps])
			}
			if res.HVPs == 0 || res.Unconverged != 0 {
				t.Errorf("%d HVPs, %d unconverged Lanczos calls", res.HVPs, res.Unconverged)
			}
		})
	}
}

func TestGDEigEvery(t *testing.T) {
	for _, tc := range []struct {
		name     string
		dim      int
		eigEvery int
		measured func(k int) bool
	}{
		{"every 3", 30, 3, func(k int) bool { return k%3 == 0 }},
		{"never", 30, -1, func(int) bool { return false }},
		{"default small", 1000, 0, func(int) bool { return true }},
		{"default large", 1001, 0, func(k int) bool { return k%10 == 0 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.dim > 100 && testing.Short() {
				t.Skip("large quadratic")
			}
			// Diagonal, so construction is O(P²); sharpness 2.
			q := NewQuadratic(geometric(tc.dim, 2, 0.5), nil)
			x := make([]float64, tc.dim)
			for i := range x {
				x[i] = 1
			}
			tr := &Trace{}
			var hvps []int
			obs := observerFunc(func(s *Step) error { hvps = append(hvps, s.HVPs); return nil })
			if _, err := GD(x, q, 0.1, &GDSettings{Steps: 25, EigEvery: tc.eigEvery, Observers: []Observer{tr, obs}}); err != nil {
				t.Fatal(err)
			}
			for k, s := range tr.Sharpness {
				m := tc.measured(k)
				if m != !math.IsNaN(s) || m != (tr.Eigs[k] != nil) {
					t.Errorf("step %d: sharpness %v, eigs %v; measured should be %v", k, s, tr.Eigs[k], m)
				}
				if m && math.Abs(s-2) > 1e-8*2 {
					t.Errorf("step %d: sharpness %.15g, want 2", k, s)
				}
				// HVPs are cumulative: they grow exactly at measured steps.
				grew := hvps[k] > 0 && (k == 0 || hvps[k] > hvps[k-1])
				if grew != m {
					t.Errorf("step %d: HVPs %v, measured %v", k, hvps[:k+1], m)
				}
			}
		})
	}
}

// observerFunc adapts a function to Observer.
type observerFunc func(s *Step) error

func (f observerFunc) Observe(s *Step) error { return f(s) }

func TestGDDivergence(t *testing.T) {
	// E = λx²/2 with η = 0.1, λ = 30: x_k = (−2)^k x_0 and
	// E_k = 15·4^k for x_0 = 1 (analytic).
	const eta, lambda = 0.1, 30.0
	for _, tc := range []struct {
		name     string
		x0       float64
		bound    float64
		eigEvery int
		want     int // divergent step
		msg      string
	}{
		// Default bound 1e12·E_0 = 1.5e13: 15·4^k > 1.5e13 first at k = 20.
		{"default bound", 1, 0, 1, 20, "eos: diverged at step 20: loss=1.649267441664e+13, η=0.1, last sharpness 30 (η·S = 3 > 2)"},
		// 15·4^k > 100 first at k = 2.
		{"explicit bound", 1, 100, 1, 2, "eos: diverged at step 2: loss=240, η=0.1, last sharpness 30 (η·S = 3 > 2)"},
		// Only overflow stops: Dot(x, λx) = 30·4^k exceeds MaxFloat64
		// first at k = ⌈log₄(MaxFloat64/30)⌉ = 510.
		{"infinite bound", 1, math.Inf(1), -1, 510, "eos: diverged at step 510: loss=+Inf, η=0.1, sharpness not measured"},
		{"NaN start", math.NaN(), 0, 1, 0, "eos: diverged at step 0: loss=NaN, η=0.1, sharpness not measured"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := NewQuadratic([]float64{lambda}, nil)
			x := []float64{tc.x0}
			tr := &Trace{}
			var csv bytes.Buffer
			res, err := GD(x, q, eta, &GDSettings{
				Steps:     1000,
				EigEvery:  tc.eigEvery,
				LossBound: tc.bound,
				Observers: []Observer{tr, NewCSVWriter(&csv)},
			})
			var de *DivergenceError
			if !errors.As(err, &de) || !IsDivergence(err) {
				t.Fatalf("error %v, want a *DivergenceError", err)
			}
			if de.Step != tc.want || res.Steps != tc.want {
				t.Errorf("diverged at step %d after %d updates, want %d", de.Step, res.Steps, tc.want)
			}
			if err.Error() != tc.msg {
				t.Errorf("message\n%q, want\n%q", err.Error(), tc.msg)
			}
			if len(tr.Step) != tc.want {
				t.Errorf("observers saw %d steps, want %d (all before the divergent one)", len(tr.Step), tc.want)
			}
			// The CSVWriter was flushed: header plus one row per step.
			if n := strings.Count(csv.String(), "\n"); n != tc.want+1 {
				t.Errorf("CSV has %d lines, want %d", n, tc.want+1)
			}
			if !math.IsNaN(tc.x0) && x[0] != math.Pow(-2, float64(tc.want)) {
				t.Errorf("x = %v, want the divergent iterate (−2)^%d", x[0], tc.want)
			}
		})
	}
}

func TestGDObserverError(t *testing.T) {
	q := NewQuadratic([]float64{1, 2}, nil)
	x := []float64{1, 1}
	errStop := errors.New("stop")
	tr := &Trace{}
	stop := observerFunc(func(s *Step) error {
		if s.K == 5 {
			return errStop
		}
		return nil
	})
	var csv bytes.Buffer
	_, err := GD(x, q, 0.1, &GDSettings{Steps: 20, Observers: []Observer{tr, stop, NewCSVWriter(&csv)}})
	if !errors.Is(err, errStop) || IsDivergence(err) {
		t.Fatalf("error %v, want one wrapping the observer's", err)
	}
	// Observers before the failing one saw step 5, those after did not;
	// x is θ_5 = (1 − 0.1λ)^5 x_0 (analytic).
	if len(tr.Step) != 6 || strings.Count(csv.String(), "\n") != 6 {
		t.Errorf("trace has %d steps, CSV %d lines; want 6 and 6", len(tr.Step), strings.Count(csv.String(), "\n"))
	}
	if want := []float64{math.Pow(0.9, 5), math.Pow(0.8, 5)}; floats.Distance(x, want, math.Inf(1)) > 1e-15 {
		t.Errorf("x = %v, want θ_5 = %v", x, want)
	}
}

func TestGDSettingsErrors(t *testing.T) {
	q := NewQuadratic([]float64{1, 2}, nil)
	for _, tc := range []struct {
		eta float64
		s   GDSettings
	}{
		{0, GDSettings{}},
		{-0.1, GDSettings{}},
		{math.NaN(), GDSettings{}},
		{math.Inf(1), GDSettings{}},
		{0.1, GDSettings{Steps: -1}},
		{0.1, GDSettings{EigK: -1}},
		{0.1, GDSettings{EigK: 3}},
		{0.1, GDSettings{LossBound: -1}},
		{0.1, GDSettings{LossBound: math.NaN()}},
		{0.1, GDSettings{Lanczos: &LanczosSettings{Tol: -1}}},
	} {
		x := []float64{1, 1}
		if _, err := GD(x, q, tc.eta, &tc.s); err == nil || IsDivergence(err) {
			t.Errorf("η=%v %+v: error %v, want a settings error", tc.eta, tc.s, err)
		}
		if x[0] != 1 || x[1] != 1 {
			t.Errorf("η=%v %+v: x modified to %v", tc.eta, tc.s, x)
		}
	}
}

// TestGDNoAllocs checks that a GD step does not allocate with the sharpness
// off: a run of 200 steps allocates as much as one of 10, with a CSVWriter
// and a Printer (throttled) observing.
func TestGDNoAllocs(t *testing.T) {
	q := NewQuadratic(geometric(50, 10, 0.9), rand.New(rand.NewPCG(1, 2)))
	x := make([]float64, 50)
	allocs := func(steps int) float64 {
		return testing.AllocsPerRun(5, func() {
			for i := range x {
				x[i] = 1
			}
			obs := []Observer{NewCSVWriter(io.Discard), &Printer{Writer: io.Discard, Interval: math.MaxInt64}}
			if _, err := GD(x, q, 0.15, &GDSettings{Steps: steps, EigEvery: -1, Observers: obs}); err != nil {
				t.Fatal(err)
			}
		})
	}
	a10, a200 := allocs(10), allocs(200)
	if a200 != a10 {
		t.Errorf("GD allocates %v times for 10 steps, %v for 200: %.2g per step", a10, a200, (a200-a10)/190)
	}
	t.Logf("allocations per run: %v (10 steps), %v (200 steps)", a10, a200)
}
