package eos

import (
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/stat"

	"github.com/eoskit/eoskit/data"
)

// The regime of the kinetic tests, found by scanning η and the target scale
// and stated in the report: data.Teacher with n = 200 Gaussian inputs in
// R^5 and a 3-neuron tanh teacher (seed 1), its targets multiplied by the
// teacher width 3 (so y = Σ_j a_j tanh(w_j·x), without the teacher's 1/m),
// a tanh student without biases and N(0, 1) initial weights, per-neuron
// step ηN with η = 0.8 (2/η = 2.5). The mean-field sharpness at
// initialisation (about 3.6) exceeds 2/η: GD catapults in its first steps
// and then stays in a period-2 oscillation, sharpness near 2.6 at the
// iterates, relative amplitude of the loss about 4 %, per-neuron amplitudes
// |u_j| of root mean square 0.05–0.06, the late mean loss drifting down
// slowly (about 8e-3 at step 500, 4.2e-3–6.3e-3 at step 4000 for N = 4096
// to 64). With the targets as data.Teacher returns them, η = 0.8 gives no
// Edge of Stability (sharpness 0.7 → 1.0 < 2/η in 4000 steps, the loss
// falls to 1e-5), and η = 2.5–4 gives an oscillation whose onset time, and
// with it the late loss, varies by ±15 % between seeds at N = 512.
const regimeEta = 0.8

// regimeNet returns the network of the given width in the regime above.
func regimeNet(t testing.TB, width int) *MeanField {
	t.Helper()
	set, err := data.Teacher(&data.Options{N: 200, InputDim: 5, TeacherWidth: 3, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	set.Y.Scale(3, set.Y)
	m, err := NewMeanField(set.X, set.Y, &MeanFieldConfig{Width: width})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestKineticVelocities(t *testing.T) {
	// Oracle: central finite differences (step 1e-5) of the free energy
	//
	//	F(θ̄, u) = ½[E(θ̄+u) + E(θ̄−u)] − (1/η)(1/M) Σ|u_j|²,
	//
	// for the structure V_θ = −M ∂F/∂θ̄ (descent) and V_u = +M ∂F/∂u
	// (ascent), to 1e-6 relative; and the last two entries of the
	// right-hand side are (1/M)Σ|V_θ|² and (1/M)Σ|V_u|² (1e-12).
	rng := rand.New(rand.NewPCG(1, 2))
	for _, bias := range []bool{false, true} {
		x, y := randData(rng, 15, 3, 2)
		m, err := NewMeanField(x, y, &MeanFieldConfig{Width: 6, Bias: bias})
		if err != nil {
			t.Fatal(err)
		}
		np := m.Dim()
		k := newKinetic(m, 0.7, 0)
		st := make([]float64, 2*np+2)
		m.Init(st[:np], rng)
		for i := np; i < 2*np; i++ {
			st[i] = 0.3 * rng.NormFloat64()
		}
		v := make([]float64, len(st))
		k.rhs(v, 0, st)

		mm := float64(m.width)
		fd := make([]float64, 2*np)
		const h = 1e-5
		for i := range fd {
			s0 := st[i]
			st[i] = s0 + h
			fp := k.free(st[:np], st[np:2*np])
			st[i] = s0 - h
			fm := k.free(st[:np], st[np:2*np])
			st[i] = s0
			fd[i] = mm * (fp - fm) / (2 * h)
		}
		floats.Scale(-1, fd[:np])
		if e := vecRelDist(v[:np], fd[:np]); !(e <= 1e-6) {
			t.Errorf("bias=%v: V_θ vs −M∂F/∂θ̄: relative error %.3g > 1e-6", bias, e)
		}
		if e := vecRelDist(v[np:2*np], fd[np:]); !(e <= 1e-6) {
			t.Errorf("bias=%v: V_u vs +M∂F/∂u: relative error %.3g > 1e-6", bias, e)
		}
		dis := floats.Dot(v[:np], v[:np]) / mm
		inj := floats.Dot(v[np:2*np], v[np:2*np]) / mm
		if math.Abs(v[2*np]-dis) > 1e-12*dis || math.Abs(v[2*np+1]-inj) > 1e-12*inj {
			t.Errorf("bias=%v: energy rates %v, %v, want %v, %v", bias, v[2*np], v[2*np+1], dis, inj)
		}
	}
}

func TestKineticGradientFlowLimit(t *testing.T) {
	// Oracle: u = 0 is invariant (V_u = 0 there), so without a floor the
	// system started at u = 0 is the gradient flow of E: L_sym, both ends
	// of the envelope and F all equal E(θ̄), and nothing is injected.
	m := regimeNet(t, 16)
	run, err := RunKinetic(m, regimeEta, &KineticSettings{Steps: 20, Warmup: -1, NoiseFloor: -1, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	for k := range run.LSym {
		if run.URMS[k] != 0 || run.Injection[k] != 0 || run.EnvLow[k] != run.EnvHigh[k] || run.Free[k] != run.LSym[k] {
			t.Fatalf("step %d: u_rms %v, injection %v, envelope [%v, %v], F %v, L_sym %v", k, run.URMS[k], run.Injection[k], run.EnvLow[k], run.EnvHigh[k], run.Free[k], run.LSym[k])
		}
	}
	if !(run.LSym[20] < run.LSym[0]) {
		t.Errorf("gradient flow did not decrease the loss: %v → %v", run.LSym[0], run.LSym[20])
	}
}

func TestKineticEnergyIdentity(t *testing.T) {
	// Oracle: the identity F(t) − F(0) = −∫∫|V_θ|² + ∫∫|V_u|² + floor work,
	// exact for the flow, so its violation is the integrator's global error:
	// O(h⁴) for RK4. Started at the noise floor (no warm-up), the first
	// steps of the catapult are the hardest part of the run, and 30 steps
	// show the convergence. Measured: 5.6e-3, 2.2e-4, 8.9e-6, 4.5e-7 for 1,
	// 2, 4, 8 substeps, ratios 25, 25, 20 (observed order 4.3–4.6).
	m := regimeNet(t, 32)
	prev := math.NaN()
	for _, sub := range []int{1, 2, 4, 8} {
		run, err := RunKinetic(m, regimeEta, &KineticSettings{Steps: 30, Warmup: -1, Substeps: sub, NoiseFloor: 1e-3, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		e := run.EnergyIdentityRelErr
		for k := 1; k < len(run.T); k++ {
			if run.Dissipation[k] < run.Dissipation[k-1] || run.Injection[k] < run.Injection[k-1] {
				t.Fatalf("substeps %d: dissipation or injection decreased at step %d", sub, k)
			}
		}
		ratio := prev / e
		t.Logf("substeps %d: energy identity relative error %.3g (ratio %.3g), dissipation %.4g, injection %.4g, floor work %.3g",
			sub, e, ratio, run.Dissipation[30], run.Injection[30], run.FloorWork[30])
		if sub > 1 && !(ratio > 12) {
			t.Errorf("substeps %d: error ratio %.3g for a halved step, want > 12 (fourth order gives 16)", sub, ratio)
		}
		prev = e
	}
	if !(prev < 1e-5) {
		t.Errorf("energy identity error %.3g with 8 substeps, want < 1e-5", prev)
	}
}

func TestKineticSettingsErrors(t *testing.T) {
	m := regimeNet(t, 4)
	for _, tc := range []struct {
		name string
		eta  float64
		s    KineticSettings
	}{
		{"eta", 0, KineticSettings{}},
		{"steps", 1, KineticSettings{Steps: 1}},
		{"warmup", 1, KineticSettings{Steps: 10, Warmup: 10}},
		{"substeps", 1, KineticSettings{Substeps: -1}},
		{"floor", 1, KineticSettings{NoiseFloor: math.NaN()}},
		{"theta0", 1, KineticSettings{Theta0: make([]float64, 3)}},
		{"quadrature", 1, KineticSettings{Quadrature: 9}},
		{"late", 1, KineticSettings{Steps: 10, LateWindow: 12}},
		{"eig", 1, KineticSettings{EigEvery: -2}},
	} {
		if _, err := RunKinetic(m, tc.eta, &tc.s); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
	odd := regimeNet(t, 5)
	if _, err := RunKinetic(odd, 1, &KineticSettings{Antithetic: true}); err == nil {
		t.Errorf("antithetic with odd M: no error")
	}
	if _, err := RunMeanFieldGD(m, 1, &MeanFieldGDSettings{Start: make([]float64, 2)}); err == nil {
		t.Errorf("GD start of wrong length: no error")
	}
}

// kineticJob is one run of the long comparison.
type kineticJob struct {
	name string
	run  func() error
}

// runJobs runs the jobs on GOMAXPROCS goroutines, each job with its own
// networks, and fails t on the first error.
func runJobs(t *testing.T, jobs []kineticJob) {
	t.Helper()
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	errs := make([]error, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			start := time.Now()
			errs[i] = j.run()
			t.Logf("%s done in %v", j.name, time.Since(start).Round(time.Second))
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("%s: %v", jobs[i].name, err)
		}
	}
}

// fitSlope returns the least-squares slope of log y against log x.
func fitSlope(x, y []float64) float64 {
	lx, ly := make([]float64, len(x)), make([]float64, len(y))
	for i := range x {
		lx[i], ly[i] = math.Log(x[i]), math.Log(y[i])
	}
	_, slope := stat.LinearRegression(lx, ly, nil, false)
	return slope
}

func relErr(got, want float64) float64 { return math.Abs(got-want) / want }

// TestKineticLimitLong measures, in the regime above at 4000 steps, how GD
// of growing width approaches the kinetic prediction, how well kinetic runs
// of M = 512 particles placed by each quadrature predict the N = 4096 GD
// run, and how the late state of a kinetic run started at the noise floor
// depends on the floor. The kinetic prediction is a run of M = 4096
// particles, quasi-random with antithetic pairs, seed 99 (independent of
// the GD draws). Kinetic runs use RK4 with one step per η (the late loss
// agrees with 2 and 4 substeps to six digits at M = 64).
//
// It runs only with EOS_LONG=1: about 50 minutes of CPU, spread over
// GOMAXPROCS goroutines (82 minutes of wall time on two busy cores).
//
// Measured (all numbers ×1e-3 for losses): the kinetic prediction is 4.236.
// GD late losses 5.224, 4.462, 4.264, 4.228, 4.223 for N = 256 … 4096,
// errors 23 %, 5.4 %, 0.68 %, 0.17 %, 0.30 %, W1 of |u_j| 5.0e-3, 1.3e-3,
// 3.8e-4, 4.8e-4, 2.8e-4: fitted exponents −1.75 (loss) and −0.98 (W1),
// the decrease stopping at N ≈ 1024 on a floor of 0.2–0.3 % (loss) and
// 3–5e-4 (W1), the model's own error and the reference's. M = 512 against
// GD at N = 4096: the W1 part of the claim holds for every run (largest
// 2.4e-3 against the bound 2.7e-3), the 2 % part for 2 runs of 15 (quasi
// seed 1, 0.42 %; antithetic seed 2, 0.57 %): every quadrature keeps a
// bias of +3.5 % to +6.5 % on average over its three seeds (IID 3.8 %,
// antithetic 5.9 %, stratified 6.5 %, quasi 3.5 %, quasi+antithetic 6.2 %),
// and averaging three independent IID runs (cost 3) leaves 3.8 %, while GD
// at N = 1024 (cost 2) is within 0.7 %: the error at M = 512 is a finite-M
// bias of the dynamics, which a better quadrature of the initial law does
// not remove. Noise floor 1e-9, 1e-6, 1e-3 at M = 256: late losses 5.212,
// 5.246, 5.225, within 0.7 % of each other and 0.03–0.4 % of GD at the
// same neurons; the default warm-up start: 0.69 %. Energy identity errors
// 4e-5 to 1e-4 with one RK4 step per η.
func TestKineticLimitLong(t *testing.T) {
	if os.Getenv("EOS_LONG") != "1" {
		t.Skip("set EOS_LONG=1 for the width sweep and the quadrature comparison (about 50 CPU minutes)")
	}
	const steps, sub = 4000, 1
	widths := []int{256, 512, 1024, 2048, 4096}
	variants := []struct {
		name string
		q    Quadrature
		anti bool
	}{
		{"iid", IID, false},
		{"antithetic", IID, true},
		{"stratified", Stratified, false},
		{"quasi", QuasiRandom, false},
		{"quasi+antithetic", QuasiRandom, true},
	}
	seeds := []uint64{1, 2, 3}
	floors := []float64{1e-9, 1e-6, 1e-3}

	gd := make([]*MeanFieldRun, len(widths))
	kin := make([][]*KineticRun, len(variants))
	floorRuns := make([]*KineticRun, len(floors))
	var ref, warm256 *KineticRun
	kinetic := func(dst **KineticRun, m int, s KineticSettings) func() error {
		return func() error {
			s.Steps, s.Substeps = steps, sub
			r, err := RunKinetic(regimeNet(t, m), regimeEta, &s)
			*dst = r
			return err
		}
	}
	jobs := []kineticJob{{"kinetic reference M=4096", kinetic(&ref, 4096, KineticSettings{Quadrature: QuasiRandom, Antithetic: true, Seed: 99})}}
	for i, n := range widths {
		jobs = append(jobs, kineticJob{fmt.Sprintf("GD N=%d", n), func() error {
			r, err := RunMeanFieldGD(regimeNet(t, n), regimeEta, &MeanFieldGDSettings{Steps: steps, Seed: 1})
			gd[i] = r
			return err
		}})
	}
	for v, vr := range variants {
		kin[v] = make([]*KineticRun, len(seeds))
		for i, seed := range seeds {
			jobs = append(jobs, kineticJob{fmt.Sprintf("kinetic M=512 %s seed %d", vr.name, seed),
				kinetic(&kin[v][i], 512, KineticSettings{Quadrature: vr.q, Antithetic: vr.anti, Seed: seed})})
		}
	}
	for i, eps := range floors {
		jobs = append(jobs, kineticJob{fmt.Sprintf("kinetic M=256 floor %g", eps),
			kinetic(&floorRuns[i], 256, KineticSettings{Warmup: -1, NoiseFloor: eps, Seed: 1})})
	}
	jobs = append(jobs, kineticJob{"kinetic M=256 warm-up", kinetic(&warm256, 256, KineticSettings{Seed: 1})})
	runJobs(t, jobs)

	refAmp := ref.Amplitudes()
	gd4096 := gd[len(gd)-1]
	amp4096 := gd4096.Amplitudes()
	t.Logf("kinetic reference M=4096: late loss %.6g, energy identity error %.3g", ref.LateLoss, ref.EnergyIdentityRelErr)
	t.Logf("%6s %12s %12s %12s %14s", "N", "late loss", "rel. error", "W1 to kin.", "W1 to N=4096")
	lossErr, w1 := make([]float64, len(widths)), make([]float64, len(widths))
	fw := make([]float64, len(widths))
	for i, r := range gd {
		fw[i] = float64(widths[i])
		lossErr[i] = relErr(r.LateLoss, ref.LateLoss)
		w1[i] = W1(r.Amplitudes(), refAmp)
		t.Logf("%6d %12.6g %12.3g %12.3g %14.3g", widths[i], r.LateLoss, lossErr[i], w1[i], W1(r.Amplitudes(), amp4096))
	}
	lossSlope, w1Slope := fitSlope(fw, lossErr), fitSlope(fw, w1)
	t.Logf("fitted exponents over N = 256…4096: late-loss error N^%.2f, W1 of |u_j| N^%.2f", lossSlope, w1Slope)
	if !(lossSlope < 0) || !(w1Slope < 0) {
		t.Errorf("GD does not approach the kinetic prediction: exponents %.2f (loss), %.2f (W1)", lossSlope, w1Slope)
	}

	w1Bound := 2 * W1(gd[1].Amplitudes(), amp4096)
	t.Logf("claim: |late loss − GD N=4096| ≤ 2 %% and W1(|u|, GD N=4096) ≤ 2·W1(GD N=512, GD N=4096) = %.3g", w1Bound)
	within := 0
	t.Logf("%-18s %5s %12s %14s %12s %12s %10s", "quadrature", "seed", "late loss", "err vs N=4096", "err vs kin.", "W1 vs 4096", "energy")
	for v, vr := range variants {
		var sum float64
		var pooled []float64
		for i, r := range kin[v] {
			e := relErr(r.LateLoss, gd4096.LateLoss)
			t.Logf("%-18s %5d %12.6g %14.3g %12.3g %12.3g %10.2g", vr.name, seeds[i], r.LateLoss, e, relErr(r.LateLoss, ref.LateLoss), W1(r.Amplitudes(), amp4096), r.EnergyIdentityRelErr)
			if !(r.EnergyIdentityRelErr < 1e-3) {
				t.Errorf("%s seed %d: energy identity error %.3g ≥ 1e-3", vr.name, seeds[i], r.EnergyIdentityRelErr)
			}
			if w := W1(r.Amplitudes(), amp4096); !(w <= w1Bound) {
				t.Errorf("%s seed %d: W1 to GD N=4096 %.3g above the bound %.3g", vr.name, seeds[i], w, w1Bound)
			}
			if e <= 0.02 {
				within++
			}
			sum += r.LateLoss
			pooled = append(pooled, r.Amplitudes()...)
		}
		avg := sum / float64(len(seeds))
		t.Logf("%-18s %5s %12.6g %14.3g %12.3g %12.3g   (mean of %d draws, cost %d)", vr.name, "avg", avg, relErr(avg, gd4096.LateLoss), relErr(avg, ref.LateLoss), W1(pooled, amp4096), len(seeds), len(seeds))
	}

	// The 2 % part of the claim does not hold (see above): reported, not
	// asserted.
	t.Logf("late loss within 2 %% of GD N=4096 in %d of %d kinetic runs", within, len(variants)*len(seeds))

	t.Logf("start at the noise floor, M = 256, seed 1 (GD N=256 seed 1: %.6g; default 20-step warm-up: %.6g, error %.3g)",
		gd[0].LateLoss, warm256.LateLoss, relErr(warm256.LateLoss, gd[0].LateLoss))
	for i, r := range floorRuns {
		t.Logf("floor %-6g late loss %.6g, vs GD %.3g, vs warm-up start %.3g", floors[i], r.LateLoss, relErr(r.LateLoss, gd[0].LateLoss), relErr(r.LateLoss, warm256.LateLoss))
	}
	if e := relErr(warm256.LateLoss, gd[0].LateLoss); !(e < 0.01) {
		t.Errorf("kinetic run from GD's own neurons (M = N = 256) misses GD's late loss by %.3g ≥ 1 %%", e)
	}
}

// TestKineticExtrapolationLong asks whether the error of kinetic runs with
// M = 512 particles against GD at N = 4096 (TestKineticLimitLong: +3.5 % to
// +6.5 % on average per quadrature) is a smooth bias in M that
// extrapolation in M removes, as it would be if the late loss of M
// particles were L∞ + c/M^p. For each of three seeds of the IID and the
// quasi-random quadrature it runs the M = 512 draw and its nested prefixes
// of M = 128 and 256 particles (each a sample of the initial law of its
// own), and extrapolates: Richardson with p = 1 (2L₅₁₂ − L₂₅₆), p = 2
// ((4L₅₁₂ − L₂₅₆)/3), and Aitken's Δ², which estimates p from the three.
// The cost is 1.5 (Richardson) or 1.75 (Aitken) M = 512 runs.
//
// It runs only with EOS_LONG=1: about 30 minutes of CPU (18 minutes of
// wall time on two cores).
//
// Measured (errors against GD at N = 4096, late loss 4.2231e-3): M = 128:
// +7.8 % to +35.7 %; M = 256: +2.7 % to +24.5 %; M = 512: +0.4 % to
// +7.7 % (1 of 6 within 2 %). The error does not fall like c/M^p, which
// would take the same fraction 1 − 2^−p of it at each doubling (50 % for
// p = 1, 75 % for p = 2): from M = 128 to 256 the fraction ranges from
// −14 % (a rise, IID seed 1) to 66 %, from 256 to 512 from 9 % to 98 %. So
// the extrapolations scatter: p = 1 gives −21 % to +2.2 % (2 of 6 within
// 2 %), p = 2 −6.8 % to +5.0 % (3 of 6), Aitken −13 % to +33 % (0 of 6).
// Every run lies above GD at N = 4096: the finite-M error
// is a positive, seed-dependent excess with a spread about as large as its
// mean, not a bias that a better quadrature or an extrapolation in M
// removes at these sizes.
//
// Also measured once, with particles moved by the U-statistic risk
// E_U = (M/(M−1))E − S/(M(M−1)), which removes each particle's action on
// itself (commit 27f6270, since removed): E_U is unbounded below (a
// neuron with large output weights lowers it), and all six M = 512 runs
// ran away, to a late "loss" of about −230.
func TestKineticExtrapolationLong(t *testing.T) {
	if os.Getenv("EOS_LONG") != "1" {
		t.Skip("set EOS_LONG=1 for the extrapolation in M (about 30 CPU minutes)")
	}
	const steps, sub = 4000, 1
	ms := []int{128, 256, 512}
	type draw struct {
		q    Quadrature
		seed uint64
	}
	var draws []draw
	for _, seed := range []uint64{1, 2, 3} {
		draws = append(draws, draw{IID, seed}, draw{QuasiRandom, seed})
	}
	var gd *MeanFieldRun
	jobs := []kineticJob{{"GD N=4096", func() error {
		r, err := RunMeanFieldGD(regimeNet(t, 4096), regimeEta, &MeanFieldGDSettings{Steps: steps, Seed: 1})
		gd = r
		return err
	}}}
	runs := make([][]*KineticRun, len(draws))
	for d, dr := range draws {
		runs[d] = make([]*KineticRun, len(ms))
		big := regimeNet(t, ms[len(ms)-1])
		full := make([]float64, big.Dim())
		big.Sample(full, dr.q, false, rand.New(rand.NewPCG(dr.seed, 0)))
		for i, m := range ms {
			net := regimeNet(t, m)
			theta0 := slices.Clone(full[:net.Dim()])
			jobs = append(jobs, kineticJob{fmt.Sprintf("kinetic M=%d %v seed %d", m, dr.q, dr.seed), func() error {
				r, err := RunKinetic(net, regimeEta, &KineticSettings{Steps: steps, Substeps: sub, Theta0: theta0, Seed: dr.seed})
				runs[d][i] = r
				return err
			}})
		}
	}
	runJobs(t, jobs)

	ref := gd.LateLoss
	e := func(l float64) float64 { return l/ref - 1 }
	t.Logf("GD N=4096: late loss %.6g; errors relative to it:", ref)
	t.Logf("%-6s %4s %9s %9s %9s %9s %9s %9s", "draw", "seed", "M=128", "M=256", "M=512", "R p=1", "R p=2", "Aitken")
	within := map[string]int{}
	for d, dr := range draws {
		l := make([]float64, len(ms))
		for i, r := range runs[d] {
			l[i] = r.LateLoss
			if !(r.EnergyIdentityRelErr < 1e-3) {
				t.Errorf("%v seed %d M=%d: energy identity error %.3g ≥ 1e-3", dr.q, dr.seed, ms[i], r.EnergyIdentityRelErr)
			}
			// The finding above: finite-M runs lie above the wide GD run.
			if !(l[i] > ref) {
				t.Errorf("%v seed %d M=%d: late loss %.6g not above GD N=4096's %.6g", dr.q, dr.seed, ms[i], l[i], ref)
			}
		}
		d1, d2 := l[1]-l[2], l[0]-l[1]
		est := map[string]float64{"M=512": l[2], "R p=1": 2*l[2] - l[1], "R p=2": (4*l[2] - l[1]) / 3, "Aitken": l[2] - d1*d1/(d2-d1)}
		for k, v := range est {
			if math.Abs(e(v)) <= 0.02 {
				within[k]++
			}
		}
		t.Logf("%-6v %4d %+9.4f %+9.4f %+9.4f %+9.4f %+9.4f %+9.4f", dr.q, dr.seed, e(l[0]), e(l[1]), e(l[2]), e(est["R p=1"]), e(est["R p=2"]), e(est["Aitken"]))
	}
	for _, k := range []string{"M=512", "R p=1", "R p=2", "Aitken"} {
		t.Logf("%s within 2 %% of GD N=4096 in %d of %d draws", k, within[k], len(draws))
	}
}

func TestKineticTracksGD(t *testing.T) {
	// Oracle: GD itself. The kinetic run starts from the same 64 neurons as
	// the GD run (same seed, M = N) and after its 20-step warm-up follows
	// the averaged equations; it predicts GD's late two-step mean loss and
	// the law of the oscillation amplitudes |u_j| at step 1000.
	const width, steps = 64, 1000
	m := regimeNet(t, width)
	gd, err := RunMeanFieldGD(m, regimeEta, &MeanFieldGDSettings{Steps: steps, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	kin, err := RunKinetic(m, regimeEta, &KineticSettings{Steps: steps, Seed: 1, Substeps: 1})
	if err != nil {
		t.Fatal(err)
	}
	cmp := CompareKinetic(gd, kin)
	amp := gd.Amplitudes()
	meanAmp := floats.Sum(amp) / float64(len(amp))
	t.Logf("late loss GD %.6g, kinetic %.6g (relative error %.3g); W1 of |u_j| %.3g (mean |u_j| %.3g); energy identity %.3g",
		cmp.LateLossGD, cmp.LateLossKinetic, cmp.LateLossRelErr, cmp.W1Amplitude, meanAmp, cmp.EnergyIdentityRelErr)
	if !(cmp.LateLossRelErr < 0.01) {
		t.Errorf("late loss: relative error %.3g ≥ 1 %%", cmp.LateLossRelErr)
	}
	if !(cmp.W1Amplitude < 0.05*meanAmp) {
		t.Errorf("amplitude law: W1 %.3g ≥ 5 %% of the mean amplitude %.3g", cmp.W1Amplitude, meanAmp)
	}
}

func TestKineticCSV(t *testing.T) {
	// Oracle: the recorded values, which FormatFloat(v, 'g', -1, 64)
	// writes exactly, read back with ParseFloat; headers as documented.
	rng := rand.New(rand.NewPCG(1, 2))
	x, y := randData(rng, 10, 3, 2)
	m, err := NewMeanField(x, y, &MeanFieldConfig{Width: 4, Bias: true})
	if err != nil {
		t.Fatal(err)
	}
	gd, err := RunMeanFieldGD(m, 0.5, &MeanFieldGDSettings{Steps: 6})
	if err != nil {
		t.Fatal(err)
	}
	kin, err := RunKinetic(m, 0.5, &KineticSettings{Steps: 6, Warmup: 2, EigEvery: 3})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		write func(io.Writer) error
		head  string
		rows  int
		check func(row int, v []float64) bool
	}{
		{"gd", gd.WriteCSV, "step,loss,loss_mean2,sharpness", 7, func(k int, v []float64) bool {
			return v[0] == float64(k) && v[1] == gd.Loss[k]
		}},
		{"kinetic", kin.WriteCSV, "step,t,l_sym,env_low,env_high,free,dissipation,injection,floor_work,u_rms,sharpness", 7, func(k int, v []float64) bool {
			return v[1] == kin.T[k] && v[2] == kin.LSym[k] && v[5] == kin.Free[k] && v[9] == kin.URMS[k] && (v[10] == kin.Sharpness[k] || math.IsNaN(kin.Sharpness[k]))
		}},
		{"particles", func(w io.Writer) error { return m.WriteParticles(w, kin.Theta, kin.U) },
			"particle,w_0,w_1,w_2,b,a_0,a_1,u_w_0,u_w_1,u_w_2,u_b,u_a_0,u_a_1,amplitude", 4, func(j int, v []float64) bool {
				return v[0] == float64(j) && floats.Equal(v[1:7], kin.Theta[j*6:(j+1)*6]) && floats.Equal(v[7:13], kin.U[j*6:(j+1)*6]) && v[13] == kin.Amplitudes()[j]
			}},
	} {
		var b strings.Builder
		if err := tc.write(&b); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
		if lines[0] != tc.head || len(lines) != tc.rows+1 {
			t.Errorf("%s: header %q and %d rows, want %q and %d", tc.name, lines[0], len(lines)-1, tc.head, tc.rows)
			continue
		}
		for r, line := range lines[1:] {
			fields := strings.Split(line, ",")
			v := make([]float64, len(fields))
			for i, f := range fields {
				if v[i], err = strconv.ParseFloat(f, 64); err != nil {
					t.Fatalf("%s row %d: %v", tc.name, r, err)
				}
			}
			if !tc.check(r, v) {
				t.Errorf("%s row %d = %v does not match the record", tc.name, r, v)
			}
		}
	}
}

func TestParseQuadrature(t *testing.T) {
	for _, q := range []Quadrature{IID, Stratified, QuasiRandom} {
		got, err := ParseQuadrature(strings.ToUpper(q.String()))
		if err != nil || got != q {
			t.Errorf("ParseQuadrature(%q) = %v, %v", q.String(), got, err)
		}
	}
	if _, err := ParseQuadrature("sobol"); err == nil {
		t.Error("unknown quadrature: no error")
	}
}

func TestMeanFieldWidthTrend(t *testing.T) {
	// The width sweep, reduced to 1000 steps and N = 64, 128, 256 (three
	// seeds each) so that it fits the default test run; the full sweep is
	// TestKineticLimitLong. Oracle: the kinetic prediction, a run of
	// M = 512 particles (quasi-random with antithetic pairs, seed 99). GD's
	// late-loss error and the W1 distance of its amplitude law (the three
	// seeds pooled) to the prediction must decrease with N. Measured: loss
	// errors 15.8 %, 6.7 %, 3.0 % and W1 4.8e-3, 2.7e-3, 1.6e-3 (mean |u_j|
	// about 0.06), fitted exponents −1.20 and −0.78.
	if testing.Short() {
		t.Skip("width sweep: about 40 s")
	}
	const steps = 1000
	widths := []int{64, 128, 256}
	ref, err := RunKinetic(regimeNet(t, 512), regimeEta, &KineticSettings{Steps: steps, Substeps: 1, Quadrature: QuasiRandom, Antithetic: true, Seed: 99})
	if err != nil {
		t.Fatal(err)
	}
	refAmp := ref.Amplitudes()
	lossErr, w1 := make([]float64, len(widths)), make([]float64, len(widths))
	for i, n := range widths {
		m := regimeNet(t, n)
		var pooled []float64
		for seed := uint64(1); seed <= 3; seed++ {
			r, err := RunMeanFieldGD(m, regimeEta, &MeanFieldGDSettings{Steps: steps, Seed: seed})
			if err != nil {
				t.Fatal(err)
			}
			lossErr[i] += relErr(r.LateLoss, ref.LateLoss) / 3
			pooled = append(pooled, r.Amplitudes()...)
		}
		w1[i] = W1(pooled, refAmp)
		t.Logf("N = %3d: mean relative error of the late loss %.3g, W1 of |u_j| %.3g", n, lossErr[i], w1[i])
	}
	t.Logf("kinetic prediction: late loss %.6g; fitted exponents: loss error N^%.2f, W1 N^%.2f",
		ref.LateLoss, fitSlope([]float64{64, 128, 256}, lossErr), fitSlope([]float64{64, 128, 256}, w1))
	for i := 1; i < len(widths); i++ {
		if !(lossErr[i] < lossErr[i-1]) || !(w1[i] < w1[i-1]) {
			t.Errorf("no decrease from N = %d to %d: loss error %.3g → %.3g, W1 %.3g → %.3g",
				widths[i-1], widths[i], lossErr[i-1], lossErr[i], w1[i-1], w1[i])
		}
	}
}
