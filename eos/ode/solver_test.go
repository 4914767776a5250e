package ode

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// linearSystem is y' = Ay for a fixed random 4×4 matrix A = Q D Q⁻¹ with
// eigenvalues −0.3 ± 2i, −1 and 0.5: moderate, with a complex pair.
type linearSystem struct {
	a  *mat.Dense
	y0 []float64
}

func newLinearSystem() linearSystem {
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 4
	q := mat.NewDense(n, n, nil)
	for i := range n {
		for j := range n {
			v := 0.3 * rng.NormFloat64()
			if i == j {
				v += 1
			}
			q.Set(i, j, v)
		}
	}
	d := mat.NewDense(n, n, []float64{
		-0.3, 2, 0, 0,
		-2, -0.3, 0, 0,
		0, 0, -1, 0,
		0, 0, 0, 0.5,
	})
	var qinv mat.Dense
	if err := qinv.Inverse(q); err != nil {
		panic(err)
	}
	var a mat.Dense
	a.Product(q, d, &qinv)
	y0 := make([]float64, n)
	for i := range y0 {
		y0[i] = rng.NormFloat64()
	}
	return linearSystem{a: &a, y0: y0}
}

// f evaluates Ay without allocating.
func (ls linearSystem) f(dst []float64, _ float64, y []float64) {
	raw := ls.a.RawMatrix()
	for i := range dst {
		dst[i] = floats.Dot(raw.Data[i*raw.Stride:i*raw.Stride+raw.Cols], y)
	}
}

// exact returns y(t) = exp(At) y0, the oracle, by gonum's matrix exponential.
func (ls linearSystem) exact(t float64) []float64 {
	var at, e mat.Dense
	at.Scale(t, ls.a)
	e.Exp(&at)
	var y mat.VecDense
	y.MulVec(&e, mat.NewVecDense(len(ls.y0), ls.y0))
	return y.RawVector().Data
}

func TestConvergenceOrder(t *testing.T) {
	t.Parallel()
	ls := newLinearSystem()
	const tEnd = 1.0
	want := ls.exact(tEnd)
	// The same step sizes h = 1/8 … 1/128 for every method. They keep
	// DOPRI5 above the rounding floor (≈ 5e-13 from h = 1/256 on) and out
	// of its pre-asymptotic range: from h = 1/4 its local slopes are 5.15,
	// 5.33, 5.25, 5.15, 5.08, 4.95, and a fit over h = 1/4 … 1/64 gives
	// 5.20.
	nSteps := []int{8, 16, 32, 64, 128}
	for _, m := range []*Tableau{Euler, Midpoint, RK4, DormandPrince54} {
		var logH, logErr []float64
		for _, n := range nSteps {
			sol, err := Solve(ls.f, 0, tEnd, ls.y0, &Settings{Method: m, Step: tEnd / float64(n)})
			if err != nil {
				t.Fatalf("%s n=%d: %v", m.Name, n, err)
			}
			if sol.Stats.Accepted != n {
				t.Errorf("%s: %d steps taken, want %d", m.Name, sol.Stats.Accepted, n)
			}
			logH = append(logH, math.Log(tEnd/float64(n)))
			logErr = append(logErr, math.Log(floats.Distance(sol.Y[0], want, 2)))
		}
		slope := lsqSlope(logH, logErr)
		// Oracle: the global error of a method of order p is C hᵖ + o(hᵖ).
		if math.Abs(slope-float64(m.Order)) > 0.2 {
			t.Errorf("%s: measured order %.3f, want %d ± 0.2", m.Name, slope, m.Order)
		}
		t.Logf("%s: measured order %.3f (nominal %d), errors %.3g … %.3g", m.Name, slope, m.Order, math.Exp(logErr[0]), math.Exp(logErr[len(logErr)-1]))
	}
}

// lsqSlope returns the least-squares slope of y against x.
func lsqSlope(x, y []float64) float64 {
	mx, my := floats.Sum(x)/float64(len(x)), floats.Sum(y)/float64(len(y))
	var sxy, sxx float64
	for i := range x {
		sxy += (x[i] - mx) * (y[i] - my)
		sxx += (x[i] - mx) * (x[i] - mx)
	}
	return sxy / sxx
}

// dopri5Evals is the number of Func calls of DormandPrince54 over one run:
// one for the first stage at t0, six per attempted step (the seventh stage
// of an accepted step is the first of the next; a rejected step keeps the
// first stage of the retry), and one more when the initial step is
// estimated automatically.
func dopri5Evals(st Stats, autoStep bool) int {
	e := 1 + 6*st.Steps
	if autoStep {
		e++
	}
	return e
}

func TestAdaptiveToleranceScaling(t *testing.T) {
	t.Parallel()
	ls := newLinearSystem()
	const tEnd = 2.0
	want := ls.exact(tEnd)
	norm := floats.Norm(want, 2)
	prevErr := math.Inf(1)
	for _, rtol := range []float64{1e-4, 1e-6, 1e-8, 1e-10} {
		ctrl := &PIController{RelTol: rtol, AbsTol: 1e-3 * rtol}
		sol, err := Solve(ls.f, 0, tEnd, ls.y0, &Settings{Controller: ctrl})
		if err != nil {
			t.Fatalf("rtol %g: %v", rtol, err)
		}
		got := floats.Distance(sol.Y[0], want, 2)
		t.Logf("rtol %g: error %.3g = %.3g·rtol·‖y‖, stats %+v", rtol, got, got/(rtol*norm), sol.Stats)
		// Oracle: exp(At) y0; the bound is the contract of the brief.
		if got > 10*rtol*norm {
			t.Errorf("rtol %g: error %.3g > 10·rtol·‖y‖ = %.3g", rtol, got, 10*rtol*norm)
		}
		if got >= prevErr {
			t.Errorf("rtol %g: error %.3g did not decrease from %.3g", rtol, got, prevErr)
		}
		prevErr = got
		st := sol.Stats
		if st.Steps != st.Accepted+st.Rejected || st.Evals != dopri5Evals(st, true) {
			t.Errorf("rtol %g: inconsistent stats %+v, want Evals = %d", rtol, st, dopri5Evals(st, true))
		}
	}
}

func TestAdaptiveTransient(t *testing.T) {
	t.Parallel()
	// Two scalar problems y' = a(t)(y − g(t)) with analytic solutions.
	//
	// "initial": a = −k, g = cos t, y(0) = 0, a transient e^{−kt} at t0,
	//	y(t) = (k² cos t + k sin t)/(k²+1) − k²/(k²+1) e^{−kt}.
	// "front": g = 0 and a decay rate switching on within δ at t = 1,
	// a(t) = −(k/2)(1 + tanh((t−1)/δ)), y(0) = 1,
	//	y(t) = exp(−(k/2)[t + δ(log cosh((t−1)/δ) − log cosh(1/δ))]):
	// flat before t = 1, so the controller has grown the step when the
	// fast decay starts.
	const (
		k     = 100.0
		kf    = 5.0
		delta = 0.01
	)
	logCosh := func(x float64) float64 {
		x = math.Abs(x)
		return x + math.Log1p(math.Exp(-2*x)) - math.Ln2
	}
	problems := map[string]struct {
		f     Func
		y0    float64
		exact func(t float64) float64
	}{
		"initial": {
			f: func(dst []float64, t float64, y []float64) { dst[0] = -k * (y[0] - math.Cos(t)) },
			exact: func(t float64) float64 {
				return (k*k*math.Cos(t)+k*math.Sin(t))/(k*k+1) - k*k/(k*k+1)*math.Exp(-k*t)
			},
		},
		"front": {
			f: func(dst []float64, t float64, y []float64) {
				dst[0] = -kf / 2 * (1 + math.Tanh((t-1)/delta)) * y[0]
			},
			y0: 1,
			exact: func(t float64) float64 {
				return math.Exp(-kf / 2 * (t + delta*(logCosh((t-1)/delta)-logCosh(1/delta))))
			},
		},
	}
	const tEnd = 2.0
	for _, test := range []struct {
		problem    string
		rtol, step float64
		// wantReject is asserted only where a rejection is forced; the
		// PI controller took the initial transient without any.
		wantReject bool
	}{
		{"initial", 1e-5, 0, false},
		{"initial", 1e-7, 0, false},
		{"initial", 1e-7, 0.5, true}, // a first step far too large
		{"front", 1e-5, 0, true},
		{"front", 1e-7, 0, true},
	} {
		p := problems[test.problem]
		ctrl := &PIController{RelTol: test.rtol, AbsTol: 1e-3 * test.rtol}
		sol, err := Solve(p.f, 0, tEnd, []float64{p.y0}, &Settings{Controller: ctrl, Step: test.step})
		if err != nil {
			t.Fatalf("%+v: %v", test, err)
		}
		st := sol.Stats
		want := p.exact(tEnd)
		got := math.Abs(sol.Y[0][0] - want)
		t.Logf("%+v: error %.3g = %.3g·rtol·|y|, stats %+v", test, got, got/(test.rtol*math.Abs(want)), st)
		if test.wantReject && st.Rejected == 0 {
			t.Errorf("%+v: no rejected step", test)
		}
		// Global error against the analytic solution; the bound is the
		// brief's 10·RelTol·|y|.
		if got > 10*test.rtol*math.Abs(want) {
			t.Errorf("%+v: error %.3g > 10·rtol·|y| = %.3g", test, got, 10*test.rtol*math.Abs(want))
		}
		if st.Steps != st.Accepted+st.Rejected || st.Evals != dopri5Evals(st, test.step == 0) {
			t.Errorf("%+v: inconsistent stats %+v, want Evals = %d", test, st, dopri5Evals(st, test.step == 0))
		}
	}
}

func TestFixedStepEvals(t *testing.T) {
	t.Parallel()
	ls := newLinearSystem()
	for _, test := range []struct {
		m     *Tableau
		steps int
		evals int // counted from the tableau: s per step, s−1 per step plus one when FSAL
	}{
		{Euler, 10, 10},
		{Midpoint, 10, 20},
		{RK4, 10, 40},
		{DormandPrince54, 10, 1 + 6*10},
	} {
		sol, err := Solve(ls.f, 0, 1, ls.y0, &Settings{Method: test.m, Step: 0.1})
		if err != nil {
			t.Fatal(err)
		}
		want := Stats{Steps: test.steps, Accepted: test.steps, Evals: test.evals}
		if sol.Stats != want {
			t.Errorf("%s: stats %+v, want %+v", test.m.Name, sol.Stats, want)
		}
	}
}

func TestSaveAt(t *testing.T) {
	t.Parallel()
	ls := newLinearSystem()
	saveAt := []float64{0, 0.13, 0.5, 0.77, 1}
	for _, test := range []struct {
		name string
		tEnd float64
		set  Settings
		tol  float64 // relative to ‖y‖; from the method's accuracy at these settings
	}{
		{"fixed RK4", 1, Settings{Step: 0.01}, 1e-8},
		{"fixed RK4, t1 beyond the saves", 1.5, Settings{Step: 0.01}, 1e-8},
		{"adaptive", 1, Settings{Controller: &PIController{RelTol: 1e-9, AbsTol: 1e-12}}, 1e-8},
	} {
		var obsT []float64
		var obsY [][]float64
		set := test.set
		set.SaveAt = saveAt
		set.Observer = func(t float64, y []float64) error {
			obsT = append(obsT, t)
			obsY = append(obsY, append([]float64(nil), y...))
			return nil
		}
		sol, err := Solve(ls.f, 0, test.tEnd, ls.y0, &set)
		if err != nil {
			t.Fatalf("%s: %v", test.name, err)
		}
		if !floats.Equal(sol.T, saveAt) || !floats.Equal(obsT, saveAt) {
			t.Fatalf("%s: saved at %v, observed at %v, want %v exactly", test.name, sol.T, obsT, saveAt)
		}
		for i, ts := range saveAt {
			if !floats.Equal(obsY[i], sol.Y[i]) {
				t.Errorf("%s: observer saw %v at t = %v, saved %v", test.name, obsY[i], ts, sol.Y[i])
			}
			// Oracle: exp(A t) y0.
			want := ls.exact(ts)
			if d := floats.Distance(sol.Y[i], want, 2); d > test.tol*floats.Norm(want, 2) {
				t.Errorf("%s: at t = %v error %.3g", test.name, ts, d)
			}
		}
	}
}

func TestSaveAtClipsSteps(t *testing.T) {
	t.Parallel()
	// y' = max(0, t − a), y(0) = 0: y = max(0, t − a)²/2, piecewise
	// quadratic. A method of order ≥ 2 integrates each polynomial piece
	// exactly, so it is exact up to rounding when the kink a is a step
	// boundary, which SaveAt guarantees, and in general not when a step
	// straddles it. (RK4 is Simpson's rule here, which happens to be exact
	// on a hinge at a third of the half-step from the midpoint; a = 0.55
	// is not such a point for the steps below.)
	const a, tEnd = 0.55, 1.0
	f := func(dst []float64, t float64, _ []float64) { dst[0] = math.Max(0, t-a) }
	wantEnd := (tEnd - a) * (tEnd - a) / 2
	for _, test := range []struct {
		name   string
		set    Settings
		saveAt []float64
		exact  bool
	}{
		{"RK4, Step 0.3", Settings{Step: 0.3}, []float64{a, tEnd}, true},
		{"adaptive DOPRI5", Settings{Controller: &PIController{}}, []float64{a, tEnd}, true},
		// Control: four steps of 0.25, one straddling the kink.
		{"RK4, Step 0.3, no save at kink", Settings{Step: 0.3}, []float64{tEnd}, false},
	} {
		set := test.set
		set.SaveAt = test.saveAt
		sol, err := Solve(f, 0, tEnd, []float64{0}, &set)
		if err != nil {
			t.Fatalf("%s: %v", test.name, err)
		}
		n := len(sol.Y)
		got := sol.Y[n-1][0]
		if n == 2 && sol.Y[0][0] != 0 {
			t.Errorf("%s: y(%v) = %v, want 0", test.name, a, sol.Y[0][0])
		}
		if d := math.Abs(got - wantEnd); (d <= 1e-15) != test.exact {
			t.Errorf("%s: y(%v) = %v, off by %.3g from %v; want exact: %v", test.name, tEnd, got, d, wantEnd, test.exact)
		}
	}
}

func TestSaveAtNil(t *testing.T) {
	t.Parallel()
	ls := newLinearSystem()
	var calls []float64
	sol, err := Solve(ls.f, 0.25, 1, ls.y0, &Settings{Observer: func(t float64, _ []float64) error {
		calls = append(calls, t)
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(sol.T) != 1 || sol.T[0] != 1 || len(sol.Y) != 1 || len(calls) != 1 || calls[0] != 1 {
		t.Fatalf("T = %v, %d states, observer at %v; want the final state alone at t1 = 1", sol.T, len(sol.Y), calls)
	}
	// Default: 100 RK4 steps of 0.0075.
	if sol.Stats.Accepted != 100 {
		t.Errorf("%d steps, want 100", sol.Stats.Accepted)
	}
}

func TestObserverAborts(t *testing.T) {
	t.Parallel()
	ls := newLinearSystem()
	stop := errors.New("stop")
	var calls int
	sol, err := Solve(ls.f, 0, 1, ls.y0, &Settings{
		SaveAt: []float64{0.25, 0.5, 0.75, 1},
		Observer: func(t float64, _ []float64) error {
			calls++
			if t == 0.5 {
				return stop
			}
			return nil
		},
	})
	if !errors.Is(err, stop) || !strings.HasPrefix(err.Error(), "ode: ") {
		t.Fatalf("error %v, want the observer's wrapped with an ode: prefix", err)
	}
	if calls != 2 || sol == nil || len(sol.T) != 2 {
		t.Errorf("%d observer calls and %v saved, want 2 and 2", calls, sol)
	}
}

func TestRuntimeErrors(t *testing.T) {
	t.Parallel()
	square := func(dst []float64, _ float64, y []float64) { dst[0] = y[0] * y[0] }
	for _, test := range []struct {
		name   string
		f      Func
		t1     float64
		y0     float64
		set    Settings
		want   error
		tRange [2]float64 // where the error must be reported
	}{
		// y' = y², y(0) = 1 blows up at t = 1 (y = 1/(1−t)); the adaptive
		// steps shrink towards the blow-up of the numerical solution, which
		// lies within its relative error (RelTol = 1e-6) of t = 1.
		{"underflow", square, 2, 1, Settings{Controller: &PIController{}}, ErrStepUnderflow, [2]float64{0.999, 1.001}},
		// Euler overflows: y ← y + 0.5y² grows doubly exponentially.
		{"non-finite", square, 20, 1, Settings{Method: Euler, Step: 0.5}, ErrNonFinite, [2]float64{1, 20}},
		{"non-finite y0", square, 1, math.NaN(), Settings{}, ErrNonFinite, [2]float64{0, 0}},
		// Fixed steps know their count in advance and fail at once.
		{"max steps fixed", square, 0.5, 1, Settings{Step: 0.01, MaxSteps: 10}, ErrMaxSteps, [2]float64{0, 0}},
		{"max steps fixed, second save", square, 0.5, 1, Settings{Step: 0.01, MaxSteps: 30, SaveAt: []float64{0.2, 0.5}}, ErrMaxSteps, [2]float64{0.2, 0.2}},
		{"max steps adaptive", square, 0.5, 1, Settings{Controller: &PIController{RelTol: 1e-12}, MaxSteps: 5}, ErrMaxSteps, [2]float64{0, 0.5}},
	} {
		sol, err := Solve(test.f, 0, test.t1, []float64{test.y0}, &test.set)
		if !errors.Is(err, test.want) {
			t.Errorf("%s: error %v, want %v", test.name, err, test.want)
			continue
		}
		if sol == nil {
			t.Errorf("%s: nil solution", test.name)
		}
		var at float64
		i := strings.Index(err.Error(), "t = ")
		if i < 0 {
			t.Errorf("%s: %q does not name t", test.name, err)
			continue
		}
		if _, perr := fmt.Sscan(err.Error()[i+4:], &at); perr != nil || at < test.tRange[0] || at > test.tRange[1] {
			t.Errorf("%s: %q reports t outside %v", test.name, err, test.tRange)
		}
		t.Logf("%s: %v", test.name, err)
	}
}

func TestSolverAfterUnderflow(t *testing.T) {
	t.Parallel()
	// y' = y², y(0) = 1: y = 1/(1−t), blowing up at t = 1.
	square := func(dst []float64, _ float64, y []float64) { dst[0] = y[0] * y[0] }
	sv, err := NewSolver(square, 1, &Settings{Controller: &PIController{}})
	if err != nil {
		t.Fatal(err)
	}
	y := []float64{1}
	if err := sv.Integrate(y, 0, 2); !errors.Is(err, ErrStepUnderflow) {
		t.Fatalf("error %v, want ErrStepUnderflow", err)
	}
	// The collapsed step (≈ 7e-15) must not carry over to a new state:
	// near t = 100 it would underflow at once. Oracle: the system is
	// autonomous, so y(100.5) = 2 from y(100) = 1.
	y[0] = 1
	if err := sv.Integrate(y, 100, 100.5); err != nil || math.Abs(y[0]-2) > 1e-5 {
		t.Errorf("after underflow: y(100.5) = %v, error %v; want 2", y[0], err)
	}
}

func TestInvalidSettings(t *testing.T) {
	t.Parallel()
	ls := newLinearSystem()
	for _, test := range []struct {
		name   string
		t0, t1 float64
		set    Settings
		field  string // the message must name it
	}{
		{"t1 < t0", 1, 0, Settings{}, "t1"},
		{"infinite t1", 0, math.Inf(1), Settings{}, "interval"},
		{"negative RelTol", 0, 1, Settings{Controller: &PIController{RelTol: -1}}, "RelTol"},
		{"negative AbsTol", 0, 1, Settings{Controller: &PIController{AbsTol: -1e-9}}, "AbsTol"},
		{"Safety > 1", 0, 1, Settings{Controller: &PIController{Safety: 1.5}}, "Safety"},
		{"MinFactor > 1", 0, 1, Settings{Controller: &PIController{MinFactor: 2}}, "MinFactor"},
		{"MaxFactor < 1", 0, 1, Settings{Controller: &PIController{MaxFactor: 0.5}}, "MaxFactor"},
		{"negative Beta2", 0, 1, Settings{Controller: &PIController{Beta2: -0.1}}, "Beta2"},
		{"negative Step", 0, 1, Settings{Step: -0.1}, "Step"},
		{"negative MaxSteps", 0, 1, Settings{MaxSteps: -1}, "MaxSteps"},
		{"SaveAt out of order", 0, 1, Settings{SaveAt: []float64{0.5, 0.2}}, "SaveAt[1]"},
		{"SaveAt repeated", 0, 1, Settings{SaveAt: []float64{0.5, 0.5}}, "SaveAt[1]"},
		{"SaveAt before t0", 0, 1, Settings{SaveAt: []float64{-0.1}}, "SaveAt[0]"},
		{"SaveAt after t1", 0, 1, Settings{SaveAt: []float64{0.5, 1.1}}, "SaveAt[1]"},
		{"SaveAt NaN", 0, 1, Settings{SaveAt: []float64{math.NaN()}}, "SaveAt[0]"},
		{"adaptive without BHat", 0, 1, Settings{Method: RK4, Controller: &PIController{}}, "BHat"},
	} {
		sol, err := Solve(ls.f, test.t0, test.t1, ls.y0, &test.set)
		if err == nil || sol != nil {
			t.Errorf("%s: got solution %v and error %v, want an error alone", test.name, sol != nil, err)
			continue
		}
		if msg := err.Error(); !strings.HasPrefix(msg, "ode: ") || !strings.Contains(msg, test.field) {
			t.Errorf("%s: message %q, want an ode: prefix naming %s", test.name, msg, test.field)
		}
	}
	if _, err := NewSolver(ls.f, 0, nil); err == nil {
		t.Error("NewSolver with n = 0: no error")
	}
	if _, err := NewSolver(nil, 4, nil); err == nil {
		t.Error("NewSolver with a nil Func: no error")
	}
}

func TestIntegrateChunks(t *testing.T) {
	t.Parallel()
	// Chunked integration is the same stepping code as Solve: fixed steps
	// that divide each chunk reproduce one Solve up to rounding of the node
	// times, and adaptive chunks, which keep the controller's step across
	// calls, meet the tolerance.
	ls := newLinearSystem()
	const chunks, tEnd = 20, 1.0
	for _, test := range []struct {
		name string
		set  Settings
	}{
		{"fixed RK4", Settings{Step: 0.01}},
		{"adaptive", Settings{Controller: &PIController{RelTol: 1e-10, AbsTol: 1e-13}}},
	} {
		sv, err := NewSolver(ls.f, len(ls.y0), &test.set)
		if err != nil {
			t.Fatal(err)
		}
		y := append([]float64(nil), ls.y0...)
		for i := range chunks {
			if err := sv.Integrate(y, tEnd*float64(i)/chunks, tEnd*float64(i+1)/chunks); err != nil {
				t.Fatal(err)
			}
		}
		st := sv.Stats()
		t.Logf("%s: stats %+v", test.name, st)
		if test.set.Controller == nil {
			sol, err := Solve(ls.f, 0, tEnd, ls.y0, &test.set)
			if err != nil {
				t.Fatal(err)
			}
			if d := floats.Distance(y, sol.Y[0], 2); d > 1e-14*floats.Norm(y, 2) || st != sol.Stats {
				t.Errorf("%s: chunks differ from Solve by %.3g, stats %+v vs %+v", test.name, d, st, sol.Stats)
			}
			continue
		}
		// Oracle: exp(A) y0.
		want := ls.exact(tEnd)
		if d := floats.Distance(y, want, 2); d > 10*test.set.Controller.RelTol*floats.Norm(want, 2) {
			t.Errorf("%s: error %.3g after %d chunks", test.name, d, chunks)
		}
		// One re-evaluated first stage per call, six per step, one for
		// the automatic initial step.
		if want := chunks + 6*st.Steps + 1; st.Evals != want {
			t.Errorf("%s: Evals = %d, want %d", test.name, st.Evals, want)
		}
	}
}

func TestIntegrateAllocs(t *testing.T) {
	ls := newLinearSystem()
	for _, test := range []struct {
		name string
		set  *Settings
	}{
		{"fixed RK4", &Settings{Step: 0.005}},
		{"fixed DOPRI5", &Settings{Method: DormandPrince54, Step: 0.005}},
		{"adaptive", &Settings{Controller: &PIController{RelTol: 1e-8}}},
	} {
		sv, err := NewSolver(ls.f, len(ls.y0), test.set)
		if err != nil {
			t.Fatal(err)
		}
		y := append([]float64(nil), ls.y0...)
		tc := 0.0
		run := func() {
			if err := sv.Integrate(y, tc, tc+0.01); err != nil {
				t.Fatal(err)
			}
			tc += 0.01
		}
		run() // the first adaptive call estimates the initial step
		if a := testing.AllocsPerRun(100, run); a != 0 {
			t.Errorf("%s: %v allocations per Integrate call, want 0", test.name, a)
		}
	}
}

func TestIntegrateMisuse(t *testing.T) {
	t.Parallel()
	ls := newLinearSystem()
	sv, err := NewSolver(ls.f, len(ls.y0), nil)
	if err != nil {
		t.Fatal(err)
	}
	y := append([]float64(nil), ls.y0...)
	if err := sv.Integrate(y, 1, 0); err == nil || !strings.Contains(err.Error(), "t1") {
		t.Errorf("t1 < t0: error %v, want one naming t1", err)
	}
	y[2] = math.Inf(-1)
	if err := sv.Integrate(y, 0, 1); !errors.Is(err, ErrNonFinite) {
		t.Errorf("infinite y: error %v, want ErrNonFinite", err)
	}
	defer func() {
		if r := recover(); r != "ode: y has wrong length" {
			t.Errorf("short y: recovered %v, want the wrong-length panic", r)
		}
	}()
	_ = sv.Integrate(y[:3], 0, 1)
}
