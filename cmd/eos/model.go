package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/eoskit/eoskit/eos"
	"github.com/eoskit/eoskit/eos/ode"
)

var modelFiles = []string{"model.csv", "gd.csv", "summary.json", "config.json", checkpointName}

var flowNames = []string{"free-energy", "central", "gradient", "covariance"}

var methods = map[string]*ode.Tableau{
	"euler": ode.Euler, "midpoint": ode.Midpoint, "rk4": ode.RK4, "dopri5": ode.DormandPrince54,
}

// modelOptions are the flags of eos model.
type modelOptions struct {
	pf       problemFlags
	rf       runFlags
	cf       checkpointFlags
	start    int
	flow     string
	method   string
	substeps int
}

func newModelFlags() (*flag.FlagSet, *modelOptions) {
	fs := newFlagSet("model", "model [problem flags] --eta η --start K --steps N --flow free-energy|central|gradient|covariance --out DIR [--checkpoint-every K]\n       eos model --resume DIR")
	var o modelOptions
	o.pf.register(fs, 1000, "number of GD steps of time the flow is integrated over (≥ 1)")
	o.rf.register(fs)
	o.cf.register(fs)
	fs.IntVar(&o.start, "start", 20, "GD step at which the flow starts (from the iterates at start, start+1, start+2)")
	fs.StringVar(&o.flow, "flow", "free-energy", "flow: "+strings.Join(flowNames, ", "))
	fs.StringVar(&o.method, "method", "", "integrator: euler, midpoint, rk4, dopri5 (default: the flow's own)")
	fs.IntVar(&o.substeps, "substeps", 0, "integrator steps per GD step of time (0: the flow's default)")
	return fs, &o
}

// runModel runs eos model: GD to --start, then the flow alongside GD. The
// outputs are written when the comparison ends, also when it diverges or
// is interrupted. SIGINT or SIGTERM stops it between two GD steps, saves a
// checkpoint (the rows so far, GD's and the flow's states) and exits with
// status 130; --resume continues it so that every output ends byte for
// byte as if it had not stopped. --checkpoint-every K saves every K GD
// steps, for runs that may be killed outright.
func runModel(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, o, dir, err := parseResumable("model", newModelFlags, args)
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
	if o.start < 0 {
		return usagef("--start %d: must be ≥ 0", o.start)
	}
	if o.start > 10_000_000 {
		return usagef("--start %d: must be at most 10000000", o.start)
	}
	if o.substeps < 0 {
		return usagef("--substeps %d: must be ≥ 0 (0: the flow's default)", o.substeps)
	}
	fset := &eos.FlowSettings{Substeps: o.substeps, EigEvery: pf.eigEvery}
	if o.method != "" {
		m, ok := methods[o.method]
		if !ok {
			return usagef("--method %q: accepted: euler, midpoint, rk4, dopri5", o.method)
		}
		fset.Method = m
	}
	b, err := pf.build()
	if err != nil {
		return err
	}
	var flow eos.Flow
	switch o.flow {
	case "free-energy":
		flow, err = eos.NewFreeEnergyFlow(b.p, pf.eta, fset)
	case "covariance":
		flow, err = eos.NewCovarianceFlow(b.p, pf.eta, fset)
	case "gradient":
		flow, err = eos.NewGradientFlow(b.p, pf.eta, fset)
	case "central":
		flow, err = eos.NewCentralFlow(b.p, pf.eta, &eos.CentralFlowSettings{FlowSettings: *fset})
	default:
		return usagef("--flow %q: accepted: %s", o.flow, strings.Join(flowNames, ", "))
	}
	if err != nil {
		return usagef("%v", err)
	}
	ckp := &runCheckpointer{ctx: ctx, every: o.cf.every, path: filepath.Join(rf.out, checkpointName)}
	cset := &eos.CompareSettings{
		Start: o.start, Steps: pf.steps,
		GD:         &eos.GDSettings{EigEvery: pf.eigEvery, LossBound: rf.lossBound},
		Checkpoint: ckp.checkpoint,
	}
	var badCheckpoint func(error) error
	if dir != "" {
		ck, bad, err := loadRunCheckpoint(dir)
		if err != nil {
			return err
		}
		cset.Resume, badCheckpoint = ck, bad
		if err := removeStaleTemps(dir, modelFiles); err != nil {
			return err
		}
		cset.GD.Observers = []eos.Observer{&onFirstStep{func() {
			fmt.Fprintf(stderr, "eos model: resuming %s at GD step %d: %s, η = %g, the %s flow from step %d for %d steps\n",
				dir, ck.Step, b.what, pf.eta, flow.Name(), o.start, pf.steps)
		}}}
	} else {
		if err := prepareOut(rf.out, rf.force, modelFiles); err != nil {
			return err
		}
		cfg := newConfig(fs, args)
		cfg.Data = b.data
		if err := writeJSON(filepath.Join(rf.out, "config.json"), cfg); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "eos model: %s, η = %g, GD to step %d then the %s flow alongside for %d steps\n",
			b.what, pf.eta, o.start, flow.Name(), pf.steps)
	}
	if !rf.quiet {
		cset.GD.Observers = append(cset.GD.Observers, &eos.Printer{Writer: stderr})
	}
	cmp, runErr := eos.Compare(b.p, b.x0, pf.eta, flow, cset)
	if cmp == nil {
		// Nothing ran: the settings or, on a resume, the checkpoint
		// were refused before the first step.
		if badCheckpoint != nil {
			return badCheckpoint(runErr)
		}
		return runErr
	}
	// Whatever was compared is written, also after a divergence or an
	// interrupt.
	if err := writeModelCSVs(rf.out, cmp.Rows); err != nil {
		return err
	}
	sum := modelSummary{CompareSummary: cmp.Summary, Flow: cmp.Flow, Eta: pf.eta, Start: o.start, Steps: len(cmp.Rows)}
	if err := writeJSON(filepath.Join(rf.out, "summary.json"), sum); err != nil {
		return err
	}
	switch {
	case errors.Is(runErr, errInterrupted):
		return fmt.Errorf("%w before GD step %d: %s holds the %d rows compared so far and %s the state to continue from; continue with: eos model --resume %s",
			errInterrupted, ckp.stopped, rf.out, len(cmp.Rows), ckp.path, rf.out)
	case runErr != nil && !eos.IsDivergence(runErr):
		// A failure (I/O, the flow): the checkpoint stays, to resume
		// once the cause is fixed.
		return fmt.Errorf("%w (the %d rows compared so far are kept in %s)", runErr, len(cmp.Rows), rf.out)
	}
	if err := ckp.remove(); err != nil {
		return err
	}
	if runErr != nil {
		return fmt.Errorf("%w (the %d rows compared so far are kept in %s)", runErr, len(cmp.Rows), rf.out)
	}
	s := cmp.Summary
	fmt.Fprintf(stdout, "%s flow against GD's two-step mean loss over %d steps from step %d:\n", cmp.Flow, len(cmp.Rows), o.start)
	fmt.Fprintf(stdout, "  relative error: median %.3g, p95 %.3g, max %.3g\n", s.MedianRelErr, s.P95RelErr, s.MaxRelErr)
	fmt.Fprintf(stdout, "  rises: model F %.3g of steps (largest %.3g relative), GD loss %.3g, GD F %.3g\n",
		s.FreeEnergyRiseFraction, s.MaxFreeEnergyRelRise, s.GDLossRiseFraction, s.GDFreeEnergyRiseFraction)
	fmt.Fprintf(stdout, "  spikes of GD's two-step mean: %d, matched by the model within 5 steps: %d\n", s.SpikesGD, s.SpikesMatched)
	fmt.Fprintf(stdout, "  cost: %.3g gradient evaluations and %.3g HVPs per GD step\n", s.GradEvalsPerStep, s.HVPsPerStep)
	fmt.Fprintf(stdout, "wrote %s/{model.csv,gd.csv,summary.json,config.json}\n", rf.out)
	return nil
}

// modelSummary is summary.json of eos model.
type modelSummary struct {
	eos.CompareSummary
	Flow  string  `json:"flow"`
	Eta   float64 `json:"eta"`
	Start int     `json:"start"`
	Steps int     `json:"steps"`
}

func writeModelCSVs(dir string, rows []eos.CompareRow) error {
	model := csvTable{header: "step,loss_mean,loss_lo,loss_hi,free_energy,sharpness,u_norm"}
	gd := csvTable{header: "step,loss,loss_mean2,u_norm"}
	for _, r := range rows {
		m := r.Model
		model.row(r.Step, m.LossMean, m.LossLo, m.LossHi, m.FreeEnergy, m.Sharpness, m.UNorm)
		gd.row(r.Step, r.GDLoss, r.GDLossMean2, r.GDUNorm)
	}
	if err := writeFileAtomic(filepath.Join(dir, "model.csv"), model.bytes()); err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, "gd.csv"), gd.bytes())
}

// csvTable builds a numeric CSV with the formatting of eos.CSVWriter:
// shortest round-trip representation, NaN where a value is missing.
type csvTable struct {
	header string
	buf    []byte
}

func (t *csvTable) row(step int, vals ...float64) {
	if t.buf == nil {
		t.buf = append(t.buf, t.header...)
		t.buf = append(t.buf, '\n')
	}
	t.buf = strconv.AppendInt(t.buf, int64(step), 10)
	for _, v := range vals {
		t.buf = append(t.buf, ',')
		t.buf = strconv.AppendFloat(t.buf, v, 'g', -1, 64)
	}
	t.buf = append(t.buf, '\n')
}

func (t *csvTable) bytes() []byte {
	if t.buf == nil {
		return []byte(t.header + "\n")
	}
	return t.buf
}
