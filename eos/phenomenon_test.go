package eos

import (
	"math/rand/v2"
	"testing"
)

// TestPeriodDoublingCascade checks the period-doubling cascade of MODEL.md
// §4: deep matrix factorisation, d = 2, L = 3, η = 0.077 (2/η ≈ 25.97), from
// 0.3·N(0, 1) initialisations. At a balanced minimum the sharpness is about
// L σ_1(A)^{4/3}: 25.6 < 2/η for σ_1 = 5 (GD converges, period 1), 27.0 and
// 29.0 for σ_1 = 5.2 and 5.5 (period 2), 32.7 for σ_1 = 6 (period 4). The
// period is read on the last 100 of 4000 steps by DetectPeriodTol with a
// tolerance of 1e-6 of the initial loss, the scale of the run: for σ_1 = 5
// the late losses are at rounding level of zero (about 1e-27 with OpenBLAS,
// still contracting by |1 − ηλ| ≈ 0.99 per step), where a tolerance relative
// to the window itself would compare rounding noise with itself. Every seed
// listed is checked; none was dropped.
func TestPeriodDoublingCascade(t *testing.T) {
	const (
		eta   = 0.077
		steps = 4000
		tail  = 100
	)
	for _, tc := range []struct {
		diag []float64
		want int
	}{
		{[]float64{5.0, 2}, 1},
		{[]float64{5.2, 1}, 2},
		{[]float64{5.5, 1}, 2},
		{[]float64{6, 1}, 4},
	} {
		for seed := uint64(1); seed <= 5; seed++ {
			mf, err := NewMatFact(3, DiagTarget(tc.diag...))
			if err != nil {
				t.Fatal(err)
			}
			x := make([]float64, mf.Dim())
			mf.InitScaled(x, rand.New(rand.NewPCG(seed, 2)), 0.3)
			tr := &Trace{}
			_, err = GD(x, mf, eta, &GDSettings{Steps: steps, EigEvery: -1, Observers: []Observer{tr}})
			if err != nil {
				t.Errorf("target diag%v seed %d: %v", tc.diag, seed, err)
				continue
			}
			// Sharpness at the end, for the log.
			s, err := Sharpness(mf, x)
			if err != nil {
				t.Fatal(err)
			}
			losses := tr.Loss[len(tr.Loss)-tail:]
			got := DetectPeriodTol(losses, 1e-6*tr.Loss[0])
			t.Logf("target diag%v seed %d: period %d, final loss %.6g, sharpness %.6g (2/η = %.6g)", tc.diag, seed, got, losses[tail-1], s, 2/eta)
			if got != tc.want {
				t.Errorf("target diag%v seed %d: period %d, want %d", tc.diag, seed, got, tc.want)
			}
		}
	}
}
