package data

import (
	"fmt"
	"io/fs"
	"strings"

	"gonum.org/v1/gonum/mat"
)

// Set is a data set held in memory, preprocessed and ready for a loss.
type Set struct {
	// Name is the name Load accepts for the set: "mnist", "cifar10",
	// "synthetic" or "teacher".
	Name string
	// X holds one example per row, n×D.
	X *mat.Dense
	// Y holds the targets, n×k: one-hot rows for classification
	// (k = Classes), real values for regression (k = number of outputs).
	Y *mat.Dense
	// Labels holds the class of each row; nil for regression.
	Labels []int
	// Classes is the number of classes; 0 for regression.
	Classes int
	// Channels, Height and Width give the image shape of a row, stored
	// channel-major: pixel (c, i, j) is column c·Height·Width + i·Width + j.
	// All three are 0 for sets that are not images.
	Channels, Height, Width int
	// Source says where the examples came from: the files read, or the
	// generator and its seed. It is meant to be printed and recorded.
	Source string
}

// Normalization selects how the columns of X are centred and scaled.
// Statistics always come from the loaded set itself, so a test split is
// standardised by its own statistics, not by those of the training split.
type Normalization int

const (
	// PerFeature centres each column of X and divides it by its standard
	// deviation over the set (the population one, dividing by n): the
	// preprocessing used for MLPs.
	PerFeature Normalization = iota
	// PerChannel centres each image channel and divides it by its standard
	// deviation over all pixels of that channel in the set: the
	// preprocessing used for CNNs. Only image sets accept it.
	PerChannel
	// None leaves the values as they are: pixels scaled to [0, 1] by
	// dividing by 255, synthetic inputs as drawn.
	None
)

// String returns "per-feature", "per-channel" or "none".
func (n Normalization) String() string {
	switch n {
	case PerFeature:
		return "per-feature"
	case PerChannel:
		return "per-channel"
	case None:
		return "none"
	}
	return fmt.Sprintf("Normalization(%d)", int(n))
}

// Options configures Load and the loaders. A nil *Options means all defaults.
type Options struct {
	// N is the number of examples. For classification sets it must be a
	// multiple of the number of classes: the first N/classes examples of
	// each class are taken, in file order. Zero means 500.
	N int
	// DataDir is the directory holding cifar-10-batches-bin/, or the batch
	// files themselves (only cifar10 reads it). Empty means: $EOS_DATA, then
	// ./data, then ~/data, each tried with and without the
	// cifar-10-batches-bin subdirectory.
	DataDir string
	// Normalize selects the preprocessing of X. The zero value is
	// PerFeature.
	Normalize Normalization
	// Test selects the test split (for the synthetic sets: a fresh sample
	// from the same distribution). False means the training split.
	Test bool
	// Seed seeds the synthetic generators; the image sets ignore it.
	// Zero is a valid seed.
	Seed uint64
	// InputDim is the input dimension of the synthetic sets. Zero means 5.
	InputDim int
	// TeacherWidth is the number of hidden neurons of the teacher network of
	// the "teacher" set. Zero means 3.
	TeacherWidth int
}

const (
	defaultN            = 500
	defaultInputDim     = 5
	defaultTeacherWidth = 3
	// maxElements bounds N×InputDim and TeacherWidth×InputDim for the
	// generated sets (1 GiB of float64), so that absurd options give an error
	// instead of an allocation failure.
	maxElements = 1 << 27
)

// config is Options with the defaults filled in and the values checked.
type config struct {
	n        int
	dataDir  string
	norm     Normalization
	test     bool
	seed     uint64
	inputDim int
	width    int
}

// resolve fills in the defaults of opt and checks the values that every set
// shares. classes is the number of classes of the set (0 for regression),
// which N must divide.
func resolve(opt *Options, classes int) (config, error) {
	var o Options
	if opt != nil {
		o = *opt
	}
	cfg := config{
		n:        o.N,
		dataDir:  o.DataDir,
		norm:     o.Normalize,
		test:     o.Test,
		seed:     o.Seed,
		inputDim: o.InputDim,
		width:    o.TeacherWidth,
	}
	switch {
	case cfg.n < 0:
		return cfg, fmt.Errorf("data: N = %d, want N ≥ 0 (0 means %d)", cfg.n, defaultN)
	case cfg.inputDim < 0:
		return cfg, fmt.Errorf("data: InputDim = %d, want InputDim ≥ 0 (0 means %d)", cfg.inputDim, defaultInputDim)
	case cfg.width < 0:
		return cfg, fmt.Errorf("data: TeacherWidth = %d, want TeacherWidth ≥ 0 (0 means %d)", cfg.width, defaultTeacherWidth)
	case cfg.norm < PerFeature || cfg.norm > None:
		return cfg, fmt.Errorf("data: Normalize = %v, want PerFeature, PerChannel or None", cfg.norm)
	}
	if cfg.n == 0 {
		cfg.n = defaultN
	}
	if cfg.inputDim == 0 {
		cfg.inputDim = defaultInputDim
	}
	if cfg.width == 0 {
		cfg.width = defaultTeacherWidth
	}
	if classes > 0 && cfg.n%classes != 0 {
		return cfg, fmt.Errorf("data: N = %d is not a multiple of the %d classes (N/%d examples are taken from each class)", cfg.n, classes, classes)
	}
	return cfg, nil
}

// Names returns the names Load accepts.
func Names() []string {
	return []string{"mnist", "cifar10", "synthetic", "teacher"}
}

// Load loads the named data set: "mnist" (LoadMNIST), "cifar10"
// (LoadCIFAR10), "synthetic" (Synthetic) or "teacher" (Teacher). A nil opt
// means the defaults of Options.
func Load(name string, opt *Options) (*Set, error) {
	switch name {
	case "mnist":
		return LoadMNIST(opt)
	case "cifar10":
		return LoadCIFAR10(opt)
	case "synthetic":
		return Synthetic(opt)
	case "teacher":
		return Teacher(opt)
	}
	return nil, fmt.Errorf("data: unknown data set %q, want one of %s", name, strings.Join(Names(), ", "))
}

// NotFoundError reports a data set that is not where it was looked for. It
// matches fs.ErrNotExist under errors.Is, so callers can skip or fall back
// without parsing the message.
type NotFoundError struct {
	// What names the missing data, e.g. "CIFAR-10 train split".
	What string
	// Tried lists every path that was looked at, in order.
	Tried []string
	// Hint says how to obtain the data.
	Hint string
}

func (e *NotFoundError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "data: %s not found; tried:", e.What)
	for _, p := range e.Tried {
		b.WriteString("\n\t")
		b.WriteString(p)
	}
	b.WriteString("\n")
	b.WriteString(e.Hint)
	return b.String()
}

// Unwrap returns fs.ErrNotExist.
func (e *NotFoundError) Unwrap() error { return fs.ErrNotExist }
