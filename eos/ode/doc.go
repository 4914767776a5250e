// Package ode integrates initial value problems y' = f(t, y), y(t0) = y0, by
// explicit Runge–Kutta methods, with fixed steps or with adaptive steps under a
// PI controller. Its design follows diffrax: methods are data (Butcher
// tableaus), the step-size controller is a separate object, Solve is the one
// entry point and its Solution carries step statistics. Solver is the same
// stepping code for callers that advance a state in many small chunks without
// allocating.
//
// A method with s stages and tableau (A, b, c) advances y_n by a step h as
//
//	k_i     = f(t_n + c_i h, y_n + h Σ_{j<i} a_ij k_j),   i = 1, …, s,
//	y_{n+1} = y_n + h Σ_i b_i k_i.
//
// An embedded method shares the stages but has other weights b̂, of lower
// order, so the difference of the two solutions estimates the local error of
// the lower-order one at no extra cost. The higher-order solution is the one
// propagated (local extrapolation). With q = min(p, p̂) + 1 the error exponent,
// the scaled error of a step is
//
//	e_i = h Σ_j (b_j − b̂_j) k_j,
//	err = sqrt( (1/n) Σ_i ( e_i / (atol + rtol·max(|y_n,i|, |y_{n+1},i|)) )² ),
//
// and the step is accepted when err ≤ 1. The PI law then proposes
//
//	h_{n+1} = h_n · clamp(safety · err_n^{−β1} · err_{n−1}^{β2}, minFactor, maxFactor),
//
// with β1 = 0.7/q and β2 = 0.4/q by default (Gustafsson): the integral part
// err_n^{−β1} steers the error to the tolerance, the proportional part damps
// the oscillation of step sizes that a pure integral controller shows near its
// stability limit. A rejected step is retried with
//
//	h ← h · clamp(safety · err^{−1/q}, minFactor, 1),
//
// and the step after a rejection may not grow.
//
// Save times are reached by shortening steps, never by interpolation, so the
// saved states are exactly the integrator's states.
package ode
