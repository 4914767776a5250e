package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"path/filepath"

	"github.com/eoskit/eoskit/eos"
)

// gdFiles are the files eos gd owns in --out.
var gdFiles = []string{"trace.csv", "config.json", checkpointName}

// runFlags are the flags of every command that writes a run directory.
type runFlags struct {
	out       string
	force     bool
	lossBound float64
	quiet     bool
}

func (r *runFlags) register(fs interface {
	StringVar(*string, string, string, string)
	BoolVar(*bool, string, bool, string)
	Float64Var(*float64, string, float64, string)
}) {
	fs.StringVar(&r.out, "out", "", "output directory (required; refused if not empty unless --force)")
	fs.BoolVar(&r.force, "force", false, "overwrite the files of a previous run in --out")
	fs.Float64Var(&r.lossBound, "loss-bound", 0, "stop as diverged when the loss exceeds this (0: 1e12·max(1, initial loss))")
	fs.BoolVar(&r.quiet, "quiet", false, "no progress lines on stderr")
}

func (r *runFlags) validate() error {
	if r.lossBound < 0 || math.IsNaN(r.lossBound) {
		return usagef("--loss-bound %v: must be ≥ 0 (0 means automatic)", r.lossBound)
	}
	return nil
}

// gdOptions are the flags of eos gd.
type gdOptions struct {
	pf problemFlags
	rf runFlags
	cf checkpointFlags
}

func newGDFlags() (*flag.FlagSet, *gdOptions) {
	fs := newFlagSet("gd", "gd [--problem mf|mlp|cnn] [problem flags] --eta η --steps N --out DIR [--checkpoint-every K]\n       eos gd --resume DIR")
	var o gdOptions
	o.pf.register(fs, 4000, "number of GD steps (≥ 1)")
	o.rf.register(fs)
	o.cf.register(fs)
	return fs, &o
}

// runGD runs eos gd. The trace is written as the run goes: rows reach
// trace.csv two steps after their step (eos.CSVWriter), under a temporary
// name renamed at the end, or in place with --checkpoint-every so that the
// trace a checkpoint refers to survives a kill. SIGINT or SIGTERM stops the
// run between two steps, saves a checkpoint and exits with status 130;
// --resume continues it so that trace.csv ends byte for byte as if the run
// had not stopped. A run that completes or diverges removes its checkpoint,
// which could resume nothing.
func runGD(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, o, dir, err := parseResumable("gd", newGDFlags, args)
	if err != nil {
		return err
	}
	pf, rf := &o.pf, &o.rf
	if err := pf.validate(); err != nil {
		return err
	}
	if err := rf.validate(); err != nil {
		return err
	}
	if err := o.cf.validate(); err != nil {
		return err
	}
	b, err := pf.build()
	if err != nil {
		return err
	}

	var lz *eos.Lanczos
	if pf.eigEvery >= 0 {
		if lz, err = eos.NewLanczos(b.p, nil); err != nil {
			return err
		}
	}
	tracePath := filepath.Join(rf.out, "trace.csv")
	tw := &traceWriter{}
	csv := eos.NewCSVWriter(tw)
	tail := &lastLosses{n: 100}
	ck := &gdCheckpointer{runCheckpointer: runCheckpointer{ctx: ctx, every: o.cf.every, path: filepath.Join(rf.out, checkpointName)}, eta: pf.eta,
		trace: tw, csv: csv, tail: tail, lz: lz}
	var resume *eos.GDState
	if dir != "" {
		if resume, err = ck.restore(dir, b.p, pf.steps); err != nil {
			return err
		}
		if err := removeStaleTemps(dir, gdFiles); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "eos gd: resuming %s at step %d: %s, η = %g (2/η = %.4g), %d steps\n", dir, resume.K, b.what, pf.eta, 2/pf.eta, pf.steps)
	} else {
		if err := prepareOut(rf.out, rf.force, gdFiles); err != nil {
			return err
		}
		cfg := newConfig(fs, args)
		cfg.Data = b.data
		if err := writeJSON(filepath.Join(rf.out, "config.json"), cfg); err != nil {
			return err
		}
		if err := tw.create(tracePath, o.cf.every > 0); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "eos gd: %s, η = %g (2/η = %.4g), %d steps\n", b.what, pf.eta, 2/pf.eta, pf.steps)
	}

	obs := []eos.Observer{csv, tail}
	if !rf.quiet {
		obs = append(obs, &eos.Printer{Writer: stderr})
	}
	x := append([]float64(nil), b.x0...)
	res, runErr := eos.GD(x, b.p, pf.eta, &eos.GDSettings{
		Steps: pf.steps, EigEvery: pf.eigEvery, LossBound: rf.lossBound, Eigensolver: lz,
		Checkpointer: ck, Resume: resume, Observers: obs,
	})
	// GD has flushed the CSV rows it observed, also after a divergence or an
	// interrupt: keep the trace up to there.
	if err := tw.close(); err != nil {
		return err
	}
	switch {
	case errors.Is(runErr, errInterrupted):
		return fmt.Errorf("%w before step %d: %s holds steps 0…%d and %s the state to continue from; continue with: eos gd --resume %s",
			errInterrupted, ck.stopped, tracePath, ck.stopped-1, ck.path, rf.out)
	case runErr != nil && !eos.IsDivergence(runErr):
		// A failure (I/O, the eigensolver): the checkpoint stays, to
		// resume once the cause is fixed.
		return fmt.Errorf("%w (trace up to the last finite step kept in %s)", runErr, tracePath)
	}
	if err := ck.remove(); err != nil {
		return err
	}
	if runErr != nil {
		return fmt.Errorf("%w (trace up to the last finite step kept in %s)", runErr, tracePath)
	}
	// Periods are read to 1e-6 of the initial loss, the run's scale, so that
	// a run converged to zero loss is period 1, not rounding noise.
	period := eos.DetectPeriodTol(tail.losses(), 1e-6*b.p.Loss(b.x0))
	fmt.Fprintf(stdout, "final loss %.6g, sharpness %.6g (2/η = %.6g), period of the last %d losses: %s; %d HVPs\n",
		res.Loss, res.Sharpness, 2/pf.eta, len(tail.losses()), periodName(period), res.HVPs)
	fmt.Fprintf(stdout, "wrote %s and %s\n", tracePath, filepath.Join(rf.out, "config.json"))
	return nil
}

func periodName(p int) string {
	if p == 0 {
		return "none (chaotic or still moving)"
	}
	return fmt.Sprint(p)
}

// lastLosses keeps the last n losses of a run.
type lastLosses struct {
	n   int
	buf []float64
}

func (l *lastLosses) Observe(s *eos.Step) error {
	if len(l.buf) == l.n {
		copy(l.buf, l.buf[1:])
		l.buf = l.buf[:l.n-1]
	}
	l.buf = append(l.buf, s.Loss)
	return nil
}

func (l *lastLosses) losses() []float64 { return l.buf }
