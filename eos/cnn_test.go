package eos

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// cnnShape is a small image size and architecture for the tests.
type cnnShape struct {
	c, h, w int // image channels and size
	cfg     CNNConfig
	ho, hp  int // convolution and pooled output side (square images), by hand
}

var cnnShapes = []cnnShape{
	// 6 + 2·1 − 3 + 1 = 6, pooled by 2 to 3.
	{c: 2, h: 6, w: 6, cfg: CNNConfig{Channels: 3, Kernel: 3, Pool: 2}, ho: 6, hp: 3},
	// No padding: 6 − 3 + 1 = 4, pooled by 2 to 2.
	{c: 1, h: 6, w: 6, cfg: CNNConfig{Channels: 2, Kernel: 3, Pad: -1, Pool: 2}, ho: 4, hp: 2},
	// 5 + 2·1 − 2 + 1 = 6, even kernel with explicit padding, pooled by 3 to 2.
	{c: 2, h: 5, w: 5, cfg: CNNConfig{Channels: 2, Kernel: 2, Pad: 1, Pool: 3}, ho: 6, hp: 2},
	// Defaults except channels: 5×5 kernel, padding 2, pooling 4 on 8×8.
	{c: 1, h: 8, w: 8, cfg: CNNConfig{Channels: 2}, ho: 8, hp: 2},
	// No pooling.
	{c: 1, h: 4, w: 4, cfg: CNNConfig{Channels: 2, Kernel: 3, Pool: 1}, ho: 4, hp: 4},
}

// naiveCNN computes the outputs of the network by direct convolution over
// each image, following the documented layout: kernel (Ch×C×K×K), [conv
// bias], W2 (k × Ch·Hp·Wp, channel-major features), [b2].
func naiveCNN(s cnnShape, ch, kk, pad, pool int, act Activation, bias bool, xs *mat.Dense, k int, p []float64) *mat.Dense {
	n, _ := xs.Dims()
	ker := p[:ch*s.c*kk*kk]
	rest := p[len(ker):]
	cb := make([]float64, ch)
	if bias {
		cb, rest = rest[:ch], rest[ch:]
	}
	nf := ch * s.hp * s.hp
	w2 := rest[:k*nf]
	b2 := make([]float64, k)
	if bias {
		b2 = rest[k*nf:]
	}
	out := mat.NewDense(n, k, nil)
	for i := 0; i < n; i++ {
		pix := func(ci, u, w int) float64 {
			if u < 0 || u >= s.h || w < 0 || w >= s.w {
				return 0
			}
			return xs.At(i, (ci*s.h+u)*s.w+w)
		}
		feat := make([]float64, nf)
		for o := 0; o < ch; o++ {
			for r := 0; r < s.ho; r++ {
				for q := 0; q < s.ho; q++ {
					z := cb[o]
					for ci := 0; ci < s.c; ci++ {
						for a := 0; a < kk; a++ {
							for b := 0; b < kk; b++ {
								z += ker[((o*s.c+ci)*kk+a)*kk+b] * pix(ci, r+a-pad, q+b-pad)
							}
						}
					}
					feat[(o*s.hp+r/pool)*s.hp+q/pool] += naiveAct(act, z) / float64(pool*pool)
				}
			}
		}
		for c := 0; c < k; c++ {
			v := b2[c]
			for j, f := range feat {
				v += w2[c*nf+j] * f
			}
			out.Set(i, c, v)
		}
	}
	return out
}

func TestCNNDerivatives(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	// Two images keep every product under the four 64×64 output blocks at
	// which gonum's Gemm goes parallel and allocates, so that checkNet's
	// allocation check sees only this package's code.
	const n, k = 2, 3
	for si, s := range cnnShapes {
		for _, v := range netVariants() {
			if si > 0 && (v.loss != MSE || v.bias) {
				// Every variant on the first shape, the activations on
				// the others.
				continue
			}
			t.Run(fmt.Sprintf("shape%d,%v,%v,bias=%v", si, v.act, v.loss, v.bias), func(t *testing.T) {
				x, y := netData(rng, n, s.c*s.h*s.w, k, v.loss)
				cfg := s.cfg
				cfg.Act, cfg.Loss, cfg.Bias = v.act, v.loss, v.bias
				c, err := NewCNN(x, s.c, s.h, s.w, y, &cfg)
				if err != nil {
					t.Fatal(err)
				}
				checkNet(t, c, &c.net, v.act, rng)
			})
		}
	}
}

// TestCNNOutputs compares Outputs and Loss with a direct convolution.
func TestCNNOutputs(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n, k = 3, 4
	for si, s := range cnnShapes {
		for _, v := range netVariants() {
			x, y := netData(rng, n, s.c*s.h*s.w, k, v.loss)
			cfg := s.cfg
			cfg.Act, cfg.Loss, cfg.Bias = v.act, v.loss, v.bias
			c, err := NewCNN(x, s.c, s.h, s.w, y, &cfg)
			if err != nil {
				t.Fatal(err)
			}
			p := make([]float64, c.Dim())
			c.Init(p, rng)
			kk, pool, pad := 5, 4, -1
			if cfg.Kernel != 0 {
				kk = cfg.Kernel
			}
			if cfg.Pool != 0 {
				pool = cfg.Pool
			}
			switch cfg.Pad {
			case 0:
				pad = kk / 2
			case -1:
				pad = 0
			default:
				pad = cfg.Pad
			}
			want := naiveCNN(s, cfg.Channels, kk, pad, pool, v.act, v.bias, x, k, p)
			var got mat.Dense
			c.Outputs(&got, p)
			if !mat.EqualApprox(&got, want, 1e-13) {
				t.Errorf("shape %d %v,%v,bias=%v: Outputs\n%v\nwant\n%v", si, v.act, v.loss, v.bias, mat.Formatted(&got), mat.Formatted(want))
			}
			if l, wl := c.Loss(p), naiveLoss(v.loss, want, y); math.Abs(l-wl) > 1e-13*wl {
				t.Errorf("shape %d %v,%v,bias=%v: Loss = %v, want %v", si, v.act, v.loss, v.bias, l, wl)
			}
		}
	}
}

func TestCNNErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	x, y := netData(rng, 3, 2*6*6, 2, MSE)
	_, y2 := netData(rng, 2, 2, 2, MSE)
	for _, tc := range []struct {
		name    string
		c, h, w int
		y       *mat.Dense
		cfg     *CNNConfig
		want    string
	}{
		{"size mismatch", 2, 6, 5, y, &CNNConfig{Pool: 1}, "72 columns (want channels·height·width = 60)"},
		{"zero height", 2, 0, 6, y, nil, "height 0"},
		{"pool does not divide", 2, 6, 6, y, &CNNConfig{Pool: 4}, "pool 4 does not divide the 6×6"},
		{"negative pool", 2, 6, 6, y, &CNNConfig{Pool: -2}, "pool -2"},
		{"negative channels", 2, 6, 6, y, &CNNConfig{Channels: -1}, "channels -1"},
		{"padding", 2, 6, 6, y, &CNNConfig{Pad: -2}, "padding -2"},
		{"padding too large", 2, 6, 6, y, &CNNConfig{Kernel: 3, Pad: 3}, "padding 3"},
		{"kernel too large", 2, 6, 6, y, &CNNConfig{Kernel: 9, Pad: -1, Pool: 1}, "kernel 9"},
		{"row mismatch", 2, 6, 6, y2, &CNNConfig{Pool: 2}, "2 rows, inputs 3"},
		{"activation", 2, 6, 6, y, &CNNConfig{Pool: 2, Act: Activation(-1)}, "activation -1"},
	} {
		_, err := NewCNN(x, tc.c, tc.h, tc.w, tc.y, tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error = %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

// benchmarkCNN times a small CNN whose convolution output (2880×8) spans
// enough 64×64 blocks for gonum's Gemm to go parallel: the allocations it
// reports are that Gemm's goroutines, not this package's.
func benchmarkCNN(b *testing.B, hessVec bool) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n, c, side, k = 20, 1, 12, 10
	x, y := netData(rng, n, c*side*side, k, MSE)
	cnn, err := NewCNN(x, c, side, side, y, &CNNConfig{Channels: 8})
	if err != nil {
		b.Fatal(err)
	}
	p, v, dst := make([]float64, cnn.Dim()), make([]float64, cnn.Dim()), make([]float64, cnn.Dim())
	cnn.Init(p, rng)
	cnn.Init(v, rng)
	b.ReportAllocs()
	for b.Loop() {
		if hessVec {
			cnn.HessVec(dst, p, v)
		} else {
			cnn.Grad(dst, p)
		}
	}
}

func BenchmarkCNNGrad(b *testing.B)    { benchmarkCNN(b, false) }
func BenchmarkCNNHessVec(b *testing.B) { benchmarkCNN(b, true) }
