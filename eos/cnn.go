package eos

import (
	"fmt"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
)

// CNNConfig holds the architecture of a CNN. A nil *CNNConfig means all
// defaults, the network of the EoS literature's CIFAR-10 experiments.
type CNNConfig struct {
	// Channels is the number of convolution output channels. Zero means
	// 32.
	Channels int
	// Kernel is the side of the square convolution kernel. Zero means 5.
	Kernel int
	// Pad is the zero padding on each side of the image. Zero means
	// Kernel/2 (the output keeps the input's size for odd kernels); −1
	// means no padding. Otherwise it must lie in [1, Kernel−1].
	Pad int
	// Pool is the side of the non-overlapping average-pooling window; it
	// must divide both sides of the convolution output. Zero means 4; 1
	// means no pooling.
	Pool int
	// Act is the activation after the convolution. The zero value is Tanh.
	Act Activation
	// Bias adds biases to the convolution and the head. False (the zero
	// value) means none.
	Bias bool
	// Loss is the loss. The zero value is MSE.
	Loss LossKind
}

// CNN is the full-batch risk of a two-layer convolutional network on fixed
// images: one convolution (stride 1, zero padding), an activation,
// non-overlapping average pooling, flattening and a linear head,
//
//	f(x) = W_2 flatten(pool(σ(K ⋆ x + b_1))) + b_2,   E = (1/n) Σ_i ℓ(f(x_i), y_i),
//
// where ⋆ is cross-correlation as in PyTorch's Conv2d and ℓ is set by
// LossKind.
//
// The parameter vector is, in this order, the kernel (Channels × C ×
// Kernel × Kernel row-major, PyTorch's weight layout), the convolution bias
// (Channels), W_2 (k × Channels·H_p·W_p row-major, features ordered as
// PyTorch's flatten: channel, then pooled row, then pooled column) and b_2
// (k), the biases present only when CNNConfig.Bias is set.
//
// Since the images are fixed, the constructor unfolds every image's patches
// once (im2col), so that the convolution, its gradient and its R-operator
// are each a single blas64.Gemm. The gradient is computed by
// backpropagation and the Hessian-vector product by Pearlmutter's
// R-operator, which costs less than two gradients. Neither allocates, except
// inside the BLAS (see MLP).
type CNN struct {
	net twoLayer
}

// NewCNN returns the risk of a two-layer CNN on the images in the rows of x,
// each channels×height×width flattened channel-major (PyTorch's layout),
// with targets in the rows of targets (n×k): one-hot rows for
// classification with MSE (any real targets are accepted), probability
// vectors for CrossEntropy. It returns an error if the sizes do
// not match, if the pooling window does not divide the convolution output,
// or if cfg holds a value out of range.
//
// The unfolded patches take n·H_o·W_o·C·Kernel² float64s and the
// workspaces about 2·n·H_o·W_o·Channels more, with H_o×W_o the convolution
// output: about 280 MB for 500 MNIST images with the defaults.
func NewCNN(x *mat.Dense, channels, height, width int, targets *mat.Dense, cfg *CNNConfig) (*CNN, error) {
	var c CNNConfig
	if cfg != nil {
		c = *cfg
	}
	for _, v := range []struct {
		name string
		val  int
	}{{"image channels", channels}, {"image height", height}, {"image width", width}} {
		if v.val < 1 {
			return nil, fmt.Errorf("eos: CNN %s %d out of range (want ≥ 1)", v.name, v.val)
		}
	}
	for _, v := range []struct {
		name string
		val  *int
		def  int
	}{{"channels", &c.Channels, 32}, {"kernel", &c.Kernel, 5}, {"pool", &c.Pool, 4}} {
		if *v.val < 0 {
			return nil, fmt.Errorf("eos: CNN %s %d out of range (want ≥ 1, or 0 for %d)", v.name, *v.val, v.def)
		}
		if *v.val == 0 {
			*v.val = v.def
		}
	}
	switch {
	case c.Pad == 0:
		c.Pad = c.Kernel / 2
	case c.Pad == -1:
		c.Pad = 0
	case c.Pad < -1 || c.Pad >= c.Kernel:
		return nil, fmt.Errorf("eos: CNN padding %d out of range (want −1 for none, 0 for %d, or 1 to %d)", c.Pad, c.Kernel/2, c.Kernel-1)
	}
	if x == nil || x.IsEmpty() {
		return nil, fmt.Errorf("eos: CNN inputs are empty")
	}
	n, cols := x.Dims()
	if cols != channels*height*width {
		return nil, fmt.Errorf("eos: CNN inputs have %d columns (want channels·height·width = %d)", cols, channels*height*width)
	}
	ho, wo := height+2*c.Pad-c.Kernel+1, width+2*c.Pad-c.Kernel+1
	if ho < 1 || wo < 1 {
		return nil, fmt.Errorf("eos: CNN kernel %d too large for %d×%d images padded by %d", c.Kernel, height, width, c.Pad)
	}
	if ho%c.Pool != 0 || wo%c.Pool != 0 {
		return nil, fmt.Errorf("eos: CNN pool %d does not divide the %d×%d convolution output", c.Pool, ho, wo)
	}
	y, k, err := copyTargets(targets, n, c.Loss)
	if err != nil {
		return nil, err
	}
	if err := checkNetConfig(c.Act, c.Loss); err != nil {
		return nil, err
	}

	// Row i·m + (r·W_o + s) of the patch matrix holds the patch under
	// output pixel (r, s) of image i, ordered as the kernel's weights.
	kk, m := c.Kernel, ho*wo
	in := channels * kk * kk
	col := make([]float64, n*m*in)
	img := make([]float64, cols)
	for i := 0; i < n; i++ {
		mat.Row(img, i, x)
		for r := 0; r < ho; r++ {
			for s := 0; s < wo; s++ {
				patch := col[(i*m+r*wo+s)*in:]
				for ci := 0; ci < channels; ci++ {
					for a := 0; a < kk; a++ {
						u := r + a - c.Pad
						if u < 0 || u >= height {
							continue
						}
						for b := 0; b < kk; b++ {
							if w := s + b - c.Pad; w >= 0 && w < width {
								patch[(ci*kk+a)*kk+b] = img[(ci*height+u)*width+w]
							}
						}
					}
				}
			}
		}
	}
	wp := wo / c.Pool
	cell := make([]int, m)
	for r := 0; r < ho; r++ {
		for s := 0; s < wo; s++ {
			cell[r*wo+s] = (r/c.Pool)*wp + s/c.Pool
		}
	}
	cnn := &CNN{}
	cnn.net.setup(col, y, n, m, in, c.Channels, cell, (ho/c.Pool)*wp, k, c.Act, c.Loss, c.Bias)
	return cnn, nil
}

// Dim returns the number of parameters.
func (c *CNN) Dim() int { return c.net.dim }

// Init stores PyTorch's default initialisation in dst: each weight and bias
// of a layer independently uniform on [−1/√fan_in, 1/√fan_in], with fan_in
// = C·Kernel² for the convolution and Channels·H_p·W_p for the head.
func (c *CNN) Init(dst []float64, rng *rand.Rand) { c.net.init(dst, rng) }

// Outputs stores the n×k network outputs f(x_i) at parameters x in the rows
// of dst. If dst is empty it is resized to n×k; otherwise it must be n×k.
func (c *CNN) Outputs(dst *mat.Dense, x []float64) { c.net.outputs(dst, x) }

// Loss returns E(x).
func (c *CNN) Loss(x []float64) float64 { return c.net.loss(x) }

// Grad stores ∇E(x) in dst and returns E(x).
func (c *CNN) Grad(dst, x []float64) float64 { return c.net.grad(dst, x) }

// HessVec stores ∇²E(x) v in dst.
func (c *CNN) HessVec(dst, x, v []float64) { c.net.hessVec(dst, x, v) }
