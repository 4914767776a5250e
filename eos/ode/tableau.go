package ode

import (
	"fmt"
	"math"
)

// Tableau is an explicit Runge–Kutta method given by its Butcher tableau.
//
// A method with s stages has len(A) = len(B) = len(C) = s, and A[i] holds the
// coefficients a_ij for j < i only (len(A[i]) = i), so that stage i depends on
// the earlier stages alone. Methods are plain data: a caller may define its
// own and pass it in Settings.Method; NewSolver checks its shape.
type Tableau struct {
	// Name identifies the method in messages.
	Name string
	// A is the strictly lower triangle of the Runge–Kutta matrix.
	A [][]float64
	// B holds the weights of the propagated solution, of order Order.
	B []float64
	// BHat holds the weights of the embedded solution, of order
	// EmbeddedOrder, used only to estimate the local error. It is nil for
	// methods that can only take fixed steps.
	BHat []float64
	// C holds the nodes c_i = Σ_j a_ij.
	C []float64
	// Order is the order of the solution with weights B.
	Order int
	// EmbeddedOrder is the order of the solution with weights BHat; zero
	// when BHat is nil.
	EmbeddedOrder int
	// FSAL ("first same as last") reports that the last stage is evaluated
	// at the new solution (A[s−1] = B, C[s−1] = 1), so it is the first stage
	// of the next step and costs nothing there.
	FSAL bool
}

// Euler is the explicit Euler method, order 1.
var Euler = &Tableau{
	Name:  "Euler",
	A:     [][]float64{{}},
	B:     []float64{1},
	C:     []float64{0},
	Order: 1,
}

// Midpoint is the explicit midpoint method, order 2.
var Midpoint = &Tableau{
	Name:  "Midpoint",
	A:     [][]float64{{}, {1.0 / 2}},
	B:     []float64{0, 1},
	C:     []float64{0, 1.0 / 2},
	Order: 2,
}

// RK4 is the classical fourth-order Runge–Kutta method.
var RK4 = &Tableau{
	Name: "RK4",
	A: [][]float64{
		{},
		{1.0 / 2},
		{0, 1.0 / 2},
		{0, 0, 1},
	},
	B:     []float64{1.0 / 6, 1.0 / 3, 1.0 / 3, 1.0 / 6},
	C:     []float64{0, 1.0 / 2, 1.0 / 2, 1},
	Order: 4,
}

// DormandPrince54 is the method of Dormand and Prince (1980), DOPRI5: seven
// stages of which six are new per step (FSAL), a fifth-order solution that is
// propagated (local extrapolation) and an embedded fourth-order one for the
// error estimate.
var DormandPrince54 = &Tableau{
	Name: "DormandPrince54",
	A: [][]float64{
		{},
		{1.0 / 5},
		{3.0 / 40, 9.0 / 40},
		{44.0 / 45, -56.0 / 15, 32.0 / 9},
		{19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729},
		{9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656},
		{35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84},
	},
	B:             []float64{35.0 / 384, 0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84, 0},
	BHat:          []float64{5179.0 / 57600, 0, 7571.0 / 16695, 393.0 / 640, -92097.0 / 339200, 187.0 / 2100, 1.0 / 40},
	C:             []float64{0, 1.0 / 5, 3.0 / 10, 4.0 / 5, 8.0 / 9, 1, 1},
	Order:         5,
	EmbeddedOrder: 4,
	FSAL:          true,
}

// check reports whether the tableau has a usable shape. It is called on
// caller-supplied data, so it returns errors rather than panicking.
func (m *Tableau) check() error {
	s := len(m.B)
	if s == 0 {
		return fmt.Errorf("ode: method %q has no stages", m.Name)
	}
	if len(m.A) != s || len(m.C) != s {
		return fmt.Errorf("ode: method %q has len(A) = %d, len(B) = %d, len(C) = %d, want all equal", m.Name, len(m.A), s, len(m.C))
	}
	if m.BHat != nil && len(m.BHat) != s {
		return fmt.Errorf("ode: method %q has len(BHat) = %d, want %d", m.Name, len(m.BHat), s)
	}
	if m.Order < 1 {
		return fmt.Errorf("ode: method %q has Order = %d, want ≥ 1", m.Name, m.Order)
	}
	if m.BHat != nil && m.EmbeddedOrder < 1 {
		return fmt.Errorf("ode: method %q has EmbeddedOrder = %d, want ≥ 1", m.Name, m.EmbeddedOrder)
	}
	for i, row := range m.A {
		if len(row) != i {
			return fmt.Errorf("ode: method %q has len(A[%d]) = %d, want %d (explicit methods only)", m.Name, i, len(row), i)
		}
		// The nodes must be the row sums, otherwise the method is not
		// consistent for non-autonomous systems; allow for the rounding of
		// decimal coefficients.
		var sum float64
		for _, a := range row {
			sum += a
		}
		if math.Abs(sum-m.C[i]) > 1e-12*(1+math.Abs(m.C[i])) {
			return fmt.Errorf("ode: method %q has C[%d] = %g, want the row sum of A, %g", m.Name, i, m.C[i], sum)
		}
	}
	if m.FSAL {
		last := m.A[s-1]
		if m.C[s-1] != 1 || m.B[s-1] != 0 {
			return fmt.Errorf("ode: method %q is marked FSAL but C[%d] ≠ 1 or B[%d] ≠ 0", m.Name, s-1, s-1)
		}
		for j, a := range last {
			if a != m.B[j] {
				return fmt.Errorf("ode: method %q is marked FSAL but A[%d][%d] ≠ B[%d]", m.Name, s-1, j, j)
			}
		}
	}
	return nil
}
