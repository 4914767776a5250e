package eos

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"unsafe"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// MLPConfig holds the architecture of an MLP. A nil *MLPConfig means all
// defaults.
type MLPConfig struct {
	// Width is the number of hidden units h. Zero means 256.
	Width int
	// Act is the hidden activation. The zero value is Tanh.
	Act Activation
	// Bias adds biases to both layers. False (the zero value) means no
	// biases, as in the paper's networks.
	Bias bool
	// Loss is the loss. The zero value is MSE.
	Loss LossKind
}

// MLP is the full-batch risk of a two-layer perceptron on fixed data,
//
//	f(x) = W_2 σ(W_1 x + b_1) + b_2,   E = (1/n) Σ_i ℓ(f(x_i), y_i),
//
// with inputs x ∈ R^D, h hidden units and k outputs; ℓ is set by LossKind.
//
// The parameter vector is, in this order, W_1 (h×D row-major), b_1 (h),
// W_2 (k×h row-major), b_2 (k), the biases present only when
// MLPConfig.Bias is set.
//
// The gradient is computed by backpropagation and the Hessian-vector product
// by Pearlmutter's R-operator (a forward and a backward pass carrying the
// tangent), which costs one and a half gradients, and one gradient when
// HessVec is called again at bitwise the same x, as Lanczos does: the
// forward pass at x is kept from the previous call. Both run on batched
// matrix products through blas64.Gemm, so installing a faster BLAS with
// blas64.Use (the openblas build tag does) speeds them up, and the
// elementwise passes run on GOMAXPROCS goroutines. Neither allocates, except
// inside the BLAS: gonum's own Gemm spreads a product whose output spans
// four or more 64×64 blocks over goroutines, and allocates for them;
// OpenBLAS does not allocate in Go.
type MLP struct {
	net twoLayer
}

// NewMLP returns the risk of a two-layer perceptron on the examples in the
// rows of x (n×D) with targets in the rows of targets (n×k): one-hot rows
// for classification with MSE (any real targets are accepted), probability
// vectors for CrossEntropy. The data are copied. It
// returns an error if the data are empty, the row counts differ, or cfg
// holds a value out of range.
func NewMLP(x, targets *mat.Dense, cfg *MLPConfig) (*MLP, error) {
	var c MLPConfig
	if cfg != nil {
		c = *cfg
	}
	if c.Width < 0 {
		return nil, fmt.Errorf("eos: MLP width %d out of range (want ≥ 1, or 0 for 256)", c.Width)
	}
	if c.Width == 0 {
		c.Width = 256
	}
	if x == nil || x.IsEmpty() {
		return nil, fmt.Errorf("eos: MLP inputs are empty")
	}
	n, dIn := x.Dims()
	y, k, err := copyTargets(targets, n, c.Loss)
	if err != nil {
		return nil, err
	}
	if err := checkNetConfig(c.Act, c.Loss); err != nil {
		return nil, err
	}
	col := make([]float64, n*dIn)
	for i := 0; i < n; i++ {
		mat.Row(col[i*dIn:(i+1)*dIn], i, x)
	}
	m := &MLP{}
	m.net.setup(col, y, n, 1, dIn, c.Width, []int{0}, 1, k, c.Act, c.Loss, c.Bias)
	return m, nil
}

// Dim returns the number of parameters.
func (m *MLP) Dim() int { return m.net.dim }

// Init stores PyTorch's default initialisation in dst: each weight and bias
// of a layer independently uniform on [−1/√fan_in, 1/√fan_in], with fan_in
// = D for the first layer and h for the second.
func (m *MLP) Init(dst []float64, rng *rand.Rand) { m.net.init(dst, rng) }

// Outputs stores the n×k network outputs f(x_i) at parameters x in the rows
// of dst. If dst is empty it is resized to n×k; otherwise it must be n×k.
func (m *MLP) Outputs(dst *mat.Dense, x []float64) { m.net.outputs(dst, x) }

// Loss returns E(x).
func (m *MLP) Loss(x []float64) float64 { return m.net.loss(x) }

// Grad stores ∇E(x) in dst and returns E(x).
func (m *MLP) Grad(dst, x []float64) float64 { return m.net.grad(dst, x) }

// HessVec stores ∇²E(x) v in dst.
func (m *MLP) HessVec(dst, x, v []float64) { m.net.hessVec(dst, x, v) }

// copyTargets validates targets against n examples and the loss and returns
// them as a row-major slice with the number of outputs k.
func copyTargets(targets *mat.Dense, n int, loss LossKind) ([]float64, int, error) {
	if targets == nil || targets.IsEmpty() {
		return nil, 0, fmt.Errorf("eos: targets are empty")
	}
	r, k := targets.Dims()
	if r != n {
		return nil, 0, fmt.Errorf("eos: targets have %d rows, inputs %d (want equal)", r, n)
	}
	y := make([]float64, n*k)
	for i := 0; i < n; i++ {
		row := mat.Row(y[i*k:(i+1)*k], i, targets)
		if loss != CrossEntropy {
			continue
		}
		var s float64
		for c, v := range row {
			if !(v >= 0) {
				return nil, 0, fmt.Errorf("eos: cross-entropy target (%d, %d) = %v out of range (want ≥ 0)", i, c, v)
			}
			s += v
		}
		if math.Abs(s-1) > 1e-6 {
			return nil, 0, fmt.Errorf("eos: cross-entropy target row %d sums to %v (want 1)", i, s)
		}
	}
	return y, k, nil
}

func checkNetConfig(act Activation, loss LossKind) error {
	if !act.valid() {
		return fmt.Errorf("eos: activation %d out of range (want Tanh, ReLU or GELU)", int(act))
	}
	if !loss.valid() {
		return fmt.Errorf("eos: loss %d out of range (want MSE or CrossEntropy)", int(loss))
	}
	return nil
}

// twoLayer is the risk of the network shared by MLP and CNN: a linear map
// applied at each of m positions of every example, an activation, average
// pooling of the positions into cells, and a linear head,
//
//	Z = C W_1ᵀ + b_1,   A = σ(Z),   Q = pool(A),   F = Q W_2ᵀ + b_2,
//
// where C is the (n·m)×in matrix of inputs (the examples for the MLP, with
// m = 1; the im2col patches for the CNN), Z and A are (n·m)×ch, Q is n×nf
// with nf = ch·cells features per example ordered channel-major, and F is
// n×k.
//
// With Δ = ∂E/∂F, backpropagation gives
//
//	∂E/∂W_2 = Δᵀ Q,   ∂E/∂W_1 = Gᵀ C,   G = unpool(Δ W_2) ⊙ σ'(Z),
//
// and the R-operator along (V_1, c_1, V_2, c_2), with dots for directional
// derivatives,
//
//	Ż = C V_1ᵀ + c_1,   Q̇ = pool(σ'(Z) ⊙ Ż),   Ḟ = Q̇ W_2ᵀ + Q V_2ᵀ + c_2,
//	HV|_{W_2} = Δ̇ᵀ Q + Δᵀ Q̇,
//	Ġ = unpool(Δ̇ W_2 + Δ V_2) ⊙ σ'(Z) + unpool(Δ W_2) ⊙ σ''(Z) ⊙ Ż,
//	HV|_{W_1} = Ġᵀ C,
//
// the bias components being the column sums of Δ̇ and Ġ.
//
// The cost is in the products with C, each 2·(n·m)·in·ch flops: two per
// gradient (Z and Gᵀ C) and three per Hessian-vector product (Z, Ż and
// Ġᵀ C). Everything else is smaller by a factor of about in/k or is
// elementwise. The forward state at x (σ'(Z), σ″(Z), Q, F, Δ) does not
// depend on v, so HessVec keeps it, with a copy of x, and a following
// HessVec at bitwise the same x skips the product C W_1ᵀ: in a Lanczos run
// every HVP after the first costs two products, as much as a gradient.
// Checking x costs one comparison of P numbers at memory speed, and a
// comparison with a changed x, as along GD, stops at the first difference.
// Grad and Loss reuse the kept state too but do not keep theirs, so GD
// steps pay no copy.
//
// The elementwise passes over Z are split by examples over GOMAXPROCS
// goroutines of a pool shared by all networks (see parallelExamples); the
// products run in the BLAS, which has its own threads with OpenBLAS.
type twoLayer struct {
	n, m, in, ch, cells, k int
	act                    Activation
	lossKind               LossKind
	bias                   bool

	col   []float64 // (n·m)×in inputs or patches
	y     []float64 // n×k targets
	cell  []int     // pooling cell of each of the m positions
	scale float64   // 1/(positions per cell)

	// Offsets of W_1, b_1, W_2, b_2 in the parameter vector (the biases
	// have zero length without Bias) and its length.
	ob1, ow2, ob2, dim int

	// Forward state at the parameters of the last forward pass: σ'(Z)
	// and σ″(Z), (n·m)×ch; Q, n×nf; F and Δ, n×k; the risk E. xc holds
	// those parameters when kept is set (allocated by the first HessVec).
	ds, dds []float64
	q, f, d []float64
	risk    float64
	xc      []float64
	kept    bool

	// Workspaces: rz ((n·m)×ch) holds Ż, then G or Ġ; rq, g, rg are
	// n×nf; rf, rd are n×k.
	rz        []float64
	rq, g, rg []float64
	rf, rd    []float64

	// The elementwise passes as method values, bound once in setup so
	// that handing them to the pool does not allocate.
	fwdPass, gradPass, rfwdPass, rbackPass func(lo, hi int)
	wg                                     sync.WaitGroup
}

func (t *twoLayer) setup(col, y []float64, n, m, in, ch int, cell []int, cells, k int, act Activation, loss LossKind, bias bool) {
	nf := ch * cells
	*t = twoLayer{
		n: n, m: m, in: in, ch: ch, cells: cells, k: k,
		act: act, lossKind: loss, bias: bias,
		col: col, y: y, cell: cell, scale: float64(cells) / float64(m),
	}
	nb1, nb2 := 0, 0
	if bias {
		nb1, nb2 = ch, k
	}
	t.ob1 = ch * in
	t.ow2 = t.ob1 + nb1
	t.ob2 = t.ow2 + k*nf
	t.dim = t.ob2 + nb2
	t.ds = make([]float64, n*m*ch)
	t.dds = make([]float64, n*m*ch)
	t.rz = make([]float64, n*m*ch)
	t.q = make([]float64, n*nf)
	t.rq = make([]float64, n*nf)
	t.g = make([]float64, n*nf)
	t.rg = make([]float64, n*nf)
	t.f = make([]float64, n*k)
	t.rf = make([]float64, n*k)
	t.d = make([]float64, n*k)
	t.rd = make([]float64, n*k)
	t.fwdPass = t.forwardExamples
	t.gradPass = t.gradExamples
	t.rfwdPass = t.rForwardExamples
	t.rbackPass = t.rBackExamples
}

// Parameter blocks of a parameter (or tangent) vector p.
func (t *twoLayer) w1(p []float64) blas64.General { return blasView(t.ch, t.in, p[:t.ob1]) }
func (t *twoLayer) b1(p []float64) []float64      { return p[t.ob1:t.ow2] }
func (t *twoLayer) w2(p []float64) blas64.General {
	return blasView(t.k, t.ch*t.cells, p[t.ow2:t.ob2])
}
func (t *twoLayer) b2(p []float64) []float64 { return p[t.ob2:] }

func (t *twoLayer) init(dst []float64, rng *rand.Rand) {
	checkLen("dst", len(dst), t.dim)
	b := 1 / math.Sqrt(float64(t.in))
	for i := range dst[:t.ow2] {
		dst[i] = b * (2*rng.Float64() - 1)
	}
	b = 1 / math.Sqrt(float64(t.ch*t.cells))
	for i := t.ow2; i < t.dim; i++ {
		dst[i] = b * (2*rng.Float64() - 1)
	}
}

// affineRows stores a·Bᵀ + bias (bias broadcast over rows, absent if empty) in
// the row-major c.
func affineRows(c []float64, a, b blas64.General, bias []float64) {
	beta := 0.0
	if len(bias) > 0 {
		for i := 0; i < a.Rows; i++ {
			copy(c[i*b.Rows:(i+1)*b.Rows], bias)
		}
		beta = 1
	}
	blas64.Gemm(blas.NoTrans, blas.Trans, 1, a, b, beta, blasView(a.Rows, b.Rows, c))
}

// columnSums stores the column sums of the r×len(dst) row-major a in dst.
func columnSums(dst, a []float64) {
	c := len(dst)
	if c == 0 {
		return
	}
	clear(dst)
	for i := 0; i < len(a); i += c {
		for j, v := range a[i : i+c] {
			dst[j] += v
		}
	}
}

// sameBits reports whether a and b hold bitwise the same numbers. It
// compares bytes, which runs at memory speed, several times faster than a
// loop over float64s (which would also equate −0 with 0 and tell a NaN from
// itself).
func sameBits(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	if len(a) == 0 {
		return true
	}
	return bytes.Equal(
		unsafe.Slice((*byte)(unsafe.Pointer(&a[0])), 8*len(a)),
		unsafe.Slice((*byte)(unsafe.Pointer(&b[0])), 8*len(b)))
}

// forward brings the forward state to x: Z = C W_1ᵀ + b_1, σ'(Z) and σ″(Z)
// in t.ds and t.dds, Q, F, Δ and the loss. It does nothing if the kept state
// is at x. With keep set it keeps the new state for later calls.
func (t *twoLayer) forward(x []float64, keep bool) {
	if t.kept && sameBits(x, t.xc) {
		return
	}
	nm, nf := t.n*t.m, t.ch*t.cells
	affineRows(t.ds, blasView(nm, t.in, t.col), t.w1(x), t.b1(x))
	t.parallelExamples(t.fwdPass)
	affineRows(t.f, blasView(t.n, nf, t.q), t.w2(x), t.b2(x))
	t.risk = t.lossKind.head(t.d, nil, t.f, nil, t.y, t.k)
	t.kept = keep
	if keep {
		if t.xc == nil {
			t.xc = make([]float64, t.dim)
		}
		copy(t.xc, x)
	}
}

// forwardExamples pools σ(Z) into Q for examples [lo, hi) and replaces Z by
// σ'(Z) in t.ds, storing σ″(Z) in t.dds.
func (t *twoLayer) forwardExamples(lo, hi int) {
	nf := t.ch * t.cells
	clear(t.q[lo*nf : hi*nf])
	for r := lo * t.m; r < hi*t.m; r++ {
		q := t.q[(r/t.m)*nf+t.cell[r%t.m]:]
		z := t.ds[r*t.ch : (r+1)*t.ch]
		dds := t.dds[r*t.ch : (r+1)*t.ch]
		for c, zc := range z {
			s, ds, dd := t.act.eval(zc)
			q[c*t.cells] += t.scale * s
			z[c] = ds
			dds[c] = dd
		}
	}
}

// gradExamples stores G = unpool(Δ W_2) ⊙ σ'(Z) in t.rz for examples
// [lo, hi), with Δ W_2 in t.g.
func (t *twoLayer) gradExamples(lo, hi int) {
	nf := t.ch * t.cells
	for r := lo * t.m; r < hi*t.m; r++ {
		g := t.g[(r/t.m)*nf+t.cell[r%t.m]:]
		ds := t.ds[r*t.ch : (r+1)*t.ch]
		rz := t.rz[r*t.ch : (r+1)*t.ch]
		for c, d := range ds {
			rz[c] = t.scale * g[c*t.cells] * d
		}
	}
}

// rForwardExamples pools σ'(Z) ⊙ Ż into Q̇ for examples [lo, hi) and
// replaces Ż by σ″(Z) ⊙ Ż in t.rz.
func (t *twoLayer) rForwardExamples(lo, hi int) {
	nf := t.ch * t.cells
	clear(t.rq[lo*nf : hi*nf])
	for r := lo * t.m; r < hi*t.m; r++ {
		rq := t.rq[(r/t.m)*nf+t.cell[r%t.m]:]
		ds := t.ds[r*t.ch : (r+1)*t.ch]
		dds := t.dds[r*t.ch : (r+1)*t.ch]
		rz := t.rz[r*t.ch : (r+1)*t.ch]
		for c, d := range ds {
			rq[c*t.cells] += t.scale * d * rz[c]
			rz[c] *= dds[c]
		}
	}
}

// rBackExamples replaces σ″(Z) ⊙ Ż in t.rz by Ġ for examples [lo, hi),
// with Δ W_2 in t.g and Δ̇ W_2 + Δ V_2 in t.rg.
func (t *twoLayer) rBackExamples(lo, hi int) {
	nf := t.ch * t.cells
	for r := lo * t.m; r < hi*t.m; r++ {
		off := (r/t.m)*nf + t.cell[r%t.m]
		g, rg := t.g[off:], t.rg[off:]
		ds := t.ds[r*t.ch : (r+1)*t.ch]
		rz := t.rz[r*t.ch : (r+1)*t.ch]
		for c, d := range ds {
			rz[c] = t.scale * (rg[c*t.cells]*d + g[c*t.cells]*rz[c])
		}
	}
}

func (t *twoLayer) loss(x []float64) float64 {
	checkLen("x", len(x), t.dim)
	t.forward(x, false)
	return t.risk
}

func (t *twoLayer) outputs(dst *mat.Dense, x []float64) {
	checkLen("x", len(x), t.dim)
	if dst.IsEmpty() {
		dst.ReuseAs(t.n, t.k)
	}
	if r, c := dst.Dims(); r != t.n || c != t.k {
		panic("eos: dst has wrong shape")
	}
	t.forward(x, false)
	raw := dst.RawMatrix()
	for i := 0; i < t.n; i++ {
		copy(raw.Data[i*raw.Stride:i*raw.Stride+t.k], t.f[i*t.k:(i+1)*t.k])
	}
}

func (t *twoLayer) grad(dst, x []float64) float64 {
	checkLen("x", len(x), t.dim)
	checkLen("dst", len(dst), t.dim)
	t.forward(x, false)
	nm, nf := t.n*t.m, t.ch*t.cells
	d, q := blasView(t.n, t.k, t.d), blasView(t.n, nf, t.q)
	blas64.Gemm(blas.Trans, blas.NoTrans, 1, d, q, 0, t.w2(dst))
	columnSums(t.b2(dst), t.d)
	blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, d, t.w2(x), 0, blasView(t.n, nf, t.g))
	t.parallelExamples(t.gradPass)
	blas64.Gemm(blas.Trans, blas.NoTrans, 1, blasView(nm, t.ch, t.rz), blasView(nm, t.in, t.col), 0, t.w1(dst))
	columnSums(t.b1(dst), t.rz)
	return t.risk
}

func (t *twoLayer) hessVec(dst, x, v []float64) {
	checkLen("x", len(x), t.dim)
	checkLen("v", len(v), t.dim)
	checkLen("dst", len(dst), t.dim)
	t.forward(x, true)
	nm, nf := t.n*t.m, t.ch*t.cells
	col := blasView(nm, t.in, t.col)
	affineRows(t.rz, col, t.w1(v), t.b1(v))
	t.parallelExamples(t.rfwdPass)
	qv, rqv := blasView(t.n, nf, t.q), blasView(t.n, nf, t.rq)
	affineRows(t.rf, rqv, t.w2(x), t.b2(v))
	blas64.Gemm(blas.NoTrans, blas.Trans, 1, qv, t.w2(v), 1, blasView(t.n, t.k, t.rf))
	// head rewrites Δ with the values it already holds.
	t.lossKind.head(t.d, t.rd, t.f, t.rf, t.y, t.k)

	d, rd := blasView(t.n, t.k, t.d), blasView(t.n, t.k, t.rd)
	out := t.w2(dst)
	blas64.Gemm(blas.Trans, blas.NoTrans, 1, rd, qv, 0, out)
	blas64.Gemm(blas.Trans, blas.NoTrans, 1, d, rqv, 1, out)
	columnSums(t.b2(dst), t.rd)
	g, rg := blasView(t.n, nf, t.g), blasView(t.n, nf, t.rg)
	blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, d, t.w2(x), 0, g)
	blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, rd, t.w2(x), 0, rg)
	blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, d, t.w2(v), 1, rg)
	t.parallelExamples(t.rbackPass)
	blas64.Gemm(blas.Trans, blas.NoTrans, 1, blasView(nm, t.ch, t.rz), col, 0, t.w1(dst))
	columnSums(t.b1(dst), t.rz)
}

// minParallel is the number of elements of Z below which an elementwise
// pass runs on the calling goroutine alone: about 0.1 ms of tanh
// evaluations, well above the few microseconds that handing a range to a
// worker costs.
const minParallel = 1 << 14

// parallelExamples runs pass over all examples, split into up to GOMAXPROCS
// contiguous ranges. The calling goroutine runs the first range and hands
// the others to idle pool workers, running any range that finds no idle
// worker itself, so a busy pool slows the pass but never blocks it. The
// ranges split examples, not rows of Z, because the positions of one example
// pool into the same row of Q.
func (t *twoLayer) parallelExamples(pass func(lo, hi int)) {
	parts := min(runtime.GOMAXPROCS(0), t.n, t.n*t.m*t.ch/minParallel)
	if parts <= 1 {
		pass(0, t.n)
		return
	}
	poolOnce.Do(startPool)
	for i := 1; i < parts; i++ {
		lo, hi := i*t.n/parts, (i+1)*t.n/parts
		t.wg.Add(1)
		select {
		case poolTasks <- poolTask{pass: pass, lo: lo, hi: hi, wg: &t.wg}:
		default:
			t.wg.Done()
			pass(lo, hi)
		}
	}
	pass(0, t.n/parts)
	t.wg.Wait()
}

// poolTask is a range of examples for a pool worker, which calls wg.Done
// when it has run pass on it.
type poolTask struct {
	pass   func(lo, hi int)
	lo, hi int
	wg     *sync.WaitGroup
}

// The pool: GOMAXPROCS(0)−1 workers at first use, parked on poolTasks
// between passes, for the life of the process. Keeping them, instead of
// starting goroutines per pass, is what lets Grad and HessVec run without
// allocating.
var (
	poolOnce  sync.Once
	poolTasks chan poolTask
)

func startPool() {
	poolTasks = make(chan poolTask)
	for range runtime.GOMAXPROCS(0) - 1 {
		go func() {
			for task := range poolTasks {
				task.pass(task.lo, task.hi)
				task.wg.Done()
			}
		}()
	}
}
