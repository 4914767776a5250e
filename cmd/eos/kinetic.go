package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"path/filepath"

	"github.com/eoskit/eoskit/data"
	"github.com/eoskit/eoskit/eos"
)

var kineticFiles = []string{"kinetic.csv", "gd.csv", "particles.csv", "summary.json", "config.json"}

// runKinetic runs mean-field GD of an N-neuron network and the kinetic
// particle system with M particles on the same data, and compares them.
func runKinetic(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("kinetic", "kinetic --width N --particles M --eta η --steps S --seed s --out DIR [data flags]")
	var rf runFlags
	rf.register(fs)
	width := fs.Int("width", 1024, "neurons N of the GD network (mean-field scaling, per-neuron step ηN)")
	particles := fs.Int("particles", 512, "particles M of the kinetic simulation")
	eta := fs.Float64("eta", 0.8, "mean-field step size η (> 0)")
	steps := fs.Int("steps", 4000, "GD steps, and GD steps of time of the kinetic simulation (≥ 2)")
	seed := fs.Uint64("seed", 1, "seed of the initial neurons, the particles and the data")
	quad := fs.String("quadrature", "iid", "how the particles sample the initial law: iid, stratified, quasi")
	anti := fs.Bool("antithetic", false, "draw the particles in antithetic pairs (needs an even --particles)")
	dataName := fs.String("data", "teacher", "data set: teacher (Gaussian inputs, tanh teacher) or "+fmt.Sprint(data.Names()))
	n := fs.Int("n", 200, "number of examples")
	inputDim := fs.Int("input-dim", 5, "teacher: input dimension")
	teacherWidth := fs.Int("teacher-width", 3, "teacher: number of teacher neurons")
	eigEvery := fs.Int("eig-every", 0, "measure the mean-field sharpness every K steps (0: never)")
	targetScale := fs.Float64("target-scale", 3, "multiply the targets by this; 3 turns the teacher's (1/m)Σ a_j tanh(w_j·x) into Σ a_j tanh(w_j·x), the regime of stable oscillations at η = 0.8 (with 1 GD never reaches the edge)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := rf.validate(); err != nil {
		return err
	}
	switch {
	case !(*eta > 0) || math.IsInf(*eta, 0):
		return usagef("--eta %v: the step size must be a finite number > 0", *eta)
	case *width < 1:
		return usagef("--width %d: must be at least 1", *width)
	case *particles < 1:
		return usagef("--particles %d: must be at least 1", *particles)
	case *steps < 2:
		return usagef("--steps %d: must be at least 2 (the oscillation needs three iterates)", *steps)
	case *n < 1:
		return usagef("--n %d: must be at least 1", *n)
	case !(*targetScale > 0) || math.IsInf(*targetScale, 0):
		return usagef("--target-scale %v: must be a finite number > 0", *targetScale)
	case *eigEvery < 0:
		return usagef("--eig-every %d: must be ≥ 0 (0: never)", *eigEvery)
	case *anti && (*width%2 != 0 || *particles%2 != 0):
		return usagef("--antithetic needs even --width and --particles, have %d and %d", *width, *particles)
	}
	q, err := eos.ParseQuadrature(*quad)
	if err != nil {
		return usagef("--quadrature %q: accepted: iid, stratified, quasi", *quad)
	}
	set, err := data.Load(*dataName, &data.Options{N: *n, Seed: *seed, InputDim: *inputDim, TeacherWidth: *teacherWidth})
	if err != nil {
		return usagef("--data %s: %v", *dataName, err)
	}
	set.Y.Scale(*targetScale, set.Y)
	net, err := eos.NewMeanField(set.X, set.Y, &eos.MeanFieldConfig{Width: *width})
	if err != nil {
		return usagef("%v", err)
	}
	pnet, err := eos.NewMeanField(set.X, set.Y, &eos.MeanFieldConfig{Width: *particles})
	if err != nil {
		return usagef("%v", err)
	}
	if err := prepareOut(rf.out, rf.force, kineticFiles); err != nil {
		return err
	}
	cfg := newConfig(fs, args)
	cfg.Data = set.Source
	if err := writeJSON(filepath.Join(rf.out, "config.json"), cfg); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "eos kinetic: %s data (%d examples), GD with N = %d neurons and the kinetic system with M = %d particles (%s%s), η = %g, %d steps\n",
		set.Name, *n, *width, *particles, q, map[bool]string{true: ", antithetic"}[*anti], *eta, *steps)

	gdObs := []eos.Observer{cancelOnContext{ctx}}
	if !rf.quiet {
		gdObs = append(gdObs, &eos.Printer{Writer: stderr})
	}
	gd, err := eos.RunMeanFieldGD(net, *eta, &eos.MeanFieldGDSettings{
		Steps: *steps, Seed: *seed, EigEvery: *eigEvery, Observers: gdObs,
	})
	if gd != nil && len(gd.Loss) > 0 {
		var buf bytes.Buffer
		if werr := gd.WriteCSV(&buf); werr != nil {
			return werr
		}
		if werr := writeFileAtomic(filepath.Join(rf.out, "gd.csv"), buf.Bytes()); werr != nil {
			return werr
		}
	}
	if err != nil {
		return fmt.Errorf("mean-field GD: %w (gd.csv up to there kept in %s)", err, rf.out)
	}
	progress := &kineticProgress{ctx: ctx, w: stderr, quiet: rf.quiet, every: max(1, *steps/10)}
	kin, err := eos.RunKinetic(pnet, *eta, &eos.KineticSettings{
		Steps: *steps, Seed: *seed, Quadrature: q, Antithetic: *anti, EigEvery: *eigEvery, Observer: progress.observe,
	})
	if kin != nil && len(kin.T) > 0 {
		var buf bytes.Buffer
		if werr := kin.WriteCSV(&buf); werr != nil {
			return werr
		}
		if werr := writeFileAtomic(filepath.Join(rf.out, "kinetic.csv"), buf.Bytes()); werr != nil {
			return werr
		}
	}
	if err != nil {
		return fmt.Errorf("kinetic simulation: %w", err)
	}
	var buf bytes.Buffer
	if err := pnet.WriteParticles(&buf, kin.Theta, kin.U); err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(rf.out, "particles.csv"), buf.Bytes()); err != nil {
		return err
	}
	cmp := eos.CompareKinetic(gd, kin)
	if err := writeJSON(filepath.Join(rf.out, "summary.json"), cmp); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "late time-averaged loss: GD (N = %d) %.5g, kinetic (M = %d) %.5g, relative difference %.3g\n",
		*width, cmp.LateLossGD, *particles, cmp.LateLossKinetic, cmp.LateLossRelErr)
	fmt.Fprintf(stdout, "W1 distance between the laws of the amplitudes |u_j|: %.3g\n", cmp.W1Amplitude)
	fmt.Fprintf(stdout, "energy identity F(t) − F(t0) = −∫|V_θ|² + ∫|V_u|² (+ floor work): relative error %.3g\n", cmp.EnergyIdentityRelErr)
	fmt.Fprintf(stdout, "wrote %s/{kinetic.csv,gd.csv,particles.csv,summary.json,config.json}\n", rf.out)
	return nil
}

// kineticProgress prints a line every few steps of the kinetic simulation
// and stops it when ctx is done.
type kineticProgress struct {
	ctx   context.Context
	w     io.Writer
	quiet bool
	every int
}

func (p *kineticProgress) observe(s *eos.KineticStep) error {
	if !p.quiet && s.K%p.every == 0 {
		fmt.Fprintf(p.w, "kinetic step %d  L_sym %.6g  F %.6g  u_rms %.3g\n", s.K, s.LSym, s.Free, s.URMS)
	}
	return p.ctx.Err()
}
