package ode

import (
	"fmt"
	"math"
)

// PIController chooses adaptive step sizes from the embedded error estimate
// with a proportional–integral law. A nil *PIController in Settings means
// fixed steps. The controller only holds configuration; the memory of the
// previous error lives in the Solver, so one controller may be shared.
type PIController struct {
	// RelTol and AbsTol set the error scale of component i,
	// AbsTol + RelTol·max(|y_i|, |y_new,i|). Zero means 1e-6 and 1e-9
	// respectively; negative values are invalid.
	RelTol, AbsTol float64
	// Safety multiplies every proposed step factor so that the next step is
	// likely to be accepted. Zero means 0.9; it must lie in (0, 1].
	Safety float64
	// MinFactor and MaxFactor bound the ratio of consecutive step sizes.
	// Zero means 0.2 and 10; MinFactor must lie in (0, 1] and MaxFactor be
	// at least 1.
	MinFactor, MaxFactor float64
	// Beta1 and Beta2 are the exponents of the PI law
	//
	//	h_{n+1} = h_n · Safety · err_n^{−Beta1} · err_{n−1}^{Beta2}.
	//
	// Zero means the gains of Gustafsson's PI controller, Beta1 = 0.7/q
	// and Beta2 = 0.4/q, with q = min(Order, EmbeddedOrder) + 1 the
	// exponent of the local error estimate (q = 5 for DormandPrince54:
	// 0.14 and 0.08). Negative values are invalid.
	Beta1, Beta2 float64
}

// resolved returns a copy of c with defaults filled in for the method whose
// error estimate has order q−1, or an error naming an invalid field.
func (c *PIController) resolved(q int) (PIController, error) {
	r := *c
	for _, f := range []struct {
		name string
		v    float64
	}{
		{"RelTol", r.RelTol}, {"AbsTol", r.AbsTol}, {"Safety", r.Safety},
		{"MinFactor", r.MinFactor}, {"MaxFactor", r.MaxFactor},
		{"Beta1", r.Beta1}, {"Beta2", r.Beta2},
	} {
		if f.v < 0 || math.IsNaN(f.v) || math.IsInf(f.v, 0) {
			return r, fmt.Errorf("ode: PIController.%s = %g, want a finite value ≥ 0 (zero for the default)", f.name, f.v)
		}
	}
	if r.RelTol == 0 {
		r.RelTol = 1e-6
	}
	if r.AbsTol == 0 {
		r.AbsTol = 1e-9
	}
	if r.Safety == 0 {
		r.Safety = 0.9
	}
	if r.MinFactor == 0 {
		r.MinFactor = 0.2
	}
	if r.MaxFactor == 0 {
		r.MaxFactor = 10
	}
	if r.Beta1 == 0 {
		r.Beta1 = 0.7 / float64(q)
	}
	if r.Beta2 == 0 {
		r.Beta2 = 0.4 / float64(q)
	}
	if r.Safety > 1 {
		return r, fmt.Errorf("ode: PIController.Safety = %g, want a value in (0, 1]", r.Safety)
	}
	if r.MinFactor > 1 {
		return r, fmt.Errorf("ode: PIController.MinFactor = %g, want a value in (0, 1]", r.MinFactor)
	}
	if r.MaxFactor < 1 {
		return r, fmt.Errorf("ode: PIController.MaxFactor = %g, want a value ≥ 1", r.MaxFactor)
	}
	return r, nil
}
