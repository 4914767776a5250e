package data

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
)

const (
	syntheticClasses = 10
	// clusterSpread is the standard deviation of the cluster centres of
	// Synthetic, in units of the within-cluster standard deviation.
	clusterSpread = 3

	// PCG streams of the generators: the distribution's parameters come from
	// one stream, each split's inputs from its own, so that N and Test never
	// change the distribution and the training inputs for N are a prefix of
	// those for any larger N.
	paramStream = 0
	trainStream = 1
	testStream  = 2
)

// Teacher returns a teacher–student regression set: Gaussian inputs labelled
// by a random two-layer tanh network, the setting of mean-field experiments.
// With D = InputDim, m = TeacherWidth and n = N,
//
//	w_j ~ N(0, I_D),  a_j ~ N(0, 1),  j = 1..m   (the teacher)
//	x_i ~ N(0, I_D),                  i = 1..n   (the inputs)
//	y_i = (1/m) Σ_j a_j tanh(w_j·x_i).
//
// The teacher is drawn with NormFloat64 from rand.New(rand.NewPCG(Seed, 0)):
// w_1, …, w_m component by component, then a_1, …, a_m. The inputs are drawn
// row by row from rand.NewPCG(Seed, 1), or rand.NewPCG(Seed, 2) for the test
// split, which shares the teacher. Normalization is applied to the inputs
// before the teacher sees them, so y_i = f(x_i) holds exactly for the rows
// of X as returned; PerChannel is an error.
//
// X is n×D, Y is n×1, Labels is nil and Classes is 0.
func Teacher(opt *Options) (*Set, error) {
	cfg, err := resolveGenerated(opt, 0, "teacher")
	if err != nil {
		return nil, err
	}
	n, d, m := cfg.n, cfg.inputDim, cfg.width
	params := rand.New(rand.NewPCG(cfg.seed, paramStream))
	w := normals(params, m*d, 1)
	a := normals(params, m, 1)
	x := generatedInputs(cfg)
	if cfg.norm == PerFeature {
		standardize(x, n, d, 1)
	}
	y := make([]float64, n)
	for i := range y {
		xi := x[i*d : (i+1)*d]
		var f float64
		for j := range m {
			var z float64
			for k, wk := range w[j*d : (j+1)*d] {
				z += wk * xi[k]
			}
			f += a[j] * math.Tanh(z)
		}
		y[i] = f / float64(m)
	}
	return &Set{
		Name:   "teacher",
		X:      mat.NewDense(n, d, x),
		Y:      mat.NewDense(n, 1, y),
		Source: fmt.Sprintf("teacher %s: seed %d, x ~ N(0, I_%d), y = (1/%d) Σ_j a_j tanh(w_j·x), w_j ~ N(0, I_%d), a_j ~ N(0, 1), normalize %v", splitName(cfg.test), cfg.seed, d, m, d, cfg.norm),
	}, nil
}

// Synthetic returns a classification set of 10 Gaussian clusters in
// R^InputDim, for quick tests. With D = InputDim and n = N,
//
//	μ_c = 3 z_c,  z_c ~ N(0, I_D),  c = 0..9   (the centres)
//	label_i = i mod 10,  x_i = μ_{label_i} + ε_i,  ε_i ~ N(0, I_D).
//
// The centres are drawn with NormFloat64 from rand.New(rand.NewPCG(Seed, 0)),
// centre by centre; the noise ε_i row by row from rand.NewPCG(Seed, 1), or
// rand.NewPCG(Seed, 2) for the test split, which shares the centres. N must
// be a multiple of 10; the labels cycle through the classes, so every prefix
// of 10k rows is balanced. PerChannel is an error.
//
// X is n×D, Y is n×10 one-hot.
func Synthetic(opt *Options) (*Set, error) {
	cfg, err := resolveGenerated(opt, syntheticClasses, "synthetic")
	if err != nil {
		return nil, err
	}
	n, d := cfg.n, cfg.inputDim
	centres := normals(rand.New(rand.NewPCG(cfg.seed, paramStream)), syntheticClasses*d, clusterSpread)
	x := generatedInputs(cfg)
	labels := make([]int, n)
	for i := range labels {
		labels[i] = i % syntheticClasses
		mu := centres[labels[i]*d : (labels[i]+1)*d]
		for k := range mu {
			x[i*d+k] += mu[k]
		}
	}
	if cfg.norm == PerFeature {
		standardize(x, n, d, 1)
	}
	return &Set{
		Name:    "synthetic",
		X:       mat.NewDense(n, d, x),
		Y:       oneHot(labels, syntheticClasses),
		Labels:  labels,
		Classes: syntheticClasses,
		Source: fmt.Sprintf("synthetic %s: seed %d, %d Gaussian clusters in R^%d, centres ~ N(0, %d² I), unit noise, normalize %v",
			splitName(cfg.test), cfg.seed, syntheticClasses, d, clusterSpread, cfg.norm),
	}, nil
}

// resolveGenerated resolves opt for a generated set and checks what only
// generated sets need: no channels to normalise, and sizes that fit memory.
func resolveGenerated(opt *Options, classes int, name string) (config, error) {
	cfg, err := resolve(opt, classes)
	if err != nil {
		return cfg, err
	}
	switch {
	case cfg.norm == PerChannel:
		return cfg, fmt.Errorf("data: Normalize = PerChannel needs an image set, and %s is not one; want PerFeature or None", name)
	case cfg.n > maxElements/cfg.inputDim:
		return cfg, fmt.Errorf("data: N×InputDim = %d×%d is more than the %d values a generated set may hold", cfg.n, cfg.inputDim, maxElements)
	case name == "teacher" && cfg.width > maxElements/cfg.inputDim:
		return cfg, fmt.Errorf("data: TeacherWidth×InputDim = %d×%d is more than the %d teacher weights allowed", cfg.width, cfg.inputDim, maxElements)
	}
	return cfg, nil
}

// generatedInputs returns the n×D standard normal inputs of cfg's split.
func generatedInputs(cfg config) []float64 {
	stream := uint64(trainStream)
	if cfg.test {
		stream = testStream
	}
	return normals(rand.New(rand.NewPCG(cfg.seed, stream)), cfg.n*cfg.inputDim, 1)
}

// normals returns n draws of N(0, scale²).
func normals(rng *rand.Rand, n int, scale float64) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = scale * rng.NormFloat64()
	}
	return v
}

func splitName(test bool) string {
	if test {
		return "test"
	}
	return "train"
}
