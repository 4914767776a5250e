package eos_test

import (
	"fmt"
	"math"

	"github.com/eoskit/eoskit/eos"
)

// The paper's matrix factorisation: at its balanced minimum the curvature
// along the direction that scales every factor's (1,1) entry is
// L·σ₁^{2−2/L}, above 2/η for η = 0.077, so GD cannot settle there.
func ExampleMatFact() {
	const depth, eta = 3, 0.077
	m, err := eos.NewMatFact(depth, eos.DiagTarget(5.5, 1))
	if err != nil {
		panic(err)
	}
	d := m.Size()
	x := make([]float64, m.Dim())
	v := make([]float64, m.Dim())
	for i := 0; i < depth; i++ {
		x[i*d*d] = math.Cbrt(5.5)       // (1,1) entry of W_{i+1}
		x[i*d*d+d+1] = 1                // (2,2) entry
		v[i*d*d] = 1 / math.Sqrt(depth) // unit direction
	}
	hv := make([]float64, m.Dim())
	m.HessVec(hv, x, v)
	var curv float64
	for i := range v {
		curv += v[i] * hv[i]
	}
	fmt.Printf("loss %.4f, curvature %.4g, 2/η %.4g\n", m.Loss(x), curv, 2/eta)
	// Output:
	// loss 0.0000, curvature 29.13, 2/η 25.97
}
