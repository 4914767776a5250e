package eos

import "math/rand/v2"

// Problem is a twice-differentiable risk E: R^P → R.
//
// Implementations keep their workspaces in struct fields, so a Problem is not
// safe for concurrent use; none of the methods allocates in steady state.
// No method modifies x or v.
type Problem interface {
	// Dim returns the number of parameters P.
	Dim() int
	// Loss returns E(x).
	Loss(x []float64) float64
	// Grad stores ∇E(x) in dst and returns E(x).
	Grad(dst, x []float64) float64
	// HessVec stores H(x)v = ∇²E(x)v in dst.
	HessVec(dst, x, v []float64)
}

// Initializer is implemented by problems that know their customary random
// initialisation (for example PyTorch's default for networks).
type Initializer interface {
	// Init stores an initial parameter vector drawn from rng in dst.
	Init(dst []float64, rng *rand.Rand)
}

// checkLen panics with a package-prefixed message when a slice has the wrong
// length: a programming error, as in gonum.
func checkLen(name string, got, want int) {
	if got != want {
		panic("eos: " + name + " has wrong length")
	}
}
