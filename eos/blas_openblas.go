//go:build openblas

package eos

// #cgo LDFLAGS: -lopenblas
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
