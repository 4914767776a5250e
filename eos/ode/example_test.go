package ode_test

import (
	"fmt"
	"math"

	"github.com/eoskit/eoskit/eos/ode"
)

// Exponential decay y' = −y, y(0) = 1, saved at three times with adaptive
// DOPRI5 steps and compared with the exact solution e^{−t}.
func Example() {
	decay := func(dst []float64, _ float64, y []float64) { dst[0] = -y[0] }
	sol, err := ode.Solve(decay, 0, 2, []float64{1}, &ode.Settings{
		Controller: &ode.PIController{RelTol: 1e-8},
		SaveAt:     []float64{0.5, 1, 2},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for i, t := range sol.T {
		fmt.Printf("t = %.4g: y = %.4g, exact %.4g\n", t, sol.Y[i][0], math.Exp(-t))
	}
	// Output:
	// t = 0.5: y = 0.6065, exact 0.6065
	// t = 1: y = 0.3679, exact 0.3679
	// t = 2: y = 0.1353, exact 0.1353
}

// A Solver advances a state in small chunks, here one gradient-descent step
// of time η = 0.1 at a time, without allocating; fixed RK4 steps of η/2.
func ExampleSolver() {
	const eta = 0.1
	decay := func(dst []float64, _ float64, y []float64) { dst[0] = -y[0] }
	s, err := ode.NewSolver(decay, 1, &ode.Settings{Step: eta / 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	y := []float64{1}
	for k := range 10 {
		if err := s.Integrate(y, float64(k)*eta, float64(k+1)*eta); err != nil {
			fmt.Println(err)
			return
		}
	}
	fmt.Printf("y(1) = %.4g, exact %.4g, %+v\n", y[0], math.Exp(-1), s.Stats())
	// Output:
	// y(1) = 0.3679, exact 0.3679, {Steps:20 Accepted:20 Rejected:0 Evals:80}
}
