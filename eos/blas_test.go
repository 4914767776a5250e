package eos

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/blas/gonum"
	"gonum.org/v1/gonum/floats"
)

// TestBLASBackendsAgree checks that the MLP's loss, gradient and
// Hessian-vector product are the same, to 1e-12 relative, with the backend
// built in (OpenBLAS under the openblas tag) and with gonum's pure-Go BLAS.
// The oracle is gonum's BLAS; the two differ only in summation order, so the
// results agree to a few units of rounding. The Medium size runs the
// elementwise passes on the worker pool and gonum's Gemm on goroutines.
func TestBLASBackendsAgree(t *testing.T) {
	if BLASBackend == "gonum" {
		t.Skip("built with gonum's BLAS only: nothing to compare (build with -tags openblas)")
	}
	for _, s := range benchSizes[:2] {
		t.Run(s.name, func(t *testing.T) {
			// A fresh MLP per backend, so that no forward state
			// computed by one is reused by the other.
			run := func() [3][]float64 {
				m, x, v := newBenchMLP(t, s)
				g, hv := make([]float64, m.Dim()), make([]float64, m.Dim())
				loss := m.Grad(g, x)
				m.HessVec(hv, x, v)
				return [3][]float64{g, hv, {loss}}
			}
			got := run()
			built := blas64.Implementation()
			blas64.Use(gonum.Implementation{})
			want := run()
			blas64.Use(built)
			for i, name := range []string{"gradient", "HVP", "loss"} {
				d := vecRelDist(got[i], want[i])
				if !(d <= 1e-12) {
					t.Errorf("%s: %s and gonum differ by %.3g relative (want ≤ 1e-12)", name, BLASBackend, d)
				}
				t.Logf("%s: %s and gonum differ by %.2g relative", name, BLASBackend, d)
			}
		})
	}
}

// TestHessVecReuse checks the forward state that HessVec keeps: a second
// HessVec at the same x, a HessVec at an x changed in place in its last
// coordinate (a W_2 entry, so the comparison must read the whole vector),
// and a Grad and Loss after HessVec must equal bitwise what a fresh MLP,
// which has no kept state, computes.
func TestHessVecReuse(t *testing.T) {
	s := benchSizes[1]
	m, x, v := newBenchMLP(t, s)
	fresh := func(x []float64) (g, hv []float64, loss float64) {
		f, _, _ := newBenchMLP(t, s)
		g, hv = make([]float64, f.Dim()), make([]float64, f.Dim())
		f.HessVec(hv, x, v)
		loss = f.Grad(g, x)
		return g, hv, loss
	}
	hv, g := make([]float64, m.Dim()), make([]float64, m.Dim())
	check := func(when string) {
		t.Helper()
		wantG, wantHV, wantLoss := fresh(x)
		m.HessVec(hv, x, v)
		if !floats.Same(hv, wantHV) {
			t.Errorf("%s: HessVec differs from a fresh MLP's by %.3g relative", when, vecRelDist(hv, wantHV))
		}
		if loss := m.Loss(x); math.Float64bits(loss) != math.Float64bits(wantLoss) {
			t.Errorf("%s: Loss = %v, a fresh MLP's %v", when, loss, wantLoss)
		}
		if loss := m.Grad(g, x); !floats.Same(g, wantG) || math.Float64bits(loss) != math.Float64bits(wantLoss) {
			t.Errorf("%s: Grad differs from a fresh MLP's by %.3g relative", when, vecRelDist(g, wantG))
		}
	}
	m.HessVec(hv, x, v)
	check("same x")
	x[len(x)-1] += 1e-3
	check("last coordinate changed")
	m.Grad(g, x)
	x[0] -= 1e-3
	check("first coordinate changed after Grad")
}

// TestGDStepNoAllocs checks that a GD step (Grad and the update) and an HVP
// do not allocate in steady state at a size where the elementwise passes
// use the worker pool. With gonum's BLAS it only reports the count: gonum's
// Gemm allocates for the goroutines it starts on large products.
func TestGDStepNoAllocs(t *testing.T) {
	m, x, v := newBenchMLP(t, benchSizes[1])
	g, hv := make([]float64, m.Dim()), make([]float64, m.Dim())
	step := testing.AllocsPerRun(5, func() {
		m.Grad(g, x)
		floats.AddScaled(x, -0.02, g)
	})
	hvp := testing.AllocsPerRun(5, func() { m.HessVec(hv, x, v) })
	if BLASBackend == "gonum" {
		t.Logf("gonum BLAS: %v allocations per GD step, %v per HVP (inside gonum's Gemm)", step, hvp)
		return
	}
	if step != 0 || hvp != 0 {
		t.Errorf("%v allocations per GD step and %v per HVP with %s, want 0", step, hvp, BLASBackend)
	}
}
