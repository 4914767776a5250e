package eos

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// MeanFieldConfig holds the architecture and the initial law of a MeanField.
// A nil *MeanFieldConfig means all defaults.
type MeanFieldConfig struct {
	// Width is the number of neurons N (the number of particles M when the
	// network carries a kinetic simulation). Zero means 256.
	Width int
	// Act is the activation σ. The zero value is Tanh.
	Act Activation
	// Bias gives every neuron a bias b_j. False (the zero value) means none,
	// as in the teacher of data.Teacher.
	Bias bool
	// WeightStd is the standard deviation of the input weights w_j and the
	// biases b_j under the initial law. Zero means 1, the N(0, 1) weights of
	// the teacher–student experiments; inputs of high dimension D want
	// about 1/√D so that the preactivations stay of order one.
	WeightStd float64
	// OutputStd is the standard deviation of the output weights a_j under
	// the initial law. Zero means 1.
	OutputStd float64
}

// MeanField is the full-batch risk of a two-layer network in the mean-field
// parametrisation,
//
//	f(x) = (1/N) Σ_j φ(θ_j; x),   φ(θ; x) = a σ(w·x + b),   θ = (w, b, a),
//	E(θ_1, …, θ_N) = (1/n) Σ_i ½‖f(x_i) − y_i‖²,
//
// with inputs x ∈ R^D, k outputs (a ∈ R^k) and MSE loss summed over outputs.
// The parameter vector is neuron-major: neuron j occupies the block
// [j·p, (j+1)·p) of length p = NeuronDim() holding w_j (D), then b_j (only
// with MeanFieldConfig.Bias), then a_j (k). A block is a particle.
//
// Because of the 1/N, ∂E/∂θ_j = (1/N) ∇ψ(θ_j) with
//
//	ψ(θ) = (1/n) Σ_i (f(x_i) − y_i)·φ(θ; x_i),
//
// so each neuron moves by O(1/N) under GD with step η. The mean-field
// dynamics use the per-neuron step ηN, θ_j ← θ_j − η ∇ψ(θ_j), which is GD on
// E with step ηN: run GD(x, m, η·N, …) or RunMeanFieldGD. Under that step the
// stability threshold of the sharpness S(θ) = λ_max(∇²E) is 2/(ηN): the
// mean-field sharpness N·S(θ), of order one for any N, is the quantity to
// compare with 2/η.
//
// The products with the inputs run on blas64.Gemm; the output side, where k
// is small, runs in loops fused with the activation. Loss, Grad and HessVec
// do not allocate after the first HessVec, except inside the BLAS (see MLP).
//
// The same type serves images: NewMeanField(set.X, set.Y, …) on a
// data.LoadMNIST set gives k = 10 outputs fitted to one-hot rows, and
// MeanFieldConfig.WeightStd about 1/√D keeps the preactivations of order one.
type MeanField struct {
	n, d, k  int // examples, input dimension, outputs
	width, p int // neurons N, parameters per neuron
	bias     bool
	act      Activation
	wStd     float64
	aStd     float64

	x []float64 // n×d inputs, row-major
	y []float64 // n×k targets

	z, s, ds []float64 // n×N preactivations, σ and σ'
	g        []float64 // n×N backpropagated error at the preactivations
	f, r     []float64 // n×k outputs and ∂E/∂f

	// HessVec workspaces, allocated on its first call: σ'', the tangent of
	// the preactivations, and two n×N products.
	dds, rz, t1, t2 []float64
	rf              []float64 // n×k tangent of the outputs
}

// NewMeanField returns the mean-field risk of a two-layer network on the
// examples in the rows of x (n×D) with targets in the rows of targets (n×k),
// for instance a data.Teacher set (k = 1) or one-hot image labels. The data
// are copied. It returns an error if the data are empty, the row counts
// differ, or cfg holds a value out of range.
func NewMeanField(x, targets *mat.Dense, cfg *MeanFieldConfig) (*MeanField, error) {
	var c MeanFieldConfig
	if cfg != nil {
		c = *cfg
	}
	switch {
	case c.Width < 0:
		return nil, fmt.Errorf("eos: MeanField width %d out of range (want ≥ 1, or 0 for 256)", c.Width)
	case !c.Act.valid():
		return nil, fmt.Errorf("eos: MeanField activation %d out of range (want Tanh, ReLU or GELU)", int(c.Act))
	case !(c.WeightStd >= 0) || math.IsInf(c.WeightStd, 1):
		return nil, fmt.Errorf("eos: MeanField WeightStd %g out of range [0, +Inf)", c.WeightStd)
	case !(c.OutputStd >= 0) || math.IsInf(c.OutputStd, 1):
		return nil, fmt.Errorf("eos: MeanField OutputStd %g out of range [0, +Inf)", c.OutputStd)
	case x == nil || x.IsEmpty():
		return nil, fmt.Errorf("eos: MeanField inputs are empty")
	case targets == nil || targets.IsEmpty():
		return nil, fmt.Errorf("eos: MeanField targets are empty")
	}
	if c.Width == 0 {
		c.Width = 256
	}
	if c.WeightStd == 0 {
		c.WeightStd = 1
	}
	if c.OutputStd == 0 {
		c.OutputStd = 1
	}
	n, d := x.Dims()
	r, k := targets.Dims()
	if r != n {
		return nil, fmt.Errorf("eos: MeanField targets have %d rows, inputs %d (want equal)", r, n)
	}
	m := &MeanField{
		n: n, d: d, k: k, width: c.Width, bias: c.Bias, act: c.Act,
		wStd: c.WeightStd, aStd: c.OutputStd,
		x: make([]float64, n*d), y: make([]float64, n*k),
	}
	m.p = d + k
	if c.Bias {
		m.p++
	}
	for i := 0; i < n; i++ {
		mat.Row(m.x[i*d:(i+1)*d], i, x)
		mat.Row(m.y[i*k:(i+1)*k], i, targets)
	}
	nh := n * c.Width
	m.z, m.s, m.ds, m.g = make([]float64, nh), make([]float64, nh), make([]float64, nh), make([]float64, nh)
	m.f, m.r = make([]float64, n*k), make([]float64, n*k)
	return m, nil
}

// Dim returns the number of parameters N·p.
func (m *MeanField) Dim() int { return m.width * m.p }

// Width returns the number of neurons N.
func (m *MeanField) Width() int { return m.width }

// NeuronDim returns the number p of parameters per neuron: D, plus one with
// biases, plus k.
func (m *MeanField) NeuronDim() int { return m.p }

// InputDim returns the input dimension D: the input weights of neuron j are
// the coordinates [0, D) of its block.
func (m *MeanField) InputDim() int { return m.d }

// OutputDim returns the number of outputs k: the output weights of neuron j
// are the coordinates [p−k, p) of its block.
func (m *MeanField) OutputDim() int { return m.k }

// Loss returns E(x).
func (m *MeanField) Loss(x []float64) float64 {
	checkLen("x", len(x), m.Dim())
	return m.forward(x, false)
}

// Grad stores ∇E(x) in dst and returns E(x). The block of neuron j is
// (1/N)∇ψ(θ_j). dst must not alias x.
func (m *MeanField) Grad(dst, x []float64) float64 {
	checkLen("x", len(x), m.Dim())
	checkLen("dst", len(dst), m.Dim())
	loss := m.forward(x, false)
	invN := 1 / float64(m.width)
	p, k := m.p, m.k
	a := x[p-k:]
	for j := 0; j < m.width; j++ {
		clear(dst[j*p+p-k : (j+1)*p])
	}
	// ∂E/∂a_j = (1/N) Σ_i σ(z_ij) r_i and g_ij = ∂E/∂z_ij =
	// (1/N)(r_i·a_j) σ'(z_ij), with r_i = (f(x_i) − y_i)/n; fused loops,
	// since k is small and these products are matrix-vector products.
	for i := 0; i < m.n; i++ {
		ri := m.r[i*k : (i+1)*k]
		si, dsi, gi := m.s[i*m.width:(i+1)*m.width], m.ds[i*m.width:(i+1)*m.width], m.g[i*m.width:(i+1)*m.width]
		for j, sij := range si {
			aj, da := a[j*p:j*p+k], dst[j*p+p-k:(j+1)*p]
			var ra float64
			for c, rc := range ri {
				da[c] += invN * sij * rc
				ra += rc * aj[c]
			}
			gi[j] = invN * ra * dsi[j]
		}
	}
	m.backInput(dst, m.g)
	return loss
}

// HessVec stores ∇²E(x)v in dst, by Pearlmutter's R-operator: with ż, ṡ = σ'ż
// and ḟ the derivatives of the preactivations, activations and outputs along
// v = (ẇ, ḃ, ȧ), and ṙ = ḟ/n,
//
//	ż_ij = ẇ_j·x_i + ḃ_j,   ḟ_i = (1/N) Σ_j (ṡ_ij a_j + s_ij ȧ_j),
//	R{∂E/∂a_j} = (1/N) Σ_i (ṡ_ij r_i + s_ij ṙ_i),
//	R{g_ij}    = (1/N)[(ṙ_i·a_j + r_i·ȧ_j) σ'(z_ij) + (r_i·a_j) σ''(z_ij) ż_ij],
//
// and R{∂E/∂w_j}, R{∂E/∂b_j} follow from R{g} as the gradient does from g.
// dst must not alias x or v.
func (m *MeanField) HessVec(dst, x, v []float64) {
	checkLen("x", len(x), m.Dim())
	checkLen("v", len(v), m.Dim())
	checkLen("dst", len(dst), m.Dim())
	if m.dds == nil {
		nh := m.n * m.width
		m.dds, m.rz, m.t1, m.t2 = make([]float64, nh), make([]float64, nh), make([]float64, nh), make([]float64, nh)
		m.rf = make([]float64, m.n*m.k)
	}
	m.forward(x, true)
	invN := 1 / float64(m.width)
	rz := m.mat(m.rz, m.width)
	m.preact(rz, v)
	// t1 = ṡ = σ' ż.
	for i, d := range m.ds {
		m.t1[i] = d * m.rz[i]
	}
	t1 := m.mat(m.t1, m.width)
	rf := m.mat(m.rf, m.k)
	blas64.Gemm(blas.NoTrans, blas.NoTrans, invN, t1, m.outView(x), 0, rf)
	blas64.Gemm(blas.NoTrans, blas.NoTrans, invN, m.mat(m.s, m.width), m.outView(v), 1, rf)
	for i := range m.rf {
		m.rf[i] /= float64(m.n)
	}
	out := m.outView(dst)
	r := m.mat(m.r, m.k)
	blas64.Gemm(blas.Trans, blas.NoTrans, invN, t1, r, 0, out)
	blas64.Gemm(blas.Trans, blas.NoTrans, invN, m.mat(m.s, m.width), rf, 1, out)
	// t1 = ṙ aᵀ + r ȧᵀ, t2 = r aᵀ; then R{g} into t1.
	blas64.Gemm(blas.NoTrans, blas.Trans, 1, rf, m.outView(x), 0, t1)
	blas64.Gemm(blas.NoTrans, blas.Trans, 1, r, m.outView(v), 1, t1)
	t2 := m.mat(m.t2, m.width)
	blas64.Gemm(blas.NoTrans, blas.Trans, 1, r, m.outView(x), 0, t2)
	for i := range m.t1 {
		m.t1[i] = invN * (m.t1[i]*m.ds[i] + m.t2[i]*m.dds[i]*m.rz[i])
	}
	m.backInput(dst, m.t1)
}

// Init stores a draw of N independent neurons from the initial law in dst,
// as Sample with IID and no antithetic pairs does.
func (m *MeanField) Init(dst []float64, rng *rand.Rand) {
	m.Sample(dst, IID, false, rng)
}

// Sample stores N neurons drawn from the initial law
//
//	w ~ N(0, σ_w² I_D),  b ~ N(0, σ_w²),  a ~ N(0, σ_a² I_k),
//
// (σ_w = WeightStd, σ_a = OutputStd) in dst, by the quadrature q. With
// antithetic set, neurons come in pairs (w, b, a) and (w, b, −a) drawn once,
// so that the initial predictor f_0 is exactly 0, its value in the
// mean-field limit; the full negation (−w, −b, −a) would be useless for an
// odd σ, which maps it onto the same function φ. Sample panics if dst has the
// wrong length, q is unknown, or antithetic is set and N is odd.
func (m *MeanField) Sample(dst []float64, q Quadrature, antithetic bool, rng *rand.Rand) {
	checkLen("dst", len(dst), m.Dim())
	count := m.width
	if antithetic {
		if m.width%2 != 0 {
			panic("eos: antithetic sampling needs an even width")
		}
		count /= 2
	}
	stride := m.p
	if antithetic {
		stride = 2 * m.p
	}
	q.normals(dst, count, m.p, stride, rng)
	for j := 0; j < count; j++ {
		blk := dst[j*stride : j*stride+m.p]
		for c := range blk {
			if c < m.p-m.k {
				blk[c] *= m.wStd
			} else {
				blk[c] *= m.aStd
			}
		}
		if antithetic {
			twin := dst[j*stride+m.p : (j+1)*stride]
			copy(twin, blk)
			for c := m.p - m.k; c < m.p; c++ {
				twin[c] = -twin[c]
			}
		}
	}
}

// forward computes the preactivations, σ and σ' (σ” too when second is
// set), the outputs and r = (f − y)/n, and returns E(x).
func (m *MeanField) forward(x []float64, second bool) float64 {
	m.preact(m.mat(m.z, m.width), x)
	invN := 1 / float64(m.width)
	p, k := m.p, m.k
	a := x[p-k:]
	for i := 0; i < m.n; i++ {
		lo, hi := i*m.width, (i+1)*m.width
		zi, si, dsi := m.z[lo:hi], m.s[lo:hi], m.ds[lo:hi]
		fi := m.f[i*k : (i+1)*k]
		clear(fi)
		for j, z := range zi {
			s, ds, dds := m.eval(z)
			si[j], dsi[j] = s, ds
			if second {
				m.dds[lo+j] = dds
			}
			for c, ac := range a[j*p : j*p+k] {
				fi[c] += s * ac
			}
		}
		for c := range fi {
			fi[c] *= invN
		}
	}
	inv := 1 / float64(m.n)
	var sum float64
	for i, f := range m.f {
		e := f - m.y[i]
		sum += e * e
		m.r[i] = inv * e
	}
	return 0.5 * inv * sum
}

// eval returns σ(z), σ'(z) and σ”(z). Tanh, the activation of the
// kinetic experiments and the bulk of their cost, is evaluated through one
// exponential, tanh z = 1 − 2/(e^{2z} + 1), about three times faster than
// math.Tanh and within 4e-16 of it; e^{2z} overflowing to +Inf or
// underflowing to 0 gives ±1 exactly.
func (m *MeanField) eval(z float64) (s, ds, dds float64) {
	if m.act != Tanh {
		return m.act.eval(z)
	}
	t := 1 - 2/(math.Exp(2*z)+1)
	ds = 1 - t*t
	return t, ds, -2 * t * ds
}

// preact stores the n×N preactivations x_i·w_j + b_j of the parameters (or
// tangent) x in dst.
func (m *MeanField) preact(dst blas64.General, x []float64) {
	w := blas64.General{Rows: m.width, Cols: m.d, Data: x, Stride: m.p}
	blas64.Gemm(blas.NoTrans, blas.Trans, 1, m.mat(m.x, m.d), w, 0, dst)
	if !m.bias {
		return
	}
	for i := 0; i < m.n; i++ {
		row := dst.Data[i*m.width : (i+1)*m.width]
		for j := range row {
			row[j] += x[j*m.p+m.d]
		}
	}
}

// backInput stores the input-weight and bias blocks of dst from the n×N
// error g at the preactivations: ∂/∂w_j = Σ_i g_ij x_i, ∂/∂b_j = Σ_i g_ij.
func (m *MeanField) backInput(dst, g []float64) {
	w := blas64.General{Rows: m.width, Cols: m.d, Data: dst, Stride: m.p}
	blas64.Gemm(blas.Trans, blas.NoTrans, 1, m.mat(g, m.width), m.mat(m.x, m.d), 0, w)
	if !m.bias {
		return
	}
	for j := 0; j < m.width; j++ {
		dst[j*m.p+m.d] = 0
	}
	for i := 0; i < m.n; i++ {
		row := g[i*m.width : (i+1)*m.width]
		for j, v := range row {
			dst[j*m.p+m.d] += v
		}
	}
}

// mat views data as an n×c row-major matrix.
func (m *MeanField) mat(data []float64, c int) blas64.General {
	return blas64.General{Rows: m.n, Cols: c, Data: data, Stride: c}
}

// outView views the output weights a_j of the neuron-major vector x as an
// N×k matrix with stride p.
func (m *MeanField) outView(x []float64) blas64.General {
	return blas64.General{Rows: m.width, Cols: m.k, Data: x[m.p-m.k:], Stride: m.p}
}
