package eos

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/eoskit/eoskit/eos/ode"
)

// checkpointFunc adapts a function to the Checkpointer interface.
type checkpointFunc func(s *GDState) error

func (f checkpointFunc) Checkpoint(s *GDState) error { return f(s) }

// Names in the checkpoints of mean-field GD and kinetic runs.
const (
	meanFieldKind  = "meanfield-gd"
	kineticKind    = "kinetic"
	scalarEta      = "eta"
	scalarWidth    = "width"
	scalarSteps    = "steps"
	scalarWarmup   = "warmup"
	scalarFloor    = "floor_work"
	blobODESolver  = "ode_solver"
	kineticRecords = 10 // the series of a KineticRun, in the order of kineticSeries
)

// save returns the checkpoint of a mean-field GD run in GD state st: GD's
// (with its eigensolver lz) and the record so far.
func (r *meanFieldRecorder) save(st *GDState, eta float64, lz *Lanczos) (*Checkpoint, error) {
	ck, err := NewGDCheckpoint(st, lz, nil)
	if err != nil {
		return nil, err
	}
	ck.Kind = meanFieldKind
	run := r.run
	ck.Params = append(ck.Params, slices.Clone(run.Loss), slices.Clone(run.Sharpness), slices.Clone(run.Theta0),
		slices.Clone(r.x0), slices.Clone(r.x1))
	ck.Scalars[scalarEta] = eta
	ck.Scalars[scalarWidth] = float64(run.Width)
	ck.Scalars[scalarSteps] = float64(r.steps)
	return ck, nil
}

// restore puts the recorder in the state of the checkpoint ck of a run of
// m with step eta, and lz (nil when the sharpness is not measured) in its
// eigensolver's state, and returns GD's state to resume from.
func (r *meanFieldRecorder) restore(ck *Checkpoint, m *MeanField, eta float64, lz *Lanczos) (*GDState, error) {
	st, err := ck.gdState(meanFieldKind, "mean-field GD", 6)
	if err != nil {
		return nil, err
	}
	np := m.Dim()
	loss, sharp, theta0, x0, x1 := ck.Params[1], ck.Params[2], ck.Params[3], ck.Params[4], ck.Params[5]
	switch {
	case ck.Scalars[scalarWidth] != float64(m.width) || len(st.X) != np || len(theta0) != np || len(x0) != np || len(x1) != np:
		return nil, fmt.Errorf("eos: mean-field GD checkpoint of width %g, this network has width %d", ck.Scalars[scalarWidth], m.width)
	case ck.Scalars[scalarEta] != eta:
		return nil, fmt.Errorf("eos: mean-field GD checkpoint at η = %g, this run has η = %g", ck.Scalars[scalarEta], eta)
	case ck.Scalars[scalarSteps] != float64(r.steps):
		return nil, fmt.Errorf("eos: mean-field GD checkpoint of a run of %g steps, this run has %d", ck.Scalars[scalarSteps], r.steps)
	case len(loss) != st.K || len(sharp) != st.K || st.K > r.steps:
		return nil, fmt.Errorf("eos: mean-field GD checkpoint at step %d holds %d losses and %d sharpnesses", st.K, len(loss), len(sharp))
	}
	if err := restoreEigensolver(lz, ck.Eigensolver, "mean-field GD checkpoint"); err != nil {
		return nil, err
	}
	r.run.Loss, r.run.Sharpness = loss, sharp
	r.run.Theta0 = theta0
	copy(r.x0, x0)
	copy(r.x1, x1)
	return st, nil
}

// restoreEigensolver restores the state b into lz, which must be nil
// exactly when b is.
func restoreEigensolver(lz *Lanczos, b []byte, what string) error {
	switch {
	case lz == nil && b != nil:
		return fmt.Errorf("eos: %s holds an eigensolver state, but this run measures no sharpness", what)
	case lz != nil && b == nil:
		return fmt.Errorf("eos: %s holds no eigensolver state, but this run measures the sharpness", what)
	case lz != nil:
		return lz.UnmarshalBinary(b)
	}
	return nil
}

// kineticSeries returns the series of a KineticRun, in a fixed order.
func kineticSeries(r *KineticRun) [kineticRecords]*[]float64 {
	return [...]*[]float64{&r.T, &r.LSym, &r.EnvLow, &r.EnvHigh, &r.Free, &r.URMS, &r.Sharpness,
		&r.Dissipation, &r.Injection, &r.FloorWork}
}

// save returns the checkpoint of a kinetic simulation about to take step
// next: the state y (particles and energy integrals), the floor's work, the
// record so far, the random source of the floor and the integrator's and
// eigensolver's states.
func (k *kinetic) save(next, warm int, y []float64, floorWork float64, run *KineticRun, src *rand.PCG, solver *ode.Solver) (*Checkpoint, error) {
	rng, err := src.MarshalBinary()
	if err != nil {
		return nil, err
	}
	sv, err := solver.MarshalBinary()
	if err != nil {
		return nil, err
	}
	ck := &Checkpoint{
		Kind:   kineticKind,
		Step:   next,
		Params: [][]float64{slices.Clone(y), slices.Clone(run.Theta0)},
		Scalars: map[string]float64{
			scalarEta:    k.eta,
			scalarWidth:  float64(k.m.width),
			scalarFloor:  floorWork,
			scalarWarmup: float64(warm),
		},
		RNG:   rng,
		Blobs: map[string][]byte{blobODESolver: sv},
	}
	for _, s := range kineticSeries(run) {
		ck.Params = append(ck.Params, slices.Clone(*s))
	}
	if k.lz != nil {
		if ck.Eigensolver, err = k.lz.MarshalBinary(); err != nil {
			return nil, err
		}
	}
	return ck, nil
}

// restore puts the simulation in the state of the checkpoint ck: y, the
// record run, the floor's random source src, the integrator and the
// eigensolver. It returns the step to take next and the floor's work so
// far. warm and steps are the run's warm-up and length; nothing is changed
// when ck does not fit the run.
func (k *kinetic) restore(ck *Checkpoint, y []float64, run *KineticRun, src *rand.PCG, solver *ode.Solver, warm, steps int) (int, float64, error) {
	if ck.Kind != kineticKind {
		return 0, 0, fmt.Errorf("eos: checkpoint of a %q run, not of a kinetic run", ck.Kind)
	}
	if len(ck.Params) != 2+kineticRecords {
		return 0, 0, fmt.Errorf("eos: kinetic checkpoint holds %d vectors, want %d", len(ck.Params), 2+kineticRecords)
	}
	next := ck.Step
	switch {
	case ck.Scalars[scalarWidth] != float64(k.m.width) || len(ck.Params[0]) != len(y) || len(ck.Params[1]) != k.np:
		return 0, 0, fmt.Errorf("eos: kinetic checkpoint of %g particles, this simulation has %d", ck.Scalars[scalarWidth], k.m.width)
	case ck.Scalars[scalarEta] != k.eta:
		return 0, 0, fmt.Errorf("eos: kinetic checkpoint at η = %g, this simulation has η = %g", ck.Scalars[scalarEta], k.eta)
	case ck.Scalars[scalarWarmup] != float64(warm):
		return 0, 0, fmt.Errorf("eos: kinetic checkpoint with a warm-up of %g steps, this simulation has %d", ck.Scalars[scalarWarmup], warm)
	case next <= warm || next > steps:
		return 0, 0, fmt.Errorf("eos: kinetic checkpoint before step %d, out of range [%d, %d] for this simulation", next, warm+1, steps)
	case math.IsNaN(ck.Scalars[scalarFloor]) || math.IsInf(ck.Scalars[scalarFloor], 0):
		return 0, 0, fmt.Errorf("eos: kinetic checkpoint floor work %g is not finite", ck.Scalars[scalarFloor])
	}
	for i, s := range ck.Params[2:] {
		if len(s) != next {
			return 0, 0, fmt.Errorf("eos: kinetic checkpoint before step %d holds %d entries in series %d, want %d", next, len(s), i, next)
		}
	}
	// Restore the parts that can refuse first, into copies, so that a
	// refusal changes nothing.
	var pcg rand.PCG
	if err := pcg.UnmarshalBinary(ck.RNG); err != nil {
		return 0, 0, fmt.Errorf("eos: kinetic checkpoint random source: %w", err)
	}
	old, err := solver.MarshalBinary()
	if err != nil {
		return 0, 0, err
	}
	if err := solver.UnmarshalBinary(ck.Blobs[blobODESolver]); err != nil {
		return 0, 0, fmt.Errorf("eos: kinetic checkpoint: %w", err)
	}
	if err := restoreEigensolver(k.lz, ck.Eigensolver, "kinetic checkpoint"); err != nil {
		solver.UnmarshalBinary(old)
		return 0, 0, err
	}
	*src = pcg
	copy(y, ck.Params[0])
	run.Theta0 = ck.Params[1]
	for i, s := range kineticSeries(run) {
		*s = ck.Params[2+i]
	}
	return next, ck.Scalars[scalarFloor], nil
}

// meanFieldRunVersion is the version of the encoding of MarshalMeanFieldRun.
const meanFieldRunVersion = 1

// MarshalMeanFieldRun encodes the record r, every field bit for bit, so
// that a completed run can be stored beside a later one (eos kinetic keeps
// its GD run in the kinetic simulation's checkpoints) and read back whole
// by UnmarshalMeanFieldRun. These are functions, not MarshalBinary and
// UnmarshalBinary methods, so that encoding/gob (report.Memo) keeps
// encoding a *MeanFieldRun field by field: gob fails on a pointer-receiver
// binary marshaller reached through a pointer to a pointer.
func MarshalMeanFieldRun(r *MeanFieldRun) []byte {
	var e encoder
	e.str("MeanFieldRun")
	e.u32(meanFieldRunVersion)
	e.int(r.Width)
	e.f64(r.Eta)
	e.int(r.P)
	e.int(r.LateWindow)
	e.f64(r.LateLoss)
	for _, v := range [...][]float64{r.Loss, r.LossMean2, r.Sharpness, r.Theta0, r.Final, r.Theta, r.U} {
		e.floats(v)
	}
	return e.b
}

// UnmarshalMeanFieldRun decodes a record encoded by MarshalMeanFieldRun. It
// returns an error when b is not such a record.
func UnmarshalMeanFieldRun(b []byte) (*MeanFieldRun, error) {
	d := decoder{b: b}
	if tag, v := d.str(), d.u32(); d.err == nil && (tag != "MeanFieldRun" || v != meanFieldRunVersion) {
		return nil, fmt.Errorf("eos: not a MeanFieldRun of version %d (%q version %d)", meanFieldRunVersion, tag, v)
	}
	var r MeanFieldRun
	r.Width, r.Eta, r.P, r.LateWindow, r.LateLoss = d.int(), d.f64(), d.int(), d.int(), d.f64()
	for _, v := range [...]*[]float64{&r.Loss, &r.LossMean2, &r.Sharpness, &r.Theta0, &r.Final, &r.Theta, &r.U} {
		*v = d.floats()
	}
	if err := d.finish("MeanFieldRun"); err != nil {
		return nil, err
	}
	if r.Width < 1 || r.P < 1 || len(r.U)%r.P != 0 {
		return nil, fmt.Errorf("eos: MeanFieldRun malformed (width %d, %d parameters per neuron, %d oscillation numbers)", r.Width, r.P, len(r.U))
	}
	return &r, nil
}
