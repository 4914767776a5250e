//go:build !openblas

package eos

import "runtime"

// BLASBackend names the BLAS implementation in use: gonum's pure-Go BLAS
// unless the module is built with the openblas tag.
const BLASBackend = "gonum"

// BLASThreads returns the number of threads the BLAS spreads a large matrix
// product over: GOMAXPROCS for gonum's BLAS, which starts goroutines per
// product.
func BLASThreads() int { return runtime.GOMAXPROCS(0) }
