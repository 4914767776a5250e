package eos

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/floats"
)

// Step is what an Observer sees of GD at step k, before the update
// θ_{k+1} = θ_k − η∇E(θ_k). Its slices belong to GD and are overwritten at the
// next step: an Observer that keeps them must copy them.
type Step struct {
	// K is the step index k, counted from 0.
	K int
	// X is the iterate θ_k.
	X []float64
	// Loss is E(θ_k).
	Loss float64
	// GradNorm is ‖∇E(θ_k)‖.
	GradNorm float64
	// Sharpness is λ_max(H(θ_k)), or NaN when it was not measured at this
	// step.
	Sharpness float64
	// Eigs holds the top EigK eigenvalues of H(θ_k) in descending order, or
	// is nil when they were not measured at this step.
	Eigs []float64
	// HVPs is the number of Hessian-vector products used so far in the run.
	HVPs int
	// Eta is the step size η.
	Eta float64
}

// Observer receives every step of a GD run. Observers only observe; an error
// from one aborts the run and is returned by GD, wrapped.
type Observer interface {
	Observe(s *Step) error
}

// Flusher is implemented by observers that buffer what they saw (CSVWriter
// delays its rows, Printer holds the last step). GD calls Flush on each such
// observer once when the run ends, whether it completed, diverged or was
// aborted, so traces up to the last observed step are always complete.
type Flusher interface {
	Flush() error
}

// GDSettings configures GD.
type GDSettings struct {
	// Steps is the index of the last iterate: GD observes θ_0 … θ_Steps
	// (θ_Resume.K … θ_Steps when resuming), so a new run makes Steps
	// updates. Zero means 1000.
	Steps int
	// EigEvery is the number of steps between sharpness measurements, which
	// happen at steps divisible by it. Zero means every step when Dim() ≤
	// 1000 and every 10 steps otherwise; a negative value means never.
	EigEvery int
	// EigK is the number of top Hessian eigenvalues measured. Zero means 1,
	// or the K of Eigensolver when it is set.
	EigK int
	// LossBound is the loss above which the run counts as diverged. Zero
	// means 1e12·max(1, |E(θ_0)|); +Inf means only non-finite losses stop
	// the run, which they always do. It is ignored when resuming, which
	// keeps the bound of the interrupted run.
	LossBound float64
	// Lanczos configures the eigensolver; its K is ignored in favour of
	// EigK. Nil means default settings. It is ignored when Eigensolver is
	// set.
	Lanczos *LanczosSettings
	// Eigensolver, if not nil, measures the sharpness instead of a Lanczos
	// made from the Lanczos settings. Its K must equal EigK unless EigK is
	// zero. Owning the eigensolver lets the caller save its warm start in
	// a checkpoint (Lanczos.MarshalBinary) and restore it on resume, so
	// that the resumed run measures exactly what the uninterrupted one
	// would. Nil means a new Lanczos.
	Eigensolver *Lanczos
	// Checkpointer, if not nil, is given the state of the run between
	// every two steps. Nil means none.
	Checkpointer Checkpointer
	// Resume, if not nil, continues a run from a state a Checkpointer was
	// given: GD copies Resume.X into x and carries on from step Resume.K
	// with the loss bound and running totals of the state. Nil means a new
	// run from step 0.
	Resume *GDState
	// Observers are notified of every step, in order.
	Observers []Observer
}

// GDState is a GD run between two steps: with the problem, the step size,
// the settings, and the eigensolver and observers in the state they had at
// that point, it is all GD needs to continue as if it had not stopped.
type GDState struct {
	// K is the index of the next step.
	K int
	// X is the iterate θ_K. In the state given to a Checkpointer it is
	// GD's own iterate: it must not be modified, and must be copied to be
	// kept.
	X []float64
	// LossBound is the divergence bound in force: GDSettings.LossBound or
	// the automatic bound computed from E(θ_0).
	LossBound float64
	// HVPs, Unconverged and Sharpness are the GDResult fields of the same
	// names over steps 0 … K−1.
	HVPs        int
	Unconverged int
	Sharpness   float64
}

// A Checkpointer is given the state of a GD run between every two steps:
// after θ_K has been computed and before E(θ_K) is, once the observers have
// seen step K−1. It decides itself whether to save the state, with the
// state of the eigensolver and of its observers (they are consistent at
// that point). An error from it aborts the run as an observer's does, so
// returning one is how a caller stops a run at a resumable point, on SIGINT
// say; x is then θ_K.
type Checkpointer interface {
	Checkpoint(s *GDState) error
}

// GDResult summarises a GD run. A resumed run reports the totals of the
// whole run, steps before the resume included, as the uninterrupted run
// would.
type GDResult struct {
	// Steps is the number of updates performed since θ_0.
	Steps int
	// Loss is E at the final iterate (the divergent loss after a divergence).
	Loss float64
	// Sharpness is the last measured sharpness, NaN if none was measured.
	Sharpness float64
	// HVPs is the total number of Hessian-vector products.
	HVPs int
	// Unconverged counts the sharpness measurements where Lanczos stopped at
	// MaxIter before reaching its tolerance; their values are still used.
	Unconverged int
}

// DivergenceError reports a GD run stopped by a non-finite loss or gradient
// or a loss above GDSettings.LossBound.
type DivergenceError struct {
	// Step is the index k of the divergent iterate; observers saw steps
	// 0 … Step−1.
	Step int
	// Eta is the step size η.
	Eta float64
	// Loss is E(θ_Step).
	Loss float64
	// Sharpness is the last measured sharpness, NaN if none was measured.
	Sharpness float64
}

func (e *DivergenceError) Error() string {
	msg := fmt.Sprintf("eos: diverged at step %d: loss=%g, η=%g", e.Step, e.Loss, e.Eta)
	if math.IsNaN(e.Sharpness) {
		return msg + ", sharpness not measured"
	}
	es := e.Eta * e.Sharpness
	cmp := ">"
	if es <= 2 {
		cmp = "≤"
	}
	return fmt.Sprintf("%s, last sharpness %.4g (η·S = %.4g %s 2)", msg, e.Sharpness, es, cmp)
}

// IsDivergence reports whether err is or wraps a *DivergenceError.
func IsDivergence(err error) bool {
	var d *DivergenceError
	return errors.As(err, &d)
}

// GD runs gradient descent with constant step eta on p from x, which is
// updated in place to the final iterate:
//
//	θ_{k+1} = θ_k − η ∇E(θ_k).
//
// There is no line search, so the loss may rise; that is the point at the
// Edge of Stability. Each step computes E(θ_k) and ∇E(θ_k) in one Grad call,
// measures the top eigenvalues by Lanczos (warm-started from the previous
// eigenvectors) when due, notifies the observers, then updates.
//
// GD returns a *DivergenceError, with x left at the divergent iterate, when
// the loss or gradient is not finite or the loss exceeds the bound; the result
// is returned with it. It returns an error naming the setting when eta or a
// setting is out of range. It panics if len(x) ≠ p.Dim() or, when resuming,
// len(Resume.X) ≠ p.Dim(). A nil s means default settings. Apart from the
// sharpness measurements and the Checkpointer, a step does not allocate.
//
// A run stopped by a Checkpointer's error at step K and continued with
// Resume set to the state it was given then, an eigensolver and observers
// restored to their state at that point, observes the same steps with the
// same values, to the last bit, as the run that was not stopped.
func GD(x []float64, p Problem, eta float64, s *GDSettings) (*GDResult, error) {
	n := p.Dim()
	checkLen("x", len(x), n)
	var set GDSettings
	if s != nil {
		set = *s
	}
	switch {
	case !(eta > 0) || math.IsInf(eta, 1):
		return nil, fmt.Errorf("eos: step size η = %g out of range (0, +Inf)", eta)
	case set.Steps < 0:
		return nil, fmt.Errorf("eos: GDSettings.Steps = %d is negative", set.Steps)
	case set.EigK < 0 || set.EigK > n:
		return nil, fmt.Errorf("eos: GDSettings.EigK = %d out of range [0, %d]", set.EigK, n)
	case !(set.LossBound >= 0):
		return nil, fmt.Errorf("eos: GDSettings.LossBound = %g out of range [0, +Inf]", set.LossBound)
	}
	if set.Steps == 0 {
		set.Steps = 1000
	}
	if r := set.Resume; r != nil {
		checkLen("Resume.X", len(r.X), n)
		switch {
		case r.K < 0 || r.K > set.Steps:
			return nil, fmt.Errorf("eos: GDState.K = %d out of range [0, %d] (GDSettings.Steps)", r.K, set.Steps)
		case !(r.LossBound > 0):
			return nil, fmt.Errorf("eos: GDState.LossBound = %g out of range (0, +Inf]", r.LossBound)
		case r.HVPs < 0:
			return nil, fmt.Errorf("eos: GDState.HVPs = %d is negative", r.HVPs)
		case r.Unconverged < 0:
			return nil, fmt.Errorf("eos: GDState.Unconverged = %d is negative", r.Unconverged)
		}
	}
	if lz := set.Eigensolver; lz != nil {
		switch {
		case lz.p.Dim() != n:
			return nil, fmt.Errorf("eos: GDSettings.Eigensolver is for dimension %d, not %d", lz.p.Dim(), n)
		case set.EigK != 0 && set.EigK != lz.k:
			return nil, fmt.Errorf("eos: GDSettings.EigK = %d differs from the K = %d of GDSettings.Eigensolver", set.EigK, lz.k)
		}
		set.EigK = lz.k
	}
	if set.EigK == 0 {
		set.EigK = 1
	}
	if set.EigEvery == 0 {
		set.EigEvery = 1
		if n > 1000 {
			set.EigEvery = 10
		}
	}

	var eigs []float64
	lz, err := gdEigensolver(p, &set)
	if err != nil {
		return nil, err
	}
	if lz != nil {
		eigs = make([]float64, set.EigK)
	}

	g := make([]float64, n)
	res := &GDResult{Sharpness: math.NaN()}
	bound := set.LossBound
	first := 0
	if r := set.Resume; r != nil {
		copy(x, r.X)
		first, bound = r.K, r.LossBound
		res.Steps, res.HVPs, res.Unconverged, res.Sharpness = r.K, r.HVPs, r.Unconverged, r.Sharpness
	}
	step := &Step{X: x, Eta: eta}
	var state GDState
	for k := first; ; k++ {
		if k > first && set.Checkpointer != nil {
			state = GDState{K: k, X: x, LossBound: bound, HVPs: res.HVPs, Unconverged: res.Unconverged, Sharpness: res.Sharpness}
			if err := set.Checkpointer.Checkpoint(&state); err != nil {
				return res, withFlush(fmt.Errorf("eos: checkpointer before step %d: %w", k, err), set.Observers)
			}
		}
		loss := p.Grad(g, x)
		gn := floats.Norm(g, 2)
		if k == 0 && bound == 0 {
			bound = 1e12 * math.Max(1, math.Abs(loss))
		}
		res.Loss = loss
		if math.IsNaN(loss) || math.IsInf(loss, 0) || loss > bound || math.IsNaN(gn) || math.IsInf(gn, 0) {
			err := &DivergenceError{Step: k, Eta: eta, Loss: loss, Sharpness: res.Sharpness}
			return res, withFlush(err, set.Observers)
		}

		step.K = k
		step.Loss = loss
		step.GradNorm = gn
		step.Sharpness = math.NaN()
		step.Eigs = nil
		if lz != nil && k%set.EigEvery == 0 {
			h, err := lz.Top(eigs, nil, x, nil)
			res.HVPs += h
			if errors.Is(err, ErrNotConverged) {
				res.Unconverged++
			} else if err != nil {
				return res, withFlush(fmt.Errorf("eos: sharpness at step %d: %w", k, err), set.Observers)
			}
			step.Sharpness = eigs[0]
			step.Eigs = eigs
			res.Sharpness = eigs[0]
		}
		step.HVPs = res.HVPs
		for i, o := range set.Observers {
			if err := o.Observe(step); err != nil {
				return res, withFlush(fmt.Errorf("eos: observer %d at step %d: %w", i, k, err), set.Observers)
			}
		}
		if k == set.Steps {
			break
		}
		floats.AddScaled(x, -eta, g)
		res.Steps++
	}
	return res, flushAll(set.Observers)
}

// flushAll flushes every observer that buffers, joining their errors.
func flushAll(obs []Observer) error {
	var errs []error
	for _, o := range obs {
		if f, ok := o.(Flusher); ok {
			if err := f.Flush(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// withFlush flushes the observers after a run stopped by err and returns err,
// joined with the flush errors if any.
func withFlush(err error, obs []Observer) error {
	if ferr := flushAll(obs); ferr != nil {
		return errors.Join(err, ferr)
	}
	return err
}

// gdEigensolver returns the eigensolver GD with settings s uses on p:
// s.Eigensolver, or a new one made from s.Lanczos and s.EigK, or nil when
// s.EigEvery < 0 (with 0 meaning the default, which measures).
func gdEigensolver(p Problem, s *GDSettings) (*Lanczos, error) {
	if s.EigEvery < 0 {
		return nil, nil
	}
	if s.Eigensolver != nil {
		return s.Eigensolver, nil
	}
	ls := LanczosSettings{}
	if s.Lanczos != nil {
		ls = *s.Lanczos
	}
	ls.K = max(s.EigK, 1)
	return NewLanczos(p, &ls)
}
