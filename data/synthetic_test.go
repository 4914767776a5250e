package data

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// draws returns n NormFloat64 draws from rand.NewPCG(seed, stream): the
// documented generator, rebuilt here as the oracle.
func draws(seed, stream uint64, n int) []float64 {
	rng := rand.New(rand.NewPCG(seed, stream))
	v := make([]float64, n)
	for i := range v {
		v[i] = rng.NormFloat64()
	}
	return v
}

func TestTeacher(t *testing.T) {
	for _, c := range []struct {
		name string
		opt  Options
		d, m int // input dimension and teacher width after defaults
	}{
		{name: "kinetic", opt: Options{N: 200, Seed: 1, Normalize: None}, d: 5, m: 3},
		{name: "defaults", opt: Options{Normalize: None}, d: 5, m: 3},
		{name: "wide", opt: Options{N: 50, InputDim: 7, TeacherWidth: 11, Seed: 9, Normalize: None}, d: 7, m: 11},
		{name: "test", opt: Options{N: 30, Seed: 1, Test: true, Normalize: None}, d: 5, m: 3},
		{name: "standardized", opt: Options{N: 40, Seed: 4}, d: 5, m: 3},
	} {
		set, err := Load("teacher", &c.opt)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		n := c.opt.N
		if n == 0 {
			n = 500
		}
		if r, cols := set.X.Dims(); r != n || cols != c.d {
			t.Fatalf("%s: X is %d×%d, want %d×%d", c.name, r, cols, n, c.d)
		}
		if r, cols := set.Y.Dims(); r != n || cols != 1 {
			t.Fatalf("%s: Y is %d×%d, want %d×1", c.name, r, cols, n)
		}
		if set.Name != "teacher" || set.Labels != nil || set.Classes != 0 || set.Channels != 0 {
			t.Errorf("%s: Name %q, Labels %v, Classes %d, Channels %d", c.name, set.Name, set.Labels, set.Classes, set.Channels)
		}
		if !strings.Contains(set.Source, "seed ") {
			t.Errorf("%s: Source %q does not give the seed", c.name, set.Source)
		}
		// Oracle: the documented draws.
		params := draws(c.opt.Seed, 0, c.m*c.d+c.m)
		w, a := params[:c.m*c.d], params[c.m*c.d:]
		stream := uint64(1)
		if c.opt.Test {
			stream = 2
		}
		raw := mat.NewDense(n, c.d, draws(c.opt.Seed, stream, n*c.d))
		if c.opt.Normalize == None {
			if !mat.Equal(set.X, raw) {
				t.Errorf("%s: X differs from the documented N(0, I) draws", c.name)
			}
		} else {
			checkStandardized(t, set.X, raw, 1, 1e-12)
		}
		// y = (1/m) Σ_j a_j tanh(w_j·x) on the rows as returned.
		for i := range n {
			var y float64
			for j := range c.m {
				y += a[j] * math.Tanh(mat.Dot(mat.NewVecDense(c.d, w[j*c.d:(j+1)*c.d]), set.X.RowView(i)))
			}
			y /= float64(c.m)
			if diff := math.Abs(set.Y.At(i, 0) - y); diff > 1e-14 {
				t.Fatalf("%s: Y[%d] = %v, want %v", c.name, i, set.Y.At(i, 0), y)
			}
		}
	}
}

func TestSynthetic(t *testing.T) {
	for _, c := range []struct {
		name string
		opt  Options
		d    int
	}{
		{name: "defaults", opt: Options{Normalize: None}, d: 5},
		{name: "small", opt: Options{N: 30, InputDim: 2, Seed: 3, Normalize: None}, d: 2},
		{name: "test", opt: Options{N: 20, Seed: 3, Test: true, Normalize: None}, d: 5},
		{name: "standardized", opt: Options{N: 100, Seed: 3}, d: 5},
	} {
		set, err := Load("synthetic", &c.opt)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		n := c.opt.N
		if n == 0 {
			n = 500
		}
		if r, cols := set.X.Dims(); r != n || cols != c.d {
			t.Fatalf("%s: X is %d×%d, want %d×%d", c.name, r, cols, n, c.d)
		}
		if set.Name != "synthetic" || set.Classes != 10 {
			t.Errorf("%s: Name %q, Classes %d", c.name, set.Name, set.Classes)
		}
		// Oracle: the documented draws, centres 3·z_c, labels i mod 10.
		centres := draws(c.opt.Seed, 0, 10*c.d)
		stream := uint64(1)
		if c.opt.Test {
			stream = 2
		}
		raw := mat.NewDense(n, c.d, draws(c.opt.Seed, stream, n*c.d))
		for i := range n {
			if set.Labels[i] != i%10 {
				t.Fatalf("%s: Labels[%d] = %d, want %d", c.name, i, set.Labels[i], i%10)
			}
			for k := range 10 {
				want := 0.0
				if k == i%10 {
					want = 1
				}
				if set.Y.At(i, k) != want {
					t.Fatalf("%s: Y[%d, %d] = %v, want %v", c.name, i, k, set.Y.At(i, k), want)
				}
			}
			for k := range c.d {
				raw.Set(i, k, raw.At(i, k)+3*centres[(i%10)*c.d+k])
			}
		}
		if c.opt.Normalize == None {
			if !mat.EqualApprox(set.X, raw, 1e-15) {
				t.Errorf("%s: X differs from centres plus noise", c.name)
			}
		} else {
			checkStandardized(t, set.X, raw, 1, 1e-12)
		}
	}
}

// The training inputs for N are the first rows of those for a larger N, and
// a different seed gives different data.
func TestGeneratedPrefixAndSeed(t *testing.T) {
	for _, name := range []string{"synthetic", "teacher"} {
		small, err1 := Load(name, &Options{N: 20, Seed: 5, Normalize: None})
		big, err2 := Load(name, &Options{N: 60, Seed: 5, Normalize: None})
		other, err3 := Load(name, &Options{N: 20, Seed: 6, Normalize: None})
		if err1 != nil || err2 != nil || err3 != nil {
			t.Fatal(err1, err2, err3)
		}
		_, d := small.X.Dims()
		if !mat.Equal(small.X, big.X.Slice(0, 20, 0, d)) || !mat.Equal(small.Y, big.Y.Slice(0, 20, 0, small.Y.RawMatrix().Cols)) {
			t.Errorf("%s: N = 20 is not a prefix of N = 60", name)
		}
		if mat.Equal(small.X, other.X) {
			t.Errorf("%s: seeds 5 and 6 give the same X", name)
		}
	}
}

func TestGeneratedErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		set  string
		opt  Options
		want string
	}{
		{"negative", "teacher", Options{N: -1}, "N = -1, want N ≥ 0 (0 means 500)"},
		{"divisible", "synthetic", Options{N: 15}, "N = 15 is not a multiple of the 10 classes"},
		{"inputdim", "synthetic", Options{InputDim: -2}, "InputDim = -2, want InputDim ≥ 0 (0 means 5)"},
		{"width", "teacher", Options{TeacherWidth: -3}, "TeacherWidth = -3, want TeacherWidth ≥ 0 (0 means 3)"},
		{"perchannel", "teacher", Options{Normalize: PerChannel}, "PerChannel needs an image set, and teacher is not one"},
		{"perchannelsyn", "synthetic", Options{Normalize: PerChannel}, "PerChannel needs an image set, and synthetic is not one"},
		{"normalize", "synthetic", Options{Normalize: -1}, "Normalize = Normalization(-1), want PerFeature, PerChannel or None"},
		{"huge", "teacher", Options{N: 1 << 40}, "N×InputDim = 1099511627776×5 is more than the 134217728 values"},
		{"hugewidth", "teacher", Options{TeacherWidth: 1 << 40, InputDim: 2}, "TeacherWidth×InputDim = 1099511627776×2 is more than"},
		{"unknown", "cifar100", Options{}, `unknown data set "cifar100", want one of mnist, cifar10, synthetic, teacher`},
	} {
		set, err := Load(c.set, &c.opt)
		if err == nil || set != nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want no set and an error containing %q", c.name, err, c.want)
		}
	}
}
