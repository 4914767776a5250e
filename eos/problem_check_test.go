package eos

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/floats"
)

// derivErrs holds the measured errors of a problem's derivatives at a point.
type derivErrs struct {
	grad    float64 // ‖g − g_fd‖/‖g_fd‖, g_fd central differences of Loss
	hessVec float64 // ‖Hv − (g(x+hv) − g(x−hv))/2h‖/‖…‖ for a random unit v
	sym     float64 // |⟨a, Hb⟩ − ⟨b, Ha⟩|/|⟨a, Hb⟩| for random a, b
}

// fdStep is the central-difference step: its truncation error h²·|f‴|/6 and
// rounding error ε·|f|/h are both near 1e-11 for problems of unit scale.
const fdStep = 1e-5

// measureDerivs compares p's Grad with central differences of Loss and
// HessVec with central differences of Grad along a random direction, and
// measures the symmetry of HessVec. It also fails t if Grad does not return
// exactly Loss or depends on what was computed before it (stale workspaces).
func measureDerivs(t *testing.T, p Problem, x []float64, rng *rand.Rand) derivErrs {
	t.Helper()
	n := p.Dim()
	g := make([]float64, n)
	loss := p.Grad(g, x)
	if l := p.Loss(x); l != loss {
		t.Errorf("Grad returned %v, Loss %v", loss, l)
	}

	var e derivErrs
	xp := append([]float64(nil), x...)
	fd := make([]float64, n)
	for i := range xp {
		xp[i] = x[i] + fdStep
		fp := p.Loss(xp)
		xp[i] = x[i] - fdStep
		fm := p.Loss(xp)
		xp[i] = x[i]
		fd[i] = (fp - fm) / (2 * fdStep)
	}
	e.grad = vecRelDist(g, fd)

	v := randUnitVec(rng, n)
	hv := make([]float64, n)
	p.HessVec(hv, x, v)
	gp, gm := make([]float64, n), make([]float64, n)
	floats.AddScaledTo(xp, x, fdStep, v)
	p.Grad(gp, xp)
	floats.AddScaledTo(xp, x, -fdStep, v)
	p.Grad(gm, xp)
	for i := range fd {
		fd[i] = (gp[i] - gm[i]) / (2 * fdStep)
	}
	e.hessVec = vecRelDist(hv, fd)

	a, b := randUnitVec(rng, n), randUnitVec(rng, n)
	ha, hb := make([]float64, n), make([]float64, n)
	p.HessVec(ha, x, a)
	p.HessVec(hb, x, b)
	ahb, bha := floats.Dot(a, hb), floats.Dot(b, ha)
	e.sym = math.Abs(ahb-bha) / math.Abs(ahb)

	g2 := make([]float64, n)
	p.Grad(g2, x)
	if !floats.Equal(g, g2) {
		t.Errorf("Grad at the same point differs after other calls")
	}
	return e
}

// checkDerivs fails t unless the errors measured by measureDerivs are within
// the package's tolerances: 1e-6 for the finite-difference comparisons and
// 1e-10 for symmetry.
func checkDerivs(t *testing.T, p Problem, x []float64, rng *rand.Rand) {
	t.Helper()
	e := measureDerivs(t, p, x, rng)
	if !(e.grad <= 1e-6) {
		t.Errorf("gradient vs central differences: relative error %.3g > 1e-6", e.grad)
	}
	if !(e.hessVec <= 1e-6) {
		t.Errorf("HessVec vs central differences of Grad: relative error %.3g > 1e-6", e.hessVec)
	}
	if !(e.sym <= 1e-10) {
		t.Errorf("HessVec asymmetry %.3g > 1e-10", e.sym)
	}
	t.Logf("relative errors: grad %.2g, HessVec %.2g, symmetry %.2g", e.grad, e.hessVec, e.sym)
}

// checkNoAllocs fails t if Grad or HessVec allocates in steady state.
func checkNoAllocs(t *testing.T, p Problem, x []float64) {
	t.Helper()
	g, v := make([]float64, p.Dim()), make([]float64, p.Dim())
	for i := range v {
		v[i] = 1
	}
	if a := testing.AllocsPerRun(10, func() { p.Grad(g, x) }); a != 0 {
		t.Errorf("Grad allocates %v times per call", a)
	}
	if a := testing.AllocsPerRun(10, func() { p.HessVec(g, x, v) }); a != 0 {
		t.Errorf("HessVec allocates %v times per call", a)
	}
	if a := testing.AllocsPerRun(10, func() { p.Loss(x) }); a != 0 {
		t.Errorf("Loss allocates %v times per call", a)
	}
}

func vecRelDist(a, b []float64) float64 {
	return floats.Distance(a, b, 2) / floats.Norm(b, 2)
}

func randUnitVec(rng *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	floats.Scale(1/floats.Norm(v, 2), v)
	return v
}
