package eos

import "math"

// EnergyRates holds the energy identity of a kinetic run step by step. Over
// the step from t_k = kη to t_{k+1}, for k ≥ k_0 (after the warm-up), the
// identity of the descent–ascent flow integrates to
//
//	F_{k+1} − F_k − (W_{k+1} − W_k) = −∫_{t_k}^{t_{k+1}} ∫|V_θ|² dρ dt + ∫_{t_k}^{t_{k+1}} ∫|V_u|² dρ dt,
//
// W being the work of the noise floor, and dividing by η turns each term
// into its mean rate over the step. Both sides are recorded independently
// by RunKinetic (F from the particles, the integrals as extra components of
// the integrated state), so their difference is the integrator's error
// alone.
type EnergyRates struct {
	// T holds the midpoints (k + ½)η of the steps.
	T []float64
	// FreeRate is the mean rate of change of F over the step, without the
	// jumps caused by the noise floor: (F_{k+1} − F_k − (W_{k+1} − W_k))/η.
	FreeRate []float64
	// Dissipation and Injection are the means over the step of ∫|V_θ|² dρ
	// and ∫|V_u|² dρ, the rates at which the centres lower F and the
	// oscillations raise it.
	Dissipation, Injection []float64
	// Residual is the relative violation of the identity in the step,
	//
	//	|FreeRate + Dissipation − Injection| / (Dissipation + Injection),
	//
	// NaN where both rates vanish.
	Residual []float64
	// MaxResidual is the largest Residual, NaN values left out (zero if
	// all are NaN).
	MaxResidual float64
	// Rises counts the steps in which F rises (FreeRate > 0), and
	// SignMismatches those in which FreeRate and Injection − Dissipation
	// have different signs (zero counting as a sign of its own).
	Rises, SignMismatches int
}

// KineticEnergyRates returns the energy identity of the run r step by step,
// one entry per recorded step after the warm-up (none for a run stopped
// before the end of its warm-up). Up to the integrator's error, F rises in a
// step exactly when the injection outweighs the dissipation, which
// SignMismatches counts the exceptions to.
func KineticEnergyRates(r *KineticRun) *EnergyRates {
	n := max(len(r.T)-1-r.Warmup, 0)
	e := &EnergyRates{
		T:           make([]float64, n),
		FreeRate:    make([]float64, n),
		Dissipation: make([]float64, n),
		Injection:   make([]float64, n),
		Residual:    make([]float64, n),
	}
	for i := range n {
		k := r.Warmup + i
		e.T[i] = (float64(k) + 0.5) * r.Eta
		e.FreeRate[i] = (r.Free[k+1] - r.Free[k] - (r.FloorWork[k+1] - r.FloorWork[k])) / r.Eta
		e.Dissipation[i] = (r.Dissipation[k+1] - r.Dissipation[k]) / r.Eta
		e.Injection[i] = (r.Injection[k+1] - r.Injection[k]) / r.Eta
		total := e.Dissipation[i] + e.Injection[i]
		e.Residual[i] = math.NaN()
		if total > 0 {
			e.Residual[i] = math.Abs(e.FreeRate[i]+e.Dissipation[i]-e.Injection[i]) / total
			e.MaxResidual = math.Max(e.MaxResidual, e.Residual[i])
		}
		if e.FreeRate[i] > 0 {
			e.Rises++
		}
		if energySign(e.FreeRate[i]) != energySign(e.Injection[i]-e.Dissipation[i]) {
			e.SignMismatches++
		}
	}
	return e
}

func energySign(v float64) int {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}
