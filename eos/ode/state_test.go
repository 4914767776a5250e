package ode

import (
	"math"
	"testing"
)

// TestSolverStateResume checks that a solver restored from the state of
// another one continues exactly as the original does: same values to the
// last bit, same step sizes (hence the same statistics). Oracle: the
// uninterrupted solver.
func TestSolverStateResume(t *testing.T) {
	// A stiff-ish oscillator whose adaptive steps vary along the way.
	f := func(dst []float64, t float64, y []float64) {
		dst[0] = y[1]
		dst[1] = -25*y[0] - 0.3*y[1] + math.Sin(3*t)
	}
	for _, tc := range []struct {
		name string
		set  Settings
	}{
		{"rk4 fixed", Settings{Method: RK4, Step: 0.05}},
		{"dopri5 adaptive", Settings{Controller: &PIController{RelTol: 1e-7, AbsTol: 1e-9}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ref, err := NewSolver(f, 2, &tc.set)
			if err != nil {
				t.Fatal(err)
			}
			a, _ := NewSolver(f, 2, &tc.set)
			yRef, y := []float64{1, 0}, []float64{1, 0}
			for i := range 3 {
				if err := ref.Integrate(yRef, float64(i), float64(i+1)); err != nil {
					t.Fatal(err)
				}
			}
			if err := a.Integrate(y, 0, 1); err != nil {
				t.Fatal(err)
			}
			state, err := a.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			b, _ := NewSolver(f, 2, &tc.set)
			if err := b.UnmarshalBinary(state); err != nil {
				t.Fatal(err)
			}
			for i := 1; i < 3; i++ {
				if err := b.Integrate(y, float64(i), float64(i+1)); err != nil {
					t.Fatal(err)
				}
			}
			if y[0] != yRef[0] || y[1] != yRef[1] {
				t.Errorf("resumed y = %v, uninterrupted %v", y, yRef)
			}
			if b.Stats() != ref.Stats() {
				t.Errorf("resumed stats %+v, uninterrupted %+v", b.Stats(), ref.Stats())
			}
		})
	}
}

func TestSolverStateRefused(t *testing.T) {
	f := func(dst []float64, _ float64, y []float64) { copy(dst, y) }
	rk4, _ := NewSolver(f, 2, &Settings{Method: RK4, Step: 0.1})
	state, _ := rk4.MarshalBinary()
	euler, _ := NewSolver(f, 2, &Settings{Method: Euler, Step: 0.1})
	wide, _ := NewSolver(f, 3, &Settings{Method: RK4, Step: 0.1})
	for _, tc := range []struct {
		name string
		s    *Solver
		b    []byte
	}{
		{"other method", euler, state},
		{"other dimension", wide, state},
		{"truncated", rk4, state[:len(state)-1]},
		{"empty", rk4, nil},
		{"bad flag byte", rk4, append(state[:len(state)-1:len(state)-1], 7)},
	} {
		before, _ := tc.s.MarshalBinary()
		if err := tc.s.UnmarshalBinary(tc.b); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
		if after, _ := tc.s.MarshalBinary(); string(after) != string(before) {
			t.Errorf("%s: the refused state changed the solver", tc.name)
		}
	}
}
