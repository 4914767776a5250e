package eos

import (
	"fmt"
	"math"
	"strings"

	"gonum.org/v1/gonum/blas/blas64"
)

// Activation is the elementwise nonlinearity σ of a network's hidden layer.
type Activation int

const (
	// Tanh is σ(z) = tanh z.
	Tanh Activation = iota
	// ReLU is σ(z) = max(z, 0). Its derivative at the kink z = 0 is taken
	// as 0 (PyTorch's convention) and its second derivative is 0
	// everywhere, so a Hessian-vector product ignores the kink's
	// curvature; finite-difference tests must keep preactivations away from
	// 0 by more than the difference step.
	ReLU
	// GELU is the exact form σ(z) = z Φ(z), Φ the standard normal CDF
	// (not the tanh approximation).
	GELU
)

// String returns the name ParseActivation accepts.
func (a Activation) String() string {
	switch a {
	case Tanh:
		return "tanh"
	case ReLU:
		return "relu"
	case GELU:
		return "gelu"
	}
	return fmt.Sprintf("Activation(%d)", int(a))
}

// ParseActivation returns the activation named s: "tanh", "relu" or "gelu",
// in any letter case.
func ParseActivation(s string) (Activation, error) {
	switch strings.ToLower(s) {
	case "tanh":
		return Tanh, nil
	case "relu":
		return ReLU, nil
	case "gelu":
		return GELU, nil
	}
	return 0, fmt.Errorf("eos: unknown activation %q (want tanh, relu or gelu)", s)
}

func (a Activation) valid() bool { return a == Tanh || a == ReLU || a == GELU }

// eval returns σ(z) and its first and second derivatives.
//
// For GELU, with φ the standard normal density,
//
//	σ = z Φ(z),  σ' = Φ(z) + z φ(z),  σ'' = φ(z) (2 − z²).
func (a Activation) eval(z float64) (s, ds, dds float64) {
	switch a {
	case Tanh:
		t := math.Tanh(z)
		ds = 1 - t*t
		return t, ds, -2 * t * ds
	case ReLU:
		if z > 0 {
			return z, 1, 0
		}
		return 0, 0, 0
	case GELU:
		cdf := 0.5 * math.Erfc(-z/math.Sqrt2)
		pdf := math.Exp(-0.5*z*z) / math.Sqrt(2*math.Pi)
		return z * cdf, cdf + z*pdf, pdf * (2 - z*z)
	}
	panic("eos: invalid activation")
}

// LossKind is the loss ℓ(f, y) of a network's outputs f against a target y,
// averaged over the n examples.
type LossKind int

const (
	// MSE is ℓ = ½‖f − y‖², summed over outputs (the EoS literature's
	// convention, with one-hot targets).
	MSE LossKind = iota
	// CrossEntropy is ℓ = −Σ_c y_c log softmax(f)_c with target
	// probabilities y.
	CrossEntropy
)

// String returns the name ParseLoss accepts.
func (l LossKind) String() string {
	switch l {
	case MSE:
		return "mse"
	case CrossEntropy:
		return "cross-entropy"
	}
	return fmt.Sprintf("LossKind(%d)", int(l))
}

// ParseLoss returns the loss named s: "mse" or "cross-entropy", in any
// letter case.
func ParseLoss(s string) (LossKind, error) {
	switch strings.ToLower(s) {
	case "mse":
		return MSE, nil
	case "cross-entropy":
		return CrossEntropy, nil
	}
	return 0, fmt.Errorf("eos: unknown loss %q (want mse or cross-entropy)", s)
}

func (l LossKind) valid() bool { return l == MSE || l == CrossEntropy }

// head returns the mean loss (1/n) Σ_i ℓ(f_i, y_i) of the n×k outputs f
// against the targets y (all row-major), stores ∂E/∂f in delta and, when rf
// is not nil, the derivative of delta along the output tangent rf in rdelta.
//
// With p = softmax(f_i) and s = Σ_c y_ic, the cross-entropy derivatives are
//
//	∂ℓ/∂f = s p − y,   R{∂ℓ/∂f} = s p ⊙ (rf − ⟨p, rf⟩),
//
// and for MSE ∂ℓ/∂f = f − y, R{∂ℓ/∂f} = rf.
func (l LossKind) head(delta, rdelta, f, rf, y []float64, k int) float64 {
	n := len(f) / k
	inv := 1 / float64(n)
	var sum float64
	switch l {
	case MSE:
		for i, fi := range f {
			r := fi - y[i]
			sum += r * r
			delta[i] = inv * r
		}
		if rf != nil {
			for i, v := range rf {
				rdelta[i] = inv * v
			}
		}
		return 0.5 * inv * sum
	case CrossEntropy:
		for i := 0; i < n; i++ {
			fi, yi, di := f[i*k:(i+1)*k], y[i*k:(i+1)*k], delta[i*k:(i+1)*k]
			m := fi[0]
			for _, v := range fi[1:] {
				m = math.Max(m, v)
			}
			var z float64
			for c, v := range fi {
				di[c] = math.Exp(v - m)
				z += di[c]
			}
			lse := m + math.Log(z)
			var s float64
			for c, v := range yi {
				s += v
				sum += v * (lse - fi[c])
			}
			// di holds p until it is turned into s p − y below.
			if rf != nil {
				ri, rdi := rf[i*k:(i+1)*k], rdelta[i*k:(i+1)*k]
				var mean float64
				for c, v := range ri {
					mean += di[c] / z * v
				}
				for c, v := range ri {
					rdi[c] = inv * s * di[c] / z * (v - mean)
				}
			}
			for c := range di {
				di[c] = inv * (s*di[c]/z - yi[c])
			}
		}
		return inv * sum
	}
	panic("eos: invalid loss kind")
}

// blasView returns the r×c row-major matrix stored contiguously in data.
func blasView(r, c int, data []float64) blas64.General {
	return blas64.General{Rows: r, Cols: c, Data: data, Stride: max(c, 1)}
}
