// Package data loads the data sets of the toolkit's experiments and applies
// the preprocessing of the edge-of-stability literature.
//
// Every loader returns a *Set whose X holds one example per row in float64,
// with images stored channel-major (pixel (c, i, j) in column
// c·H·W + i·W + j), and whose Y holds the targets: one-hot rows for
// classification, to be fitted with the loss ½‖f(x) − y‖², or real values
// for regression. A classification set of n examples is the first n/classes
// examples of each class in file order, rows kept in file order, so a run is
// reproducible from its Options alone. X is then centred and scaled by the
// subset's own statistics, per feature (Options.Normalize = PerFeature, for
// MLPs) or per channel (PerChannel, for CNNs); a feature constant over the
// subset is only centred.
//
// MNIST is always available: its files ship in the module cache copy of a
// dependency. CIFAR-10 is read from the official binary distribution,
// located through Options.DataDir or $EOS_DATA at call time. The synthetic
// sets (Gaussian clusters, and a teacher–student regression for mean-field
// experiments) are generated from a seed, with each draw documented.
//
// Bad files and bad options give errors naming the file or value and what
// was expected; no loader panics on them or returns partial data, and the
// readers allocate by the bytes they actually read, not by what a header
// claims.
package data
