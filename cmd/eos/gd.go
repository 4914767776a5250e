package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"path/filepath"

	"github.com/eoskit/eoskit/eos"
)

// gdFiles are the files eos gd owns in --out.
var gdFiles = []string{"trace.csv", "config.json"}

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

// cancelOnContext aborts a GD run when ctx is done (SIGINT, SIGTERM), so
// that the observers flush what they hold and the trace stays valid.
type cancelOnContext struct{ ctx context.Context }

func (c cancelOnContext) Observe(*eos.Step) error { return c.ctx.Err() }

func runGD(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("gd", "gd [--problem mf|mlp|cnn] [problem flags] --eta η --steps N --out DIR")
	var pf problemFlags
	var rf runFlags
	pf.register(fs, 4000, "number of GD steps (≥ 1)")
	rf.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := pf.validate(); err != nil {
		return err
	}
	if err := rf.validate(); err != nil {
		return err
	}
	b, err := pf.build()
	if err != nil {
		return err
	}
	if err := prepareOut(rf.out, rf.force, gdFiles); err != nil {
		return err
	}
	cfg := newConfig(fs, args)
	cfg.Data = b.data
	if err := writeJSON(filepath.Join(rf.out, "config.json"), cfg); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "eos gd: %s, η = %g (2/η = %.4g), %d steps\n", b.what, pf.eta, 2/pf.eta, pf.steps)

	trace, err := createAtomic(filepath.Join(rf.out, "trace.csv"))
	if err != nil {
		return err
	}
	csv := eos.NewCSVWriter(trace)
	tail := &lastLosses{n: 100}
	obs := []eos.Observer{csv, tail, cancelOnContext{ctx}}
	if !rf.quiet {
		obs = append(obs, &eos.Printer{Writer: stderr})
	}
	x := append([]float64(nil), b.x0...)
	res, runErr := eos.GD(x, b.p, pf.eta, &eos.GDSettings{
		Steps: pf.steps, EigEvery: pf.eigEvery, LossBound: rf.lossBound, Observers: obs,
	})
	// GD has flushed the CSV rows it observed, also after a divergence or an
	// interrupt: keep the trace up to there.
	if err := trace.Commit(); err != nil {
		return err
	}
	if runErr != nil {
		return fmt.Errorf("%w (trace up to the last finite step kept in %s)", runErr, filepath.Join(rf.out, "trace.csv"))
	}
	period := eos.DetectPeriod(tail.losses(), 0)
	fmt.Fprintf(stdout, "final loss %.6g, sharpness %.6g (2/η = %.6g), period of the last %d losses: %s; %d HVPs\n",
		res.Loss, res.Sharpness, 2/pf.eta, len(tail.losses()), periodName(period), res.HVPs)
	fmt.Fprintf(stdout, "wrote %s and %s\n", filepath.Join(rf.out, "trace.csv"), filepath.Join(rf.out, "config.json"))
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
