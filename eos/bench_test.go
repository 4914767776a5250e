package eos

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/floats"
)

// benchSize is one size tier of the MLP workload: n examples of dimension
// d, width h, k classes. Large is the paper's CIFAR-10 scale.
type benchSize struct {
	name       string
	n, d, h, k int
}

var benchSizes = []benchSize{
	{"Small", 100, 64, 32, 10},
	{"Medium", 500, 784, 256, 10},
	{"Large", 500, 3072, 512, 10},
}

// benchSharpnessTol is the Lanczos residual tolerance for the top
// eigenvalue to 1e-4 relative accuracy on the MLP workload, the default of
// eos bench mlp --tol. The Ritz value's error is about the squared residual
// over the spectral gap, and the gap at the top is small here: 3e-3 left an
// error of 5e-4 for one seed at the Large size, 1e-3 errors of 4–6e-6 for
// three seeds (BENCHMARKS.md).
const benchSharpnessTol = 1e-3

// newBenchMLP returns the MLP workload of size s on Gaussian inputs with
// random one-hot labels, with a PyTorch-default parameter vector and a random
// unit direction.
func newBenchMLP(tb testing.TB, s benchSize) (m *MLP, x, v []float64) {
	tb.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	in, y := netData(rng, s.n, s.d, s.k, MSE)
	m, err := NewMLP(in, y, &MLPConfig{Width: s.h})
	if err != nil {
		tb.Fatal(err)
	}
	x = make([]float64, m.Dim())
	m.Init(x, rng)
	v = randUnitVec(rng, m.Dim())
	return m, x, v
}

func benchmarkGDStep(b *testing.B, s benchSize) {
	m, x, _ := newBenchMLP(b, s)
	g := make([]float64, m.Dim())
	const eta = 0.02
	// The first call starts the worker pool; the loop measures the steady
	// state.
	m.Grad(g, x)
	b.ReportAllocs()
	for b.Loop() {
		m.Grad(g, x)
		floats.AddScaled(x, -eta, g)
	}
}

func benchmarkHVP(b *testing.B, s benchSize) {
	m, x, v := newBenchMLP(b, s)
	dst := make([]float64, m.Dim())
	// The first call allocates the copy of x kept with the forward state;
	// the loop measures HVPs at the same x, as in an eigensolver.
	m.HessVec(dst, x, v)
	b.ReportAllocs()
	for b.Loop() {
		m.HessVec(dst, x, v)
	}
}

// benchmarkSharpness times the top eigenvalue from a cold start (random
// start vector, no warm start) and reports the HVPs it took.
func benchmarkSharpness(b *testing.B, s benchSize) {
	m, x, _ := newBenchMLP(b, s)
	l, err := NewLanczos(m, &LanczosSettings{Tol: benchSharpnessTol})
	if err != nil {
		b.Fatal(err)
	}
	var top [1]float64
	// A first run grows the Krylov basis, which later runs reuse; each
	// timed run starts cold from random vectors after Reset, at an x the
	// MLP has not kept a forward state for.
	if _, err := l.Top(top[:], nil, x, nil); err != nil {
		b.Fatal(err)
	}
	hvps := 0
	b.ReportAllocs()
	for b.Loop() {
		l.Reset()
		x[0] = math.Nextafter(x[0], math.Inf(1))
		h, err := l.Top(top[:], nil, x, nil)
		if err != nil {
			b.Fatal(err)
		}
		hvps += h
	}
	b.ReportMetric(float64(hvps)/float64(b.N), "hvps/op")
}

func BenchmarkGDStepSmall(b *testing.B)     { benchmarkGDStep(b, benchSizes[0]) }
func BenchmarkGDStepMedium(b *testing.B)    { benchmarkGDStep(b, benchSizes[1]) }
func BenchmarkGDStepLarge(b *testing.B)     { benchmarkGDStep(b, benchSizes[2]) }
func BenchmarkHVPSmall(b *testing.B)        { benchmarkHVP(b, benchSizes[0]) }
func BenchmarkHVPMedium(b *testing.B)       { benchmarkHVP(b, benchSizes[1]) }
func BenchmarkHVPLarge(b *testing.B)        { benchmarkHVP(b, benchSizes[2]) }
func BenchmarkSharpnessSmall(b *testing.B)  { benchmarkSharpness(b, benchSizes[0]) }
func BenchmarkSharpnessMedium(b *testing.B) { benchmarkSharpness(b, benchSizes[1]) }
func BenchmarkSharpnessLarge(b *testing.B)  { benchmarkSharpness(b, benchSizes[2]) }

// benchmarkDgemm times C = A B for square n×n matrices with the BLAS in use
// and reports GFLOP/s (2n³ flops per product): the peak that the GD step's
// throughput is compared with.
func benchmarkDgemm(b *testing.B, n int) {
	rng := rand.New(rand.NewPCG(1, 2))
	mk := func() blas64.General {
		g := blas64.General{Rows: n, Cols: n, Stride: n, Data: make([]float64, n*n)}
		for i := range g.Data {
			g.Data[i] = rng.NormFloat64()
		}
		return g
	}
	a, bb, c := mk(), mk(), mk()
	b.ReportAllocs()
	for b.Loop() {
		blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, a, bb, 0, c)
	}
	b.ReportMetric(2*float64(n)*float64(n)*float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func BenchmarkDgemmSmall(b *testing.B)  { benchmarkDgemm(b, 128) }
func BenchmarkDgemmMedium(b *testing.B) { benchmarkDgemm(b, 512) }
func BenchmarkDgemmLarge(b *testing.B)  { benchmarkDgemm(b, 2048) }
