package eos

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/lapack"
	"gonum.org/v1/gonum/lapack/lapack64"
	"gonum.org/v1/gonum/mat"
)

// ErrNotConverged is wrapped by the error Lanczos.Top returns when MaxIter
// HVPs did not bring every wanted Ritz pair to the tolerance. The values and
// vectors returned with it are the best available estimates.
var ErrNotConverged = errors.New("eos: Lanczos did not converge")

// LanczosSettings configures NewLanczos.
type LanczosSettings struct {
	// K is the number of top (largest algebraic) eigenpairs wanted, and the
	// block size. Zero means 1. It must not exceed the problem dimension.
	K int
	// MaxIter bounds the number of HVPs per call, which is the dimension of
	// the Krylov space searched; the memory held is MaxIter+K vectors of
	// length P. Zero means min(P, 100); values above P are reduced to P,
	// where the search is exact. It must be at least K.
	MaxIter int
	// Tol is the relative residual ‖Hv − λv‖/|λ| each wanted Ritz pair must
	// reach. Zero means 1e-10. Residuals at the rounding level,
	// 100·ε·max|λ|, also count as converged so that eigenvalues near zero
	// do not prevent convergence.
	Tol float64
}

// warmNoise is the weight of the random part added to each warm-start
// vector. It keeps every eigendirection present in the Krylov space, so a new
// top eigenvector orthogonal to the old ones is still found, while the start
// stays close to the old ones.
const warmNoise = 1e-3

// lanczosRound is the rounding level, relative to the size of the projected
// matrix, below which a residual or a new direction is treated as zero.
const lanczosRound = 100 * 0x1p-52

// Lanczos computes top eigenpairs of the Hessian of a Problem through
// Hessian-vector products: block Lanczos with block size K and full
// reorthogonalisation.
//
// From an orthonormal start block of K vectors it builds an orthonormal basis
// v_0, v_1, … of the block Krylov space span{V_0, HV_0, H²V_0, …}: each new
// vector is H v_j orthogonalised, twice, against every vector so far. After p
// HVPs, with V_p = [v_0 … v_{p−1}] and T_p = V_pᵀ H V_p (banded, half-width
// K), each eigenpair (θ, z) of T_p gives a Ritz pair (θ, V_p z) whose residual
//
//	‖H V_p z − θ V_p z‖ = ‖R_p z‖,   R_p = [v_p …]ᵀ H V_p,
//
// is known without another HVP. Full reorthogonalisation keeps the basis
// orthonormal to rounding, so no spurious copies of converged eigenvalues
// appear. The block, rather than a single vector, lets it resolve top
// eigenvalues of multiplicity up to K, which a single Krylov sequence cannot
// (it sees one direction per eigenspace).
//
// A Lanczos keeps the eigenvectors of its last call and starts the next one
// from them: along a GD run the Hessian changes little per step, so the warm
// start needs fewer HVPs than a random one. It is not safe for concurrent use.
type Lanczos struct {
	p       Problem
	k       int
	maxIter int
	tol     float64
	src     *rand.PCG  // source of rng, kept to marshal its state
	rng     *rand.Rand // used when Top is given a nil rng

	basis [][]float64 // grown on demand up to min(P, maxIter+k)
	w     []float64   // HVP output

	// coef[i*ld+l] = v_iᵀ H v_l for the processed columns l; ld = MaxIter.
	coef []float64
	ld   int

	t, vals, work []float64 // Syev on T_p
	resid         []float64 // residual per wanted pair

	prev     [][]float64 // Ritz vectors of the last call, for the warm start
	havePrev bool
}

// NewLanczos returns a Lanczos for the Hessian of p. A nil s means default
// settings. It returns an error naming the offending field when a setting is
// out of range.
func NewLanczos(p Problem, s *LanczosSettings) (*Lanczos, error) {
	var set LanczosSettings
	if s != nil {
		set = *s
	}
	n := p.Dim()
	switch {
	case set.K < 0 || set.K > n:
		return nil, fmt.Errorf("eos: LanczosSettings.K = %d out of range [0, %d]", set.K, n)
	case set.MaxIter < 0:
		return nil, fmt.Errorf("eos: LanczosSettings.MaxIter = %d is negative", set.MaxIter)
	case !(set.Tol >= 0 && set.Tol < 1):
		return nil, fmt.Errorf("eos: LanczosSettings.Tol = %g out of range [0, 1)", set.Tol)
	}
	if set.K == 0 {
		set.K = 1
	}
	if set.MaxIter == 0 {
		set.MaxIter = min(n, 100)
	}
	set.MaxIter = min(set.MaxIter, n)
	if set.MaxIter < set.K {
		return nil, fmt.Errorf("eos: LanczosSettings.MaxIter = %d below K = %d", set.MaxIter, set.K)
	}
	if set.Tol == 0 {
		set.Tol = 1e-10
	}
	m := set.MaxIter
	var q [1]float64
	lapack64.Syev(lapack.EVCompute, blas64.Symmetric{N: m, Stride: m, Uplo: blas.Upper}, nil, q[:], -1)
	src := rand.NewPCG(1, 2)
	l := &Lanczos{
		p:       p,
		k:       set.K,
		maxIter: m,
		tol:     set.Tol,
		src:     src,
		rng:     rand.New(src),
		w:       make([]float64, n),
		coef:    make([]float64, min(n, m+set.K)*m),
		ld:      m,
		t:       make([]float64, m*m),
		vals:    make([]float64, m),
		work:    make([]float64, int(q[0])),
		resid:   make([]float64, set.K),
		prev:    make([][]float64, set.K),
	}
	for i := range l.prev {
		l.prev[i] = make([]float64, n)
	}
	return l, nil
}

// K returns the number of eigenpairs Top computes.
func (l *Lanczos) K() int { return l.k }

// Reset forgets the warm start: the next Top starts from random vectors.
func (l *Lanczos) Reset() { l.havePrev = false }

// lanczosStateVersion is the version of the encoding of MarshalBinary.
const lanczosStateVersion = 1

// MarshalBinary encodes the state that carries over from one Top call to
// the next: the warm-start eigenvectors and the state of the generator used
// when Top is given a nil rng. With it, a run can be checkpointed and
// resumed (UnmarshalBinary) with the same measurements, to the last bit, as
// if it had not stopped. The settings are recorded too, so that the state is
// not restored into a differently configured Lanczos.
func (l *Lanczos) MarshalBinary() ([]byte, error) {
	src, err := l.src.MarshalBinary()
	if err != nil {
		return nil, err
	}
	var e encoder
	e.str("Lanczos")
	e.u32(lanczosStateVersion)
	e.int(l.k)
	e.int(l.p.Dim())
	e.int(l.maxIter)
	e.f64(l.tol)
	e.bytes(src)
	e.boolean(l.havePrev)
	if l.havePrev {
		for _, v := range l.prev {
			e.floats(v)
		}
	}
	return e.b, nil
}

// UnmarshalBinary restores the state encoded by MarshalBinary. l must have
// been made by NewLanczos for a problem of the same dimension with the same
// settings; otherwise, or when b is not such a state, it returns an error
// and leaves l unchanged.
func (l *Lanczos) UnmarshalBinary(b []byte) error {
	if l.p == nil {
		panic("eos: UnmarshalBinary on a Lanczos not made by NewLanczos")
	}
	d := decoder{b: b}
	if tag, v := d.str(), d.u32(); d.err == nil && (tag != "Lanczos" || v != lanczosStateVersion) {
		return fmt.Errorf("eos: not a Lanczos state of version %d (%q version %d)", lanczosStateVersion, tag, v)
	}
	k, n, maxIter, tol := d.int(), d.int(), d.int(), d.f64()
	src := d.bytes()
	havePrev := d.boolean()
	var prev [][]float64
	if havePrev {
		prev = make([][]float64, 0, min(k, l.k))
		for range min(k, l.k) {
			prev = append(prev, d.floats())
		}
	}
	if err := d.finish("Lanczos state"); err != nil {
		return err
	}
	if k != l.k || n != l.p.Dim() || maxIter != l.maxIter || tol != l.tol {
		return fmt.Errorf("eos: Lanczos state is for K = %d, dimension %d, MaxIter %d, Tol %g; this Lanczos has K = %d, dimension %d, MaxIter %d, Tol %g",
			k, n, maxIter, tol, l.k, l.p.Dim(), l.maxIter, l.tol)
	}
	for _, v := range prev {
		if len(v) != n {
			return fmt.Errorf("eos: Lanczos state has a warm-start vector of length %d, want %d", len(v), n)
		}
	}
	var pcg rand.PCG
	if err := pcg.UnmarshalBinary(src); err != nil {
		return fmt.Errorf("eos: Lanczos state: generator: %w", err)
	}
	*l.src = pcg
	l.havePrev = havePrev
	for i, v := range prev {
		copy(l.prev[i], v)
	}
	return nil
}

// Top stores the K largest eigenvalues of H(x), in descending order, in vals
// and, if vecs is not nil, the corresponding unit eigenvectors in the columns
// of vecs (P×K). It returns the number of HVPs used. The random parts of the
// start block are drawn from rng; a nil rng uses a generator owned by l and
// seeded at construction, so runs are reproducible.
//
// The error is nil, wraps ErrNotConverged (vals and vecs then hold the best
// estimates after MaxIter HVPs), or reports a failed eigensolve when HVPs are
// not finite. Top panics if vals, vecs or x has the wrong size.
func (l *Lanczos) Top(vals []float64, vecs *mat.Dense, x []float64, rng *rand.Rand) (hvps int, err error) {
	n := l.p.Dim()
	checkLen("vals", len(vals), l.k)
	checkLen("x", len(x), n)
	if vecs != nil {
		r, c := vecs.Dims()
		if r != n || c != l.k {
			panic("eos: vecs has wrong shape")
		}
	}
	if rng == nil {
		rng = l.rng
	}

	m := l.start(rng) // basis vectors so far
	var (
		p   int     // processed columns = HVPs
		res float64 // largest relative residual among wanted pairs
	)
	for p < l.maxIter {
		j := p
		l.p.HessVec(l.w, x, l.basis[j])
		p++
		// Project H v_j on the basis twice; the summed coefficients are
		// column j of V_mᵀ H V_m, the remainder is the next direction.
		for i := range m {
			l.coef[i*l.ld+j] = 0
		}
		for range 2 {
			for i, v := range l.basis[:m] {
				c := floats.Dot(v, l.w)
				floats.AddScaled(l.w, -c, v)
				l.coef[i*l.ld+j] += c
			}
		}
		if m < n {
			next := l.vector(m)
			b := floats.Norm(l.w, 2)
			if b > lanczosRound*l.scale(j, m) {
				floats.ScaleTo(next, 1/b, l.w)
			} else {
				// H v_j lies in the span: the Krylov space is
				// invariant, so continue with a fresh direction.
				b = 0
				l.randomOrthogonal(next, m, rng)
			}
			// v_m is orthogonal to H v_q for q < j, which lie in the
			// span of earlier vectors.
			for q := range j {
				l.coef[m*l.ld+q] = 0
			}
			l.coef[m*l.ld+j] = b
			m++
		}
		if p < l.k {
			continue
		}
		var conv bool
		conv, res, err = l.ritz(p, m)
		if err != nil {
			return p, err
		}
		if conv {
			break
		}
	}

	l.ritzVectors(p)
	for i := range l.k {
		vals[i] = l.vals[p-1-i]
		if vecs != nil {
			vecs.SetCol(i, l.prev[i])
		}
	}
	l.havePrev = true
	if !(res <= l.tol) {
		return p, fmt.Errorf("%w: relative residual %.3g > %.3g after %d HVPs", ErrNotConverged, res, l.tol, p)
	}
	return p, nil
}

// vector returns basis vector j, allocating it on first use only.
func (l *Lanczos) vector(j int) []float64 {
	for len(l.basis) <= j {
		l.basis = append(l.basis, make([]float64, l.p.Dim()))
	}
	return l.basis[j]
}

// start fills the first K basis vectors with an orthonormal start block and
// returns K: the previous eigenvectors plus a small random part when a warm
// start is available, Gaussian vectors otherwise.
func (l *Lanczos) start(rng *rand.Rand) int {
	for i := range l.k {
		v := l.vector(i)
		for r := range v {
			v[r] = rng.NormFloat64()
		}
		if l.havePrev {
			// A Gaussian vector has norm about √P; scale it to warmNoise
			// relative to the unit previous eigenvector.
			floats.Scale(warmNoise/floats.Norm(v, 2), v)
			floats.Add(v, l.prev[i])
		}
		l.reorthogonalise(v, i)
		nv := floats.Norm(v, 2)
		if !(nv > lanczosRound) {
			l.randomOrthogonal(v, i, rng)
			continue
		}
		floats.Scale(1/nv, v)
	}
	return l.k
}

// reorthogonalise removes from w its components along basis[:m], twice
// (classical Gram–Schmidt applied twice is orthogonal to rounding).
func (l *Lanczos) reorthogonalise(w []float64, m int) {
	for range 2 {
		for _, v := range l.basis[:m] {
			floats.AddScaled(w, -floats.Dot(v, w), v)
		}
	}
}

// randomOrthogonal stores in v a random unit vector orthogonal to basis[:m].
func (l *Lanczos) randomOrthogonal(v []float64, m int, rng *rand.Rand) {
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	l.reorthogonalise(v, m)
	floats.Scale(1/floats.Norm(v, 2), v)
}

// scale returns the largest coefficient magnitude in column j, an estimate of
// ‖H‖ for the breakdown test.
func (l *Lanczos) scale(j, m int) float64 {
	var s float64
	for i := range m {
		s = math.Max(s, math.Abs(l.coef[i*l.ld+j]))
	}
	return s
}

// ritz diagonalises T_p, the symmetrised leading p×p block of the
// coefficients, and reports whether the top K Ritz pairs have converged, with
// the largest relative residual among them. On return vals holds the Ritz
// values in ascending order and t the eigenvectors of T_p in its columns.
func (l *Lanczos) ritz(p, m int) (converged bool, res float64, err error) {
	t := l.t[:p*p]
	for i := range p {
		for c := i; c < p; c++ {
			t[i*p+c] = (l.coef[i*l.ld+c] + l.coef[c*l.ld+i]) / 2
		}
	}
	ok := lapack64.Syev(lapack.EVCompute, blas64.Symmetric{N: p, Stride: p, Data: t, Uplo: blas.Upper}, l.vals[:p], l.work, len(l.work))
	if !ok {
		return false, math.NaN(), fmt.Errorf("eos: eigensolve of the projected Hessian failed at Krylov dimension %d (non-finite HVP?)", p)
	}
	floor := lanczosRound * math.Max(math.Abs(l.vals[0]), math.Abs(l.vals[p-1]))
	converged = true
	for c := p - l.k; c < p; c++ {
		// ‖R_p z‖ with R_p the coefficients of the processed columns on
		// the unprocessed basis vectors.
		var r2 float64
		for i := p; i < m; i++ {
			var s float64
			for q := range p {
				s += l.coef[i*l.ld+q] * t[q*p+c]
			}
			r2 += s * s
		}
		r := math.Sqrt(r2)
		rel := r / math.Abs(l.vals[c])
		if r <= floor {
			rel = 0
		}
		if !(rel <= l.tol) {
			converged = false
		}
		res = math.Max(res, rel) // NaN propagates
	}
	return converged, res, nil
}

// ritzVectors stores the top K Ritz vectors V_p z of the last ritz(p, ·)
// call in prev, largest first.
func (l *Lanczos) ritzVectors(p int) {
	for i, y := range l.prev {
		c := p - 1 - i
		for r := range y {
			y[r] = 0
		}
		for q := range p {
			floats.AddScaled(y, l.t[q*p+c], l.basis[q])
		}
		// Renormalise: V_p z is a unit vector only up to the orthogonality
		// of V_p.
		floats.Scale(1/floats.Norm(y, 2), y)
	}
}

// Sharpness returns λ_max(H(x)) computed by a Lanczos with default settings.
func Sharpness(p Problem, x []float64) (float64, error) {
	l, err := NewLanczos(p, nil)
	if err != nil {
		return math.NaN(), err
	}
	var s [1]float64
	_, err = l.Top(s[:], nil, x, nil)
	return s[0], err
}
