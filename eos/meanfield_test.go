package eos

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// randData returns n Gaussian inputs in R^d and Gaussian targets in R^k.
func randData(rng *rand.Rand, n, d, k int) (x, y *mat.Dense) {
	x, y = mat.NewDense(n, d, nil), mat.NewDense(n, k, nil)
	for i := 0; i < n; i++ {
		for c := 0; c < d; c++ {
			x.Set(i, c, rng.NormFloat64())
		}
		for c := 0; c < k; c++ {
			y.Set(i, c, rng.NormFloat64())
		}
	}
	return x, y
}

func TestMeanFieldDerivs(t *testing.T) {
	// Oracle: central finite differences of Loss (gradient) and of Grad
	// (HVP), tolerance 1e-6 relative (checkDerivs).
	for _, tc := range []struct {
		name    string
		n, d, k int
		cfg     MeanFieldConfig
	}{
		{"tanh/k=1", 20, 5, 1, MeanFieldConfig{Width: 7}},
		{"tanh/bias/k=3", 15, 4, 3, MeanFieldConfig{Width: 6, Bias: true}},
		{"gelu/bias/k=2", 12, 3, 2, MeanFieldConfig{Width: 5, Act: GELU, Bias: true, WeightStd: 0.7, OutputStd: 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			x, y := randData(rng, tc.n, tc.d, tc.k)
			m, err := NewMeanField(x, y, &tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if want := tc.cfg.Width * (tc.d + tc.k + b2i(tc.cfg.Bias)); m.Dim() != want {
				t.Fatalf("Dim = %d, want %d", m.Dim(), want)
			}
			theta := make([]float64, m.Dim())
			m.Init(theta, rng)
			checkDerivs(t, m, theta, rng)
			checkNoAllocs(t, m, theta)
		})
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestMeanFieldLoss(t *testing.T) {
	// Oracle: the definition f(x) = (1/N) Σ_j a_j tanh(w_j·x + b_j),
	// E = (1/n) Σ_i ½‖f(x_i) − y_i‖², summed neuron by neuron.
	rng := rand.New(rand.NewPCG(1, 2))
	const n, d, k, width = 9, 3, 2, 4
	x, y := randData(rng, n, d, k)
	m, err := NewMeanField(x, y, &MeanFieldConfig{Width: width, Bias: true})
	if err != nil {
		t.Fatal(err)
	}
	theta := make([]float64, m.Dim())
	m.Init(theta, rng)
	p := d + 1 + k
	var want float64
	for i := 0; i < n; i++ {
		for c := 0; c < k; c++ {
			var f float64
			for j := 0; j < width; j++ {
				z := theta[j*p+d]
				for e := 0; e < d; e++ {
					z += theta[j*p+e] * x.At(i, e)
				}
				f += theta[j*p+d+1+c] * math.Tanh(z) / width
			}
			r := f - y.At(i, c)
			want += 0.5 * r * r / n
		}
	}
	if got := m.Loss(theta); math.Abs(got-want) > 1e-14*want {
		t.Errorf("Loss = %v, want %v", got, want)
	}
}

func TestMeanFieldSampleAntithetic(t *testing.T) {
	// Oracle: with pairs (w, b, a), (w, b, −a) the predictor vanishes
	// identically, so E = (1/n) Σ ½‖y_i‖²; and every quadrature gives
	// per-coordinate moments near those of N(0, σ²) (mean within 4σ/√M,
	// variance within 25 %).
	rng := rand.New(rand.NewPCG(1, 2))
	x, y := randData(rng, 30, 4, 2)
	const width = 2000
	m, err := NewMeanField(x, y, &MeanFieldConfig{Width: width, Bias: true, WeightStd: 0.5, OutputStd: 2})
	if err != nil {
		t.Fatal(err)
	}
	var want float64
	for i := 0; i < 30; i++ {
		for c := 0; c < 2; c++ {
			want += 0.5 * y.At(i, c) * y.At(i, c) / 30
		}
	}
	theta := make([]float64, m.Dim())
	p := m.NeuronDim()
	for _, q := range []Quadrature{IID, Stratified, QuasiRandom} {
		for _, anti := range []bool{false, true} {
			m.Sample(theta, q, anti, rng)
			if anti {
				if got := m.Loss(theta); math.Abs(got-want) > 1e-12*want {
					t.Errorf("%v antithetic: loss %v, want %v", q, got, want)
				}
			}
			for c := 0; c < p; c++ {
				std := 0.5
				if c >= p-2 {
					std = 2
				}
				var s1, s2 float64
				for j := 0; j < width; j++ {
					v := theta[j*p+c]
					s1 += v
					s2 += v * v
				}
				mean, vr := s1/width, s2/width-(s1/width)*(s1/width)
				if math.Abs(mean) > 4*std/math.Sqrt(width) || math.Abs(vr/(std*std)-1) > 0.25 {
					t.Errorf("%v antithetic=%v coordinate %d: mean %.3g variance %.3g, want 0 and %.3g", q, anti, c, mean, vr, std*std)
				}
			}
		}
	}
}

func TestMeanFieldErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	x, y := randData(rng, 5, 2, 1)
	for _, tc := range []struct {
		name string
		cfg  MeanFieldConfig
		y    *mat.Dense
	}{
		{"width", MeanFieldConfig{Width: -1}, y},
		{"act", MeanFieldConfig{Act: 7}, y},
		{"wstd", MeanFieldConfig{WeightStd: math.NaN()}, y},
		{"astd", MeanFieldConfig{OutputStd: -1}, y},
		{"rows", MeanFieldConfig{}, mat.NewDense(4, 1, nil)},
	} {
		if _, err := NewMeanField(x, tc.y, &tc.cfg); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

// denseSharpness returns λ_max of the Hessian of p at x, assembled column by
// column from HessVec and symmetrised, by mat.EigenSym.
func denseSharpness(t *testing.T, p Problem, x []float64) float64 {
	t.Helper()
	n := p.Dim()
	cols := make([][]float64, n)
	e := make([]float64, n)
	for j := range cols {
		e[j] = 1
		cols[j] = make([]float64, n)
		p.HessVec(cols[j], x, e)
		e[j] = 0
	}
	h := mat.NewSymDense(n, nil)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			h.SetSym(i, j, 0.5*(cols[j][i]+cols[i][j]))
		}
	}
	var eig mat.EigenSym
	if !eig.Factorize(h, false) {
		t.Fatal("EigenSym failed")
	}
	return eig.Values(nil)[n-1]
}

func TestMeanFieldSharpness(t *testing.T) {
	// Oracle: the largest eigenvalue of the dense Hessian (mat.EigenSym),
	// times N, against the Lanczos estimates recorded by RunMeanFieldGD
	// and, at the undisturbed centres of step 0, by RunKinetic; 1e-8
	// relative.
	rng := rand.New(rand.NewPCG(1, 2))
	x, y := randData(rng, 12, 3, 2)
	m, err := NewMeanField(x, y, &MeanFieldConfig{Width: 5, Bias: true})
	if err != nil {
		t.Fatal(err)
	}
	gd, err := RunMeanFieldGD(m, 0.5, &MeanFieldGDSettings{Steps: 3, EigEvery: 1, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	want := 5 * denseSharpness(t, m, gd.Theta0)
	if got := gd.Sharpness[0]; math.Abs(got-want) > 1e-8*want {
		t.Errorf("GD mean-field sharpness %v, want %v", got, want)
	}
	kin, err := RunKinetic(m, 0.5, &KineticSettings{Steps: 3, EigEvery: 1, Warmup: -1, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	if got := kin.Sharpness[0]; math.Abs(got-want) > 1e-8*want {
		t.Errorf("kinetic mean-field sharpness %v, want %v", got, want)
	}
	if !math.IsNaN(kin.Sharpness[1]) && kin.Sharpness[1] <= 0 {
		t.Errorf("kinetic sharpness at step 1: %v", kin.Sharpness[1])
	}
}

func TestRunMeanFieldGD(t *testing.T) {
	// Oracle: GD on E with step ηN, observed by a Trace: RunMeanFieldGD
	// must record the same losses, end at the same iterate, and report the
	// centre and oscillation of the last three iterates and the mean of the
	// last LateWindow losses.
	rng := rand.New(rand.NewPCG(1, 2))
	x, y := randData(rng, 20, 4, 1)
	m, err := NewMeanField(x, y, &MeanFieldConfig{Width: 8})
	if err != nil {
		t.Fatal(err)
	}
	const eta, steps = 1.3, 30
	run, err := RunMeanFieldGD(m, eta, &MeanFieldGDSettings{Steps: steps, Seed: 7, LateWindow: 6})
	if err != nil {
		t.Fatal(err)
	}
	x0 := make([]float64, m.Dim())
	m.Sample(x0, IID, false, rand.New(rand.NewPCG(7, 0)))
	if !floats.Equal(x0, run.Theta0) {
		t.Fatal("Theta0 is not the draw of Seed")
	}
	tr := &Trace{KeepIterates: true}
	if _, err := GD(x0, m, eta*8, &GDSettings{Steps: steps, EigEvery: -1, Observers: []Observer{tr}}); err != nil {
		t.Fatal(err)
	}
	if !floats.Equal(tr.Loss, run.Loss) || !floats.Equal(x0, run.Final) {
		t.Fatal("losses or final iterate differ from GD with step ηN")
	}
	c, u := make([]float64, m.Dim()), make([]float64, m.Dim())
	Centre(c, tr.Iterates[steps-2], tr.Iterates[steps-1], tr.Iterates[steps])
	Oscillation(u, tr.Iterates[steps-2], tr.Iterates[steps-1], tr.Iterates[steps])
	if !floats.Equal(c, run.Theta) || !floats.Equal(u, run.U) {
		t.Error("particles differ from Centre and Oscillation of the last three iterates")
	}
	if want := floats.Sum(tr.Loss[steps-5:]) / 6; math.Abs(run.LateLoss-want) > 1e-15*want {
		t.Errorf("LateLoss %v, want %v", run.LateLoss, want)
	}
}
