//go:build !openblas

package eos

// BLASBackend names the BLAS implementation in use: gonum's pure-Go BLAS
// unless the module is built with the openblas tag.
const BLASBackend = "gonum"
