package eos_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/eoskit/eoskit/data"
	"github.com/eoskit/eoskit/eos"
)

// TestMLPEdgeOfStability measures the Edge of Stability on real images: a
// two-layer tanh MLP on 500 MNIST images (the first 50 of each class,
// standardised per pixel) with MSE. Width 64 keeps the test short; at
// η = 0.13 (2/η ≈ 15.4) progressive sharpening carries the sharpness from
// about 14 past 2/η within the first 100 steps (measured: first crossing near
// step 80), after which GD stays at the edge.
func TestMLPEdgeOfStability(t *testing.T) {
	if testing.Short() {
		t.Skip("long: 400 GD steps of an MLP on 500 MNIST images")
	}
	set, err := data.Load("mnist", &data.Options{N: 500})
	if err != nil {
		t.Fatal(err)
	}
	mlp, err := eos.NewMLP(set.X, set.Y, &eos.MLPConfig{Width: 64})
	if err != nil {
		t.Fatal(err)
	}
	const eta, steps = 0.13, 400
	x := make([]float64, mlp.Dim())
	mlp.Init(x, rand.New(rand.NewPCG(1, 2)))
	tr := &eos.Trace{}
	if _, err := eos.GD(x, mlp, eta, &eos.GDSettings{Steps: steps, EigEvery: 5, Observers: []eos.Observer{tr}}); err != nil {
		t.Fatal(err)
	}
	edge := 2 / eta
	crossing := -1
	var sum float64
	var n int
	for k, s := range tr.Sharpness {
		if math.IsNaN(s) {
			continue
		}
		if crossing < 0 && s >= edge {
			crossing = k
		}
		if crossing >= 0 {
			sum += s
			n++
		}
	}
	if crossing < 0 || crossing > 1000 {
		t.Fatalf("sharpness never reached 2/η = %.4g (last %.4g)", edge, tr.Sharpness[len(tr.Sharpness)-1])
	}
	mean := sum / float64(n)
	t.Logf("first crossing of 2/η = %.4g at step %d; mean sharpness after it %.4g over %d measurements", edge, crossing, mean, n)
	if math.Abs(mean-edge) > 0.1*edge {
		t.Errorf("mean sharpness after the crossing %.4g is not within 10%% of 2/η = %.4g", mean, edge)
	}
}
