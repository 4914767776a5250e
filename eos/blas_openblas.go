//go:build openblas

package eos

// #cgo LDFLAGS: -lopenblas
// int openblas_get_num_threads(void);
import "C"

import (
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/netlib/blas/netlib"
)

// With the openblas build tag (set by the Makefile when libopenblas is
// installed) every matrix product in this module goes through OpenBLAS via
// gonum's cgo binding instead of gonum's pure-Go BLAS.
func init() { blas64.Use(netlib.Implementation{}) }

// BLASBackend names the BLAS implementation in use.
const BLASBackend = "openblas"

// BLASThreads returns the number of threads the BLAS spreads a large matrix
// product over: OpenBLAS's own thread count, set by OPENBLAS_NUM_THREADS
// (by default the number of cores).
func BLASThreads() int { return int(C.openblas_get_num_threads()) }
