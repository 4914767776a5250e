package main

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/eoskit/eoskit/data"
	"github.com/eoskit/eoskit/eos"
)

// problemFlags are the flags that choose and build a problem, shared by
// eos gd, eos model and eos rerun.
type problemFlags struct {
	problem   string
	dim       int
	depth     int
	target    string
	initScale float64
	dataName  string
	dataDir   string
	n         int
	width     int
	act       string
	loss      string
	bias      bool
	channels  int
	seed      uint64
	eta       float64
	steps     int
	eigEvery  int
}

// register adds the problem flags; steps is the default of --steps, whose
// meaning differs between commands.
func (f *problemFlags) register(fs *flag.FlagSet, steps int, stepsUsage string) {
	fs.StringVar(&f.problem, "problem", "mf", "problem: mf (deep matrix factorisation), mlp (two-layer network), cnn (two-layer convolutional network)")
	fs.IntVar(&f.dim, "dim", 2, "mf: dimension d of the d×d factors")
	fs.IntVar(&f.depth, "depth", 3, "mf: number of factors L")
	fs.StringVar(&f.target, "target", "5.5,1", "mf: comma-separated diagonal of the target A (length --dim)")
	fs.Float64Var(&f.initScale, "init-scale", 0.3, "mf: initial weights are init-scale·N(0,1)")
	fs.StringVar(&f.dataName, "data", "mnist", "mlp/cnn: data set: "+strings.Join(data.Names(), ", "))
	fs.StringVar(&f.dataDir, "data-dir", "", "mlp/cnn: directory holding cifar-10-batches-bin (default: $EOS_DATA)")
	fs.IntVar(&f.n, "n", 500, "mlp/cnn: number of training examples (divisible by the number of classes)")
	fs.IntVar(&f.width, "width", 256, "mlp: hidden width")
	fs.StringVar(&f.act, "act", "tanh", "mlp/cnn: activation: tanh, relu, gelu")
	fs.StringVar(&f.loss, "loss", "mse", "mlp/cnn: loss: mse or ce (cross-entropy)")
	fs.BoolVar(&f.bias, "bias", false, "mlp/cnn: add biases")
	fs.IntVar(&f.channels, "channels", 32, "cnn: convolution channels")
	fs.Uint64Var(&f.seed, "seed", 1, "random seed of the initialisation (and of synthetic data)")
	fs.Float64Var(&f.eta, "eta", 0.077, "step size η (> 0)")
	fs.IntVar(&f.steps, "steps", steps, stepsUsage)
	fs.IntVar(&f.eigEvery, "eig-every", 0, "measure the sharpness every K steps (0: every step up to 1000 parameters, else every 10; −1: never)")
}

// validate checks every value that does not need the data; it runs before
// anything is written.
func (f *problemFlags) validate() error {
	if !(f.eta > 0) || math.IsInf(f.eta, 0) {
		return usagef("--eta %v: the step size must be a finite number > 0", f.eta)
	}
	if f.steps < 1 {
		return usagef("--steps %d: must be at least 1", f.steps)
	}
	if f.eigEvery < -1 {
		return usagef("--eig-every %d: must be ≥ 1, 0 (automatic) or −1 (never)", f.eigEvery)
	}
	switch f.problem {
	case "mf":
		if f.dim < 1 || f.dim > 1000 {
			return usagef("--dim %d: must be between 1 and 1000", f.dim)
		}
		if f.depth < 1 || f.depth > 100 {
			return usagef("--depth %d: must be between 1 and 100", f.depth)
		}
		if _, err := f.targetDiag(); err != nil {
			return err
		}
		if !(f.initScale > 0) || math.IsInf(f.initScale, 0) {
			return usagef("--init-scale %v: must be a finite number > 0", f.initScale)
		}
	case "mlp", "cnn":
		if f.n < 1 {
			return usagef("--n %d: must be at least 1", f.n)
		}
		if f.width < 1 {
			return usagef("--width %d: must be at least 1", f.width)
		}
		if f.channels < 1 {
			return usagef("--channels %d: must be at least 1", f.channels)
		}
		if _, err := eos.ParseActivation(f.act); err != nil {
			return usagef("--act %q: accepted: tanh, relu, gelu", f.act)
		}
		if _, err := f.lossKind(); err != nil {
			return err
		}
		known := false
		for _, n := range data.Names() {
			known = known || n == f.dataName
		}
		if !known {
			return usagef("--data %q: accepted: %s", f.dataName, strings.Join(data.Names(), ", "))
		}
	default:
		return usagef("--problem %q: accepted: mf, mlp, cnn", f.problem)
	}
	return nil
}

func (f *problemFlags) targetDiag() ([]float64, error) {
	parts := strings.Split(f.target, ",")
	if len(parts) != f.dim {
		return nil, usagef("--target %q: has %d entries but --dim is %d; give the diagonal of A as %d comma-separated numbers", f.target, len(parts), f.dim, f.dim)
	}
	diag := make([]float64, len(parts))
	for i, s := range parts {
		v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, usagef("--target %q: entry %d (%q) is not a finite number", f.target, i+1, s)
		}
		diag[i] = v
	}
	return diag, nil
}

func (f *problemFlags) lossKind() (eos.LossKind, error) {
	switch f.loss {
	case "mse":
		return eos.MSE, nil
	case "ce", "cross-entropy":
		return eos.CrossEntropy, nil
	}
	return 0, usagef("--loss %q: accepted: mse, ce", f.loss)
}

// built is a problem ready to run: the risk, its initial parameters and a
// line saying what ran (the data set actually used, for the logs).
type built struct {
	p    eos.Problem
	x0   []float64
	what string
	data string
}

// build constructs the problem and draws the initial parameters from seed.
// Data errors (a missing CIFAR-10 directory, n too large) are usage errors:
// nothing has been written when they occur.
func (f *problemFlags) build() (*built, error) {
	rng := rand.New(rand.NewPCG(f.seed, 0x5eed))
	switch f.problem {
	case "mf":
		diag, err := f.targetDiag()
		if err != nil {
			return nil, err
		}
		m, err := eos.NewMatFact(f.depth, eos.DiagTarget(diag...))
		if err != nil {
			return nil, usagef("%v", err)
		}
		x0 := make([]float64, m.Dim())
		m.InitScaled(x0, rng, f.initScale)
		return &built{p: m, x0: x0, what: fmt.Sprintf("matrix factorisation d=%d L=%d A=diag(%s)", f.dim, f.depth, f.target)}, nil
	}
	norm := data.PerFeature
	if f.problem == "cnn" {
		norm = data.PerChannel
	}
	set, err := data.Load(f.dataName, &data.Options{N: f.n, DataDir: f.dataDir, Normalize: norm, Seed: f.seed})
	if err != nil {
		return nil, usagef("--data %s: %v", f.dataName, err)
	}
	act, _ := eos.ParseActivation(f.act)
	loss, _ := f.lossKind()
	var p interface {
		eos.Problem
		eos.Initializer
	}
	switch f.problem {
	case "mlp":
		p, err = eos.NewMLP(set.X, set.Y, &eos.MLPConfig{Width: f.width, Act: act, Bias: f.bias, Loss: loss})
	case "cnn":
		if set.Channels == 0 {
			return nil, usagef("--problem cnn needs image data; --data %s is not images (use mnist or cifar10)", f.dataName)
		}
		p, err = eos.NewCNN(set.X, set.Channels, set.Height, set.Width, set.Y, &eos.CNNConfig{Channels: f.channels, Act: act, Bias: f.bias, Loss: loss})
	}
	if err != nil {
		return nil, usagef("%v", err)
	}
	x0 := make([]float64, p.Dim())
	p.Init(x0, rng)
	return &built{p: p, x0: x0, data: set.Source,
		what: fmt.Sprintf("%s on %d %s examples (%s), %d parameters", f.problem, set.X.RawMatrix().Rows, set.Name, f.act, p.Dim())}, nil
}
