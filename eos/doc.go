// Package eos studies full-batch gradient descent at the Edge of Stability.
//
// Gradient descent with a constant step η,
//
//	θ_{k+1} = θ_k − η ∇E(θ_k),
//
// run on a risk E whose sharpness S(θ) = λ_max(∇²E(θ)) grows past 2/η does not
// diverge: the iterates oscillate across a valley while the sharpness hovers
// near 2/η. Writing θ_k = θ̄_k + (−1)^k u_k and averaging two steps gives a
// continuous-time effective model (t = kη)
//
//	dθ̄/dt = −∇_θ̄ L_sym(θ̄, u),      L_sym = ½[E(θ̄+u) + E(θ̄−u)],
//	du/dt =  ∇_u L_sym(θ̄, u) − (2/η) u,
//
// in which the centre descends and the oscillation ascends the free energy
// F(θ̄, u) = L_sym(θ̄, u) − |u|²/η.
//
// The package provides the problems (Problem: loss, gradient and
// Hessian-vector product), constant-step GD with observers, sharpness by
// Lanczos with full reorthogonalisation, oscillation diagnostics from iterates,
// the effective model in symmetrised and covariance form, the gradient and
// central flows as baselines, and the mean-field (kinetic) description of wide
// two-layer networks. Parameters are flat []float64 vectors throughout.
//
// Long runs can be stopped and resumed so that what they record afterwards
// is identical, bit for bit, to what the uninterrupted run records: GD
// through GDSettings.Checkpointer and Resume, Compare, RunMeanFieldGD and
// RunKinetic through the Checkpoint and Resume fields of their settings.
// Each produces a Checkpoint (a single file, written atomically, with a
// checksum) holding the iterate or the particles, the eigensolver's warm
// start, the integrator's step-size memory, the flow's state (every Flow of
// the package implements encoding.BinaryMarshaler) and the record so far.
package eos
