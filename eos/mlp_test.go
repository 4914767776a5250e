package eos

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// netVariant is one activation × loss × bias combination.
type netVariant struct {
	act  Activation
	loss LossKind
	bias bool
}

// netVariants lists every activation × loss × bias combination.
func netVariants() []netVariant {
	var vs []netVariant
	for _, act := range []Activation{Tanh, ReLU, GELU} {
		for _, loss := range []LossKind{MSE, CrossEntropy} {
			for _, bias := range []bool{false, true} {
				vs = append(vs, netVariant{act, loss, bias})
			}
		}
	}
	return vs
}

// netData returns n random examples of dimension dIn with k-dimensional
// targets: one-hot rows for MSE, random probability vectors for
// cross-entropy.
func netData(rng *rand.Rand, n, dIn, k int, loss LossKind) (x, y *mat.Dense) {
	x = mat.NewDense(n, dIn, nil)
	y = mat.NewDense(n, k, nil)
	for i := 0; i < n; i++ {
		for j := 0; j < dIn; j++ {
			x.Set(i, j, rng.NormFloat64())
		}
		if loss == MSE {
			y.Set(i, rng.IntN(k), 1)
			continue
		}
		var s float64
		for c := 0; c < k; c++ {
			v := rng.Float64()
			y.Set(i, c, v)
			s += v
		}
		for c := 0; c < k; c++ {
			y.Set(i, c, y.At(i, c)/s)
		}
	}
	return x, y
}

// naiveAct is σ written independently of Activation.eval.
func naiveAct(a Activation, z float64) float64 {
	switch a {
	case Tanh:
		return math.Tanh(z)
	case ReLU:
		return math.Max(z, 0)
	case GELU:
		return 0.5 * z * (1 + math.Erf(z/math.Sqrt2))
	}
	panic("bad activation")
}

// naiveLoss is the mean loss of outputs f against targets y, from the
// definitions (log-sum-exp without shifting, fine for small outputs).
func naiveLoss(kind LossKind, f, y *mat.Dense) float64 {
	n, k := f.Dims()
	var sum float64
	for i := 0; i < n; i++ {
		var z float64
		for c := 0; c < k; c++ {
			z += math.Exp(f.At(i, c))
		}
		for c := 0; c < k; c++ {
			r := f.At(i, c) - y.At(i, c)
			if kind == MSE {
				sum += 0.5 * r * r
			} else {
				sum -= y.At(i, c) * math.Log(math.Exp(f.At(i, c))/z)
			}
		}
	}
	return sum / float64(n)
}

// kinkClearance returns the smallest |z| over the hidden preactivations of
// net at x, and the most any preactivation moves under the perturbations of
// measureDerivs: a step fdStep along one coordinate or along a unit vector,
// which moves z = ⟨w, c⟩ + b by at most fdStep·√(‖c‖² + 1) (Cauchy–Schwarz).
// Central differences are valid for ReLU when the first exceeds the second,
// since then no perturbation crosses the kink.
func kinkClearance(net *twoLayer, x []float64) (minAbs, maxMove float64) {
	nm := net.n * net.m
	z := make([]float64, nm*net.ch)
	affineRows(z, blasView(nm, net.in, net.col), net.w1(x), net.b1(x))
	minAbs = math.Inf(1)
	for _, v := range z {
		minAbs = math.Min(minAbs, math.Abs(v))
	}
	for r := 0; r < nm; r++ {
		row := net.col[r*net.in : (r+1)*net.in]
		maxMove = math.Max(maxMove, fdStep*math.Sqrt(floats.Dot(row, row)+1))
	}
	return minAbs, maxMove
}

// checkNet runs the derivative and allocation checks on a network at its
// initialisation, first making sure that a ReLU network's finite differences
// do not cross the kink (with the fixed seeds this either always holds or
// always fails).
func checkNet(t *testing.T, p Problem, net *twoLayer, act Activation, rng *rand.Rand) {
	t.Helper()
	x := make([]float64, p.Dim())
	net.init(x, rng)
	if act == ReLU {
		if m, move := kinkClearance(net, x); m <= move {
			t.Fatalf("a preactivation is %.2g from the ReLU kink, finite differences move it by up to %.2g", m, move)
		}
	}
	checkDerivs(t, p, x, rng)
	checkNoAllocs(t, p, x)
}

func TestMLPDerivatives(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n, dIn, width, k = 7, 5, 6, 3
	for _, v := range netVariants() {
		t.Run(fmt.Sprintf("%v,%v,bias=%v", v.act, v.loss, v.bias), func(t *testing.T) {
			x, y := netData(rng, n, dIn, k, v.loss)
			m, err := NewMLP(x, y, &MLPConfig{Width: width, Act: v.act, Bias: v.bias, Loss: v.loss})
			if err != nil {
				t.Fatal(err)
			}
			if want := width*dIn + width*k + map[bool]int{false: 0, true: width + k}[v.bias]; m.Dim() != want {
				t.Fatalf("Dim = %d, want %d", m.Dim(), want)
			}
			checkNet(t, m, &m.net, v.act, rng)
		})
	}
}

// TestMLPOutputs compares Outputs and Loss with a per-example loop over the
// documented parameter layout.
func TestMLPOutputs(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n, dIn, h, k = 6, 4, 5, 3
	for _, v := range netVariants() {
		xs, ys := netData(rng, n, dIn, k, v.loss)
		m, err := NewMLP(xs, ys, &MLPConfig{Width: h, Act: v.act, Bias: v.bias, Loss: v.loss})
		if err != nil {
			t.Fatal(err)
		}
		p := make([]float64, m.Dim())
		m.Init(p, rng)
		// Layout: W1 (h×D), [b1 (h)], W2 (k×h), [b2 (k)].
		w1 := p[:h*dIn]
		rest := p[h*dIn:]
		b1 := make([]float64, h)
		if v.bias {
			b1, rest = rest[:h], rest[h:]
		}
		w2 := rest[:k*h]
		b2 := make([]float64, k)
		if v.bias {
			b2 = rest[k*h:]
		}
		want := mat.NewDense(n, k, nil)
		for i := 0; i < n; i++ {
			hid := make([]float64, h)
			for j := range hid {
				z := b1[j]
				for d := 0; d < dIn; d++ {
					z += w1[j*dIn+d] * xs.At(i, d)
				}
				hid[j] = naiveAct(v.act, z)
			}
			for c := 0; c < k; c++ {
				o := b2[c]
				for j, a := range hid {
					o += w2[c*h+j] * a
				}
				want.Set(i, c, o)
			}
		}
		var got mat.Dense
		m.Outputs(&got, p)
		if !mat.EqualApprox(&got, want, 1e-13) {
			t.Errorf("%v,%v,bias=%v: Outputs\n%v\nwant\n%v", v.act, v.loss, v.bias, mat.Formatted(&got), mat.Formatted(want))
		}
		if l, wl := m.Loss(p), naiveLoss(v.loss, want, ys); math.Abs(l-wl) > 1e-13*wl {
			t.Errorf("%v,%v,bias=%v: Loss = %v, want %v", v.act, v.loss, v.bias, l, wl)
		}
	}
}

// TestMLPInit checks the PyTorch default bounds ±1/√fan_in of each block
// and that the draws fill them (the extreme draws of 1000 uniforms lie
// within 1 % of the bounds with overwhelming probability).
func TestMLPInit(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n, dIn, h, k = 3, 40, 25, 2
	x, y := netData(rng, n, dIn, k, MSE)
	m, err := NewMLP(x, y, &MLPConfig{Width: h, Bias: true})
	if err != nil {
		t.Fatal(err)
	}
	p := make([]float64, m.Dim())
	m.Init(p, rng)
	for _, blk := range []struct {
		name   string
		vals   []float64
		fanIn  int
		filled bool
	}{
		{"W1", p[:h*dIn], dIn, true},
		{"b1", p[h*dIn : h*dIn+h], dIn, false},
		{"W2", p[h*dIn+h : h*dIn+h+k*h], h, false},
		{"b2", p[h*dIn+h+k*h:], h, false},
	} {
		bound := 1 / math.Sqrt(float64(blk.fanIn))
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, v := range blk.vals {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
		if lo < -bound || hi > bound {
			t.Errorf("%s: draws in [%v, %v], want within ±%v", blk.name, lo, hi, bound)
		}
		if blk.filled && (lo > -0.99*bound || hi < 0.99*bound) {
			t.Errorf("%s: draws in [%v, %v] do not fill ±%v", blk.name, lo, hi, bound)
		}
	}
}

func TestMLPErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	x, y := netData(rng, 5, 3, 2, MSE)
	_, y4 := netData(rng, 4, 3, 2, MSE)
	negCE := mat.NewDense(5, 2, []float64{1.5, -0.5, 1, 0, 1, 0, 1, 0, 1, 0})
	halfCE := mat.NewDense(5, 2, []float64{1, 0, 1, 0, 0.25, 0.25, 1, 0, 1, 0})
	for _, tc := range []struct {
		name string
		x, y *mat.Dense
		cfg  *MLPConfig
		want string
	}{
		{"negative width", x, y, &MLPConfig{Width: -3}, "width -3"},
		{"nil inputs", nil, y, nil, "inputs are empty"},
		{"empty targets", x, &mat.Dense{}, nil, "targets are empty"},
		{"row mismatch", x, y4, nil, "4 rows, inputs 5"},
		{"activation", x, y, &MLPConfig{Act: Activation(7)}, "activation 7"},
		{"loss", x, y, &MLPConfig{Loss: LossKind(5)}, "loss 5"},
		{"negative probability", x, negCE, &MLPConfig{Loss: CrossEntropy}, "-0.5"},
		{"row sum", x, halfCE, &MLPConfig{Loss: CrossEntropy}, "row 2 sums to 0.5"},
	} {
		_, err := NewMLP(tc.x, tc.y, tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error = %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

func TestParseActivationLoss(t *testing.T) {
	for _, a := range []Activation{Tanh, ReLU, GELU} {
		if got, err := ParseActivation(strings.ToUpper(a.String())); err != nil || got != a {
			t.Errorf("ParseActivation(%q) = %v, %v", strings.ToUpper(a.String()), got, err)
		}
	}
	for _, l := range []LossKind{MSE, CrossEntropy} {
		if got, err := ParseLoss(l.String()); err != nil || got != l {
			t.Errorf("ParseLoss(%q) = %v, %v", l.String(), got, err)
		}
	}
	if _, err := ParseActivation("sigmoid"); err == nil || !strings.Contains(err.Error(), `"sigmoid"`) {
		t.Errorf("ParseActivation(sigmoid) error = %v", err)
	}
	if _, err := ParseLoss("hinge"); err == nil || !strings.Contains(err.Error(), `"hinge"`) {
		t.Errorf("ParseLoss(hinge) error = %v", err)
	}
}

func benchmarkMLP(b *testing.B, hessVec bool) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n, dIn, h, k = 100, 64, 32, 10
	x, y := netData(rng, n, dIn, k, MSE)
	m, err := NewMLP(x, y, &MLPConfig{Width: h})
	if err != nil {
		b.Fatal(err)
	}
	p, v, dst := make([]float64, m.Dim()), make([]float64, m.Dim()), make([]float64, m.Dim())
	m.Init(p, rng)
	m.Init(v, rng)
	b.ReportAllocs()
	for b.Loop() {
		if hessVec {
			m.HessVec(dst, p, v)
		} else {
			m.Grad(dst, p)
		}
	}
}

func BenchmarkMLPGrad(b *testing.B)    { benchmarkMLP(b, false) }
func BenchmarkMLPHessVec(b *testing.B) { benchmarkMLP(b, true) }
