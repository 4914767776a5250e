package eos

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/eoskit/eoskit/eos/ode"
)

// flowConstructors builds each flow of this file set by name.
var flowConstructors = []struct {
	name string
	make func(p Problem, eta float64, s *FlowSettings) (Flow, error)
}{
	{"free-energy", func(p Problem, eta float64, s *FlowSettings) (Flow, error) { return NewFreeEnergyFlow(p, eta, s) }},
	{"covariance", func(p Problem, eta float64, s *FlowSettings) (Flow, error) { return NewCovarianceFlow(p, eta, s) }},
	{"gradient", func(p Problem, eta float64, s *FlowSettings) (Flow, error) { return NewGradientFlow(p, eta, s) }},
}

func TestFlowSettingsErrors(t *testing.T) {
	q := NewQuadratic([]float64{1, 2}, nil)
	for _, fc := range flowConstructors {
		for _, tc := range []struct {
			eta  float64
			s    *FlowSettings
			want string
		}{
			{0, nil, "η = 0"},
			{-1, nil, "η = -1"},
			{math.NaN(), nil, "η = NaN"},
			{math.Inf(1), nil, "η = +Inf"},
			{0.1, &FlowSettings{Substeps: -1}, "Substeps = -1"},
			// RK4 has no embedded weights, so it cannot adapt its steps.
			{0.1, &FlowSettings{Method: ode.RK4, Controller: &ode.PIController{}}, "BHat"},
			{0.1, &FlowSettings{Controller: &ode.PIController{RelTol: -1}}, "RelTol"},
		} {
			_, err := fc.make(q, tc.eta, tc.s)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s, η=%v, %+v: error %v, want one naming %q", fc.name, tc.eta, tc.s, err, tc.want)
			}
		}
	}
}

func TestFlowLifecycle(t *testing.T) {
	q := NewQuadratic([]float64{1, 2}, nil)
	x := []float64{1, 1}
	for _, fc := range flowConstructors {
		f, err := fc.make(q, 0.1, nil)
		if err != nil {
			t.Fatal(err)
		}
		if f.Name() != fc.name {
			t.Errorf("Name = %q, want %q", f.Name(), fc.name)
		}
		var p Prediction
		if err := f.Advance(0.1); err == nil {
			t.Errorf("%s: Advance before Init did not fail", fc.name)
		}
		if err := f.Predict(&p); err == nil {
			t.Errorf("%s: Predict before Init did not fail", fc.name)
		}
		if err := f.Init(x, []float64{math.NaN(), 0}, x); err == nil {
			t.Errorf("%s: Init from NaN did not fail", fc.name)
		}
		if err := f.Init(x, x, x); err != nil {
			t.Fatal(err)
		}
		for _, dt := range []float64{-0.1, math.NaN(), math.Inf(1)} {
			if err := f.Advance(dt); err == nil {
				t.Errorf("%s: Advance(%v) did not fail", fc.name, dt)
			}
		}
		if err := f.Advance(0); err != nil {
			t.Errorf("%s: Advance(0): %v", fc.name, err)
		}
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: Init with a short iterate did not panic", fc.name)
				}
			}()
			f.Init(x[:1], x, x)
		}()
	}
}

// An integration that blows up stops the flow with ode.ErrNonFinite, and
// the flow refuses to continue until it is started again.
func TestFlowBlowUp(t *testing.T) {
	// RK4 with hλ = 4 is far outside its stability interval [−2.79, 0]:
	// the gradient flow of λ = 40 with one step of η = 0.1 grows by
	// R(−4) = 1 − 4 + 8 − 32/3 + 32/3 = 5 per step.
	q := NewQuadratic([]float64{40}, nil)
	f, err := NewGradientFlow(q, 0.1, &FlowSettings{Substeps: 1})
	if err != nil {
		t.Fatal(err)
	}
	x := []float64{1}
	if err := f.Init(x, x, x); err != nil {
		t.Fatal(err)
	}
	if err := f.Advance(1e4); err == nil || !strings.Contains(err.Error(), "non-finite") {
		t.Errorf("Advance through a blow-up: error %v, want a non-finite state", err)
	}
	var p Prediction
	if err := f.Predict(&p); err == nil {
		t.Error("Predict after a failed Advance did not fail")
	}
}

// The cost per GD step of time is the number of stages times the gradients
// per field evaluation: 4·2 for the free-energy model with one RK4 step, 4
// per RK4 step for gradient flow, 4·3 gradients and 4 HVPs for the
// covariance form (and one more HVP per Predict). Losses: 2, 1 and 3 per
// Predict. Sharpness measurements add the Lanczos HVPs, none here.
func TestFlowCost(t *testing.T) {
	q := NewQuadratic([]float64{1, 2, 3}, nil)
	x0, x1 := []float64{1, 2, 3}, []float64{0.9, 2.1, 3}
	for _, tc := range []struct {
		fc, substeps              int
		method                    *ode.Tableau
		gradsPerEval, hvpsPerEval int // per evaluation of the field
		evalsPerStep              int // field evaluations per GD step
		predictHVPs               int // per Predict
		predictLosses             int // per Predict
	}{
		{fc: 0, substeps: 1, method: ode.RK4, gradsPerEval: 2, evalsPerStep: 4, predictLosses: 2},
		{fc: 0, substeps: 2, method: ode.Midpoint, gradsPerEval: 2, evalsPerStep: 4, predictLosses: 2},
		{fc: 1, substeps: 1, method: ode.RK4, gradsPerEval: 3, hvpsPerEval: 1, evalsPerStep: 4, predictHVPs: 1, predictLosses: 3},
		{fc: 2, substeps: 4, method: ode.RK4, gradsPerEval: 1, evalsPerStep: 16, predictLosses: 1},
	} {
		fc := flowConstructors[tc.fc]
		f, err := fc.make(q, 0.1, &FlowSettings{Method: tc.method, Substeps: tc.substeps, EigEvery: -1})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Init(x0, x1, x0); err != nil {
			t.Fatal(err)
		}
		const steps = 5
		var p Prediction
		for range steps {
			if err := f.Advance(0.1); err != nil {
				t.Fatal(err)
			}
			if err := f.Predict(&p); err != nil {
				t.Fatal(err)
			}
		}
		want := FlowCost{
			Grads:  steps * tc.evalsPerStep * tc.gradsPerEval,
			HVPs:   steps * (tc.evalsPerStep*tc.hvpsPerEval + tc.predictHVPs),
			Losses: steps * tc.predictLosses,
		}
		if c := f.Cost(); c != want {
			t.Errorf("%s, %s×%d: Cost = %+v, want %+v", fc.name, tc.method.Name, tc.substeps, c, want)
		}
		if err := f.Init(x0, x1, x0); err != nil {
			t.Fatal(err)
		}
		if c := f.Cost(); c != (FlowCost{}) {
			t.Errorf("%s: Cost after Init = %+v, want zero", fc.name, c)
		}
	}
}

// Sharpness is measured at times kη with k divisible by EigEvery, and is
// NaN in between; the oracle is the quadratic's largest eigenvalue.
func TestFlowSharpnessSchedule(t *testing.T) {
	q := NewQuadratic([]float64{7, 2, 1}, rand.New(rand.NewPCG(1, 2)))
	x := []float64{1, 2, 3}
	for _, fc := range flowConstructors {
		f, err := fc.make(q, 0.1, &FlowSettings{EigEvery: 3})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Init(x, x, x); err != nil {
			t.Fatal(err)
		}
		var p Prediction
		// A half step first, as Compare does: step indices round down.
		if err := f.Advance(0.05); err != nil {
			t.Fatal(err)
		}
		for k := range 8 {
			if err := f.Predict(&p); err != nil {
				t.Fatal(err)
			}
			if k%3 == 0 {
				if math.Abs(p.Sharpness-7) > 1e-9 {
					t.Errorf("%s, step %d: sharpness %v, want 7", fc.name, k, p.Sharpness)
				}
			} else if !math.IsNaN(p.Sharpness) {
				t.Errorf("%s, step %d: sharpness %v, want NaN", fc.name, k, p.Sharpness)
			}
			if err := f.Advance(0.1); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// After the first call, Advance allocates nothing: the integrator and the
// flows keep their workspaces.
func TestFlowAdvanceNoAllocs(t *testing.T) {
	m := newMFProblem(t, 5.5)
	x := make([]float64, m.Dim())
	m.Init(x, rand.New(rand.NewPCG(1, 2)))
	for _, fc := range flowConstructors {
		f, err := fc.make(m, mfEta, &FlowSettings{EigEvery: -1})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Init(x, x, x); err != nil {
			t.Fatal(err)
		}
		var p Prediction
		allocs := testing.AllocsPerRun(10, func() {
			if err := f.Advance(mfEta); err != nil {
				t.Fatal(err)
			}
			if err := f.Predict(&p); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per step", fc.name, allocs)
		}
	}
}

// Gradient flow on a quadratic is θ(t) = exp(−Ht)θ(0), solved in the
// eigenbasis; fixed RK4 steps and adaptive Dormand–Prince steps must both
// reach it. Fixed RK4 with h = η/4 and eigenvalues up to 20 has a global
// error of about 1e-4 relative on the slowest-decaying components after the
// fast ones are gone; the adaptive run is held to its tolerance.
func TestGradientFlowQuadratic(t *testing.T) {
	const eta = 0.1
	eigs := []float64{20, 5, 0.5}
	q := NewQuadratic(eigs, rand.New(rand.NewPCG(1, 2)))
	n := q.Dim()
	vecs := q.Eigenvectors()
	c0 := []float64{1, -2, 0.5}
	x := make([]float64, n)
	for i := range n {
		for r := range n {
			x[r] += c0[i] * vecs.At(r, i)
		}
	}
	for _, tc := range []struct {
		name string
		s    *FlowSettings
		tol  float64
	}{
		{"default", nil, 1e-4},
		{"adaptive", &FlowSettings{Controller: &ode.PIController{RelTol: 1e-9, AbsTol: 1e-12}}, 1e-7},
	} {
		f, err := NewGradientFlow(q, eta, tc.s)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Init(x, x, x); err != nil {
			t.Fatal(err)
		}
		const steps = 10
		for range steps {
			if err := f.Advance(eta); err != nil {
				t.Fatal(err)
			}
		}
		got := f.State()
		for i, lam := range eigs {
			var pc float64
			for r := range n {
				pc += vecs.At(r, i) * got[r]
			}
			want := c0[i] * math.Exp(-lam*steps*eta)
			if math.Abs(pc-want) > tc.tol*math.Max(math.Abs(want), 1e-3) {
				t.Errorf("%s: component along λ=%g: %v, want %v", tc.name, lam, pc, want)
			}
		}
		var p Prediction
		if err := f.Predict(&p); err != nil {
			t.Fatal(err)
		}
		e := q.Loss(got)
		if p.LossMean != e || p.LossLo != e || p.LossHi != e || p.FreeEnergy != e || p.UNorm != 0 {
			t.Errorf("%s: prediction %+v, want loss, envelope and F = %v, u = 0", tc.name, p, e)
		}
	}
}
