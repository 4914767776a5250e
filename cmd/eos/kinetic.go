package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"path/filepath"

	"github.com/eoskit/eoskit/data"
	"github.com/eoskit/eoskit/eos"
)

var kineticFiles = []string{"kinetic.csv", "gd.csv", "particles.csv", "summary.json", "config.json", checkpointName}

// kineticOptions are the flags of eos kinetic.
type kineticOptions struct {
	rf           runFlags
	cf           checkpointFlags
	width        int
	particles    int
	eta          float64
	steps        int
	seed         uint64
	quad         string
	anti         bool
	data         string
	n            int
	inputDim     int
	teacherWidth int
	eigEvery     int
	targetScale  float64
}

func newKineticFlags() (*flag.FlagSet, *kineticOptions) {
	fs := newFlagSet("kinetic", "kinetic --width N --particles M --eta η --steps S --seed s --out DIR [data flags] [--checkpoint-every K]\n       eos kinetic --resume DIR")
	var o kineticOptions
	o.rf.register(fs)
	o.cf.register(fs)
	fs.IntVar(&o.width, "width", 1024, "neurons N of the GD network (mean-field scaling, per-neuron step ηN)")
	fs.IntVar(&o.particles, "particles", 512, "particles M of the kinetic simulation")
	fs.Float64Var(&o.eta, "eta", 0.8, "mean-field step size η (> 0)")
	fs.IntVar(&o.steps, "steps", 4000, "GD steps, and GD steps of time of the kinetic simulation (≥ 2)")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the initial neurons, the particles and the data")
	fs.StringVar(&o.quad, "quadrature", "iid", "how the particles sample the initial law: iid, stratified, quasi")
	fs.BoolVar(&o.anti, "antithetic", false, "draw the particles in antithetic pairs (needs an even --particles)")
	fs.StringVar(&o.data, "data", "teacher", "data set: teacher (Gaussian inputs, tanh teacher) or "+fmt.Sprint(data.Names()))
	fs.IntVar(&o.n, "n", 200, "number of examples")
	fs.IntVar(&o.inputDim, "input-dim", 5, "teacher: input dimension")
	fs.IntVar(&o.teacherWidth, "teacher-width", 3, "teacher: number of teacher neurons")
	fs.IntVar(&o.eigEvery, "eig-every", 0, "measure the mean-field sharpness every K steps (0: never)")
	fs.Float64Var(&o.targetScale, "target-scale", 3, "multiply the targets by this; 3 turns the teacher's (1/m)Σ a_j tanh(w_j·x) into Σ a_j tanh(w_j·x), the regime of stable oscillations at η = 0.8 (with 1 GD never reaches the edge)")
	return fs, &o
}

func (o *kineticOptions) validate() error {
	if err := o.rf.validate(); err != nil {
		return err
	}
	if err := o.cf.validate(); err != nil {
		return err
	}
	switch {
	case !(o.eta > 0) || math.IsInf(o.eta, 0):
		return usagef("--eta %v: the step size must be a finite number > 0", o.eta)
	case o.width < 1:
		return usagef("--width %d: must be at least 1", o.width)
	case o.particles < 1:
		return usagef("--particles %d: must be at least 1", o.particles)
	case o.steps < 2:
		return usagef("--steps %d: must be at least 2 (the oscillation needs three iterates)", o.steps)
	case o.n < 1:
		return usagef("--n %d: must be at least 1", o.n)
	case !(o.targetScale > 0) || math.IsInf(o.targetScale, 0):
		return usagef("--target-scale %v: must be a finite number > 0", o.targetScale)
	case o.eigEvery < 0:
		return usagef("--eig-every %d: must be ≥ 0 (0: never)", o.eigEvery)
	case o.anti && (o.width%2 != 0 || o.particles%2 != 0):
		return usagef("--antithetic needs even --width and --particles, have %d and %d", o.width, o.particles)
	}
	return nil
}

// runKinetic runs mean-field GD of an N-neuron network and the kinetic
// particle system with M particles on the same data, and compares them.
// gd.csv is written when GD ends, the other outputs when the simulation
// does, also when either stops early. SIGINT or SIGTERM stops the run
// between two steps of either, saves a checkpoint and exits with status
// 130; --resume continues it so that every output ends byte for byte as if
// it had not stopped. --checkpoint-every K saves every K steps of each.
func runKinetic(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, o, dir, err := parseResumable("kinetic", newKineticFlags, args)
	if err != nil {
		return err
	}
	if err := o.validate(); err != nil {
		return err
	}
	rf := &o.rf
	q, err := eos.ParseQuadrature(o.quad)
	if err != nil {
		return usagef("--quadrature %q: accepted: iid, stratified, quasi", o.quad)
	}
	set, err := data.Load(o.data, &data.Options{N: o.n, Seed: o.seed, InputDim: o.inputDim, TeacherWidth: o.teacherWidth})
	if err != nil {
		return usagef("--data %s: %v", o.data, err)
	}
	set.Y.Scale(o.targetScale, set.Y)
	net, err := eos.NewMeanField(set.X, set.Y, &eos.MeanFieldConfig{Width: o.width})
	if err != nil {
		return usagef("%v", err)
	}
	pnet, err := eos.NewMeanField(set.X, set.Y, &eos.MeanFieldConfig{Width: o.particles})
	if err != nil {
		return usagef("%v", err)
	}
	what := fmt.Sprintf("%s data (%d examples), GD with N = %d neurons and the kinetic system with M = %d particles (%s%s), η = %g, %d steps",
		set.Name, o.n, o.width, o.particles, q, map[bool]string{true: ", antithetic"}[o.anti], o.eta, o.steps)
	ckp := &runCheckpointer{ctx: ctx, every: o.cf.every, path: filepath.Join(rf.out, checkpointName)}
	gset := &eos.MeanFieldGDSettings{Steps: o.steps, Seed: o.seed, EigEvery: o.eigEvery, Checkpoint: ckp.checkpoint}
	kset := &eos.KineticSettings{Steps: o.steps, Seed: o.seed, Quadrature: q, Antithetic: o.anti, EigEvery: o.eigEvery, Checkpoint: ckp.checkpoint}
	// gd is the completed GD run when the checkpoint is the simulation's.
	var gd *eos.MeanFieldRun
	var badCheckpoint func(error) error
	// announce, if set, says that the simulation resumes, at its first
	// step, once its checkpoint was accepted.
	var announce func()
	if dir != "" {
		ck, bad, err := loadRunCheckpoint(dir)
		if err != nil {
			return err
		}
		badCheckpoint = bad
		if err := removeStaleTemps(dir, kineticFiles); err != nil {
			return err
		}
		switch ck.Kind {
		case "meanfield-gd":
			gset.Resume = ck
			gset.Observers = []eos.Observer{&onFirstStep{func() {
				fmt.Fprintf(stderr, "eos kinetic: resuming %s in GD at step %d: %s\n", dir, ck.Step, what)
			}}}
		case "kinetic":
			if gd, err = eos.UnmarshalMeanFieldRun(ck.Recorder); err != nil {
				return bad(err)
			}
			if gd.Width != o.width || gd.Eta != o.eta || len(gd.Loss) != o.steps+1 {
				return bad(fmt.Errorf("holds a GD run of width %d, η = %g, %d steps, not of this run", gd.Width, gd.Eta, len(gd.Loss)-1))
			}
			kset.Resume = ck
			announce = func() {
				fmt.Fprintf(stderr, "eos kinetic: resuming %s in the kinetic simulation at step %d: %s\n", dir, ck.Step, what)
			}
		default:
			return bad(fmt.Errorf("checkpoint of a %q run, not of eos kinetic", ck.Kind))
		}
	} else {
		if err := prepareOut(rf.out, rf.force, kineticFiles); err != nil {
			return err
		}
		cfg := newConfig(fs, args)
		cfg.Data = set.Source
		if err := writeJSON(filepath.Join(rf.out, "config.json"), cfg); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "eos kinetic: %s\n", what)
	}
	// refused is the error of a run that returned no record: its settings
	// or, on a resume, its checkpoint were refused before the first step.
	refused := func(err error) error {
		if badCheckpoint != nil {
			return badCheckpoint(err)
		}
		return err
	}
	interrupted := func(phase string, written string) error {
		return fmt.Errorf("%w in %s before step %d: %s holds %s and %s the state to continue from; continue with: eos kinetic --resume %s",
			errInterrupted, phase, ckp.stopped, rf.out, written, ckp.path, rf.out)
	}

	if gd == nil {
		if !rf.quiet {
			gset.Observers = append(gset.Observers, &eos.Printer{Writer: stderr})
		}
		var err error
		gd, err = eos.RunMeanFieldGD(net, o.eta, gset)
		if gd == nil {
			return refused(err)
		}
		if len(gd.Loss) > 0 {
			if werr := writeRunCSV(filepath.Join(rf.out, "gd.csv"), gd.WriteCSV); werr != nil {
				return werr
			}
		}
		switch {
		case errors.Is(err, errInterrupted):
			return interrupted("GD", fmt.Sprintf("gd.csv up to step %d", len(gd.Loss)-1))
		case err != nil && !eos.IsDivergence(err):
			return fmt.Errorf("mean-field GD: %w (gd.csv up to there kept in %s)", err, rf.out)
		case err != nil:
			if rerr := ckp.remove(); rerr != nil {
				return rerr
			}
			return fmt.Errorf("mean-field GD: %w (gd.csv up to there kept in %s)", err, rf.out)
		}
		badCheckpoint = nil
	} else if err := writeRunCSV(filepath.Join(rf.out, "gd.csv"), gd.WriteCSV); err != nil {
		// gd.csv as GD wrote it, should a kill have taken it.
		return err
	}
	ckp.recorder = eos.MarshalMeanFieldRun(gd)

	progress := &kineticProgress{w: stderr, quiet: rf.quiet, every: max(1, o.steps/10)}
	kset.Observer = func(s *eos.KineticStep) error {
		if announce != nil {
			announce()
			announce = nil
		}
		return progress.observe(s)
	}
	kin, err := eos.RunKinetic(pnet, o.eta, kset)
	if kin == nil {
		return refused(err)
	}
	if len(kin.T) > 0 {
		if werr := writeRunCSV(filepath.Join(rf.out, "kinetic.csv"), kin.WriteCSV); werr != nil {
			return werr
		}
	}
	switch {
	case errors.Is(err, errInterrupted):
		return interrupted("the kinetic simulation", fmt.Sprintf("gd.csv and kinetic.csv up to step %d", len(kin.T)-1))
	case err != nil:
		return fmt.Errorf("kinetic simulation: %w", err)
	}
	if err := ckp.remove(); err != nil {
		return err
	}
	particles := func(w io.Writer) error { return pnet.WriteParticles(w, kin.Theta, kin.U) }
	if err := writeRunCSV(filepath.Join(rf.out, "particles.csv"), particles); err != nil {
		return err
	}
	cmp := eos.CompareKinetic(gd, kin)
	if err := writeJSON(filepath.Join(rf.out, "summary.json"), cmp); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "late time-averaged loss: GD (N = %d) %.5g, kinetic (M = %d) %.5g, relative difference %.3g\n",
		o.width, cmp.LateLossGD, o.particles, cmp.LateLossKinetic, cmp.LateLossRelErr)
	fmt.Fprintf(stdout, "W1 distance between the laws of the amplitudes |u_j|: %.3g\n", cmp.W1Amplitude)
	fmt.Fprintf(stdout, "energy identity F(t) − F(t0) = −∫|V_θ|² + ∫|V_u|² (+ floor work): relative error %.3g\n", cmp.EnergyIdentityRelErr)
	fmt.Fprintf(stdout, "wrote %s/{kinetic.csv,gd.csv,particles.csv,summary.json,config.json}\n", rf.out)
	return nil
}

// writeRunCSV writes a CSV file atomically through write.
func writeRunCSV(path string, write func(io.Writer) error) error {
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		return err
	}
	return writeFileAtomic(path, buf.Bytes())
}

// kineticProgress prints a line every few steps of the kinetic simulation.
type kineticProgress struct {
	w     io.Writer
	quiet bool
	every int
}

func (p *kineticProgress) observe(s *eos.KineticStep) error {
	if !p.quiet && s.K%p.every == 0 {
		fmt.Fprintf(p.w, "kinetic step %d  L_sym %.6g  F %.6g  u_rms %.3g\n", s.K, s.LSym, s.Free, s.URMS)
	}
	return nil
}
