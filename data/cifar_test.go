package data

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

// cifarPerBatch is the number of records of each generated batch: two of
// each class, so the five training batches hold ten of each.
const cifarPerBatch = 20

// randomRecords returns n records of size pixels, two of each class per
// block of 20 in shuffled order; pixel 0 is always 7, a constant feature.
func randomRecords(rng *rand.Rand, n, size int) []record {
	recs := make([]record, n)
	for i := range recs {
		p := make([]byte, size)
		for j := range p {
			p[j] = byte(rng.IntN(256))
		}
		p[0] = 7
		recs[i] = record{label: byte(i % 10), pixels: p}
	}
	for lo := 0; lo < n; lo += 20 {
		block := recs[lo:min(lo+20, n)]
		rng.Shuffle(len(block), func(i, j int) { block[i], block[j] = block[j], block[i] })
	}
	return recs
}

// makeCIFAR writes the official layout root/cifar-10-batches-bin/ with five
// training batches and a test batch, and returns the training records in
// file order and the test records.
func makeCIFAR(t *testing.T, root string) (train, test []record) {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	dir := filepath.Join(root, cifarDirName)
	for _, f := range cifarTrainFiles {
		recs := randomRecords(rng, cifarPerBatch, cifarPixels)
		writeFile(t, filepath.Join(dir, f), cifarBytes(recs))
		train = append(train, recs...)
	}
	test = randomRecords(rng, cifarPerBatch, cifarPixels)
	writeFile(t, filepath.Join(dir, cifarTestFile), cifarBytes(test))
	return train, test
}

func TestReadCIFAR10Batch(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	three := []record{
		{label: 0, pixels: randomRecords(rng, 1, cifarPixels)[0].pixels},
		{label: 9, pixels: randomRecords(rng, 1, cifarPixels)[0].pixels},
		{label: 4, pixels: randomRecords(rng, 1, cifarPixels)[0].pixels},
	}
	good := cifarBytes(three)
	badLabel := bytes.Clone(good)
	badLabel[cifarRecord] = 10
	for _, test := range []struct {
		name    string
		r       io.Reader
		want    []record
		wantErr string // substring of the error; "" for success
	}{
		{name: "three", r: bytes.NewReader(good), want: three},
		{name: "one", r: bytes.NewReader(good[:cifarRecord]), want: three[:1]},
		{name: "empty", r: bytes.NewReader(nil), wantErr: "empty, want 3073-byte records"},
		{name: "truncated", r: bytes.NewReader(good[:len(good)-1]), wantErr: "has 9218 bytes, not a whole number of 3073-byte records (2 records and 3072 bytes over)"},
		{name: "trailing", r: bytes.NewReader(append(bytes.Clone(good), 0)), wantErr: "(3 records and 1 bytes over)"},
		{name: "label", r: bytes.NewReader(badLabel), wantErr: "record 1 has label 10, want 0..9"},
		{name: "readerr", r: io.MultiReader(bytes.NewReader(good[:100]), iotest.ErrReader(errors.New("disk on fire"))), wantErr: "disk on fire"},
	} {
		labels, pixels, err := ReadCIFAR10Batch(test.r, "batch.bin")
		if test.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), test.wantErr) || !strings.Contains(err.Error(), "batch.bin") {
				t.Errorf("%s: error %v, want one naming batch.bin and containing %q", test.name, err, test.wantErr)
			}
			if labels != nil || pixels != nil {
				t.Errorf("%s: partial output on error: %d labels, %d pixels", test.name, len(labels), len(pixels))
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: unexpected error %v", test.name, err)
			continue
		}
		// Oracle: the records the input was written from.
		var wantLabels, wantPixels []byte
		for _, r := range test.want {
			wantLabels = append(wantLabels, r.label)
			wantPixels = append(wantPixels, r.pixels...)
		}
		if !bytes.Equal(labels, wantLabels) || !bytes.Equal(pixels, wantPixels) {
			t.Errorf("%s: got %d labels %v and %d pixels, want %v and %d pixels (or contents differ)",
				test.name, len(labels), labels, len(pixels), wantLabels, len(wantPixels))
		}
	}
}

// zeros is an endless reader of zero bytes that counts what it hands out.
type zeros struct{ n int64 }

func (z *zeros) Read(p []byte) (int, error) {
	clear(p)
	z.n += int64(len(p))
	return len(p), nil
}

func TestReadCIFAR10BatchOversized(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 184 MB")
	}
	// An endless stream of valid records must stop at the cap with an
	// error, having consumed no more than the cap plus one byte.
	var z zeros
	labels, pixels, err := ReadCIFAR10Batch(&z, "endless")
	if err == nil || !strings.Contains(err.Error(), "endless holds more than 60000 records") || labels != nil || pixels != nil {
		t.Errorf("error %v with %d labels, want the 60000-record cap and no output", err, len(labels))
	}
	if max := int64(maxCIFARRecords*cifarRecord + 1); z.n > max+64<<10 {
		t.Errorf("read %d bytes from an endless stream, want about %d", z.n, max)
	}
}

func TestLoadCIFAR10(t *testing.T) {
	root := t.TempDir()
	train, test := makeCIFAR(t, root)
	batches := filepath.Join(root, cifarDirName)
	env := t.TempDir()
	makeCIFAR(t, env)
	t.Setenv("EOS_DATA", env)

	for _, c := range []struct {
		name    string
		opt     Options
		recs    []record // all records of the split, in file order
		wantSrc []string // files the Source must name
		noSrc   []string // files it must not name (not read)
	}{
		{name: "root", opt: Options{N: 20, DataDir: root}, recs: train,
			wantSrc: []string{filepath.Join(batches, "data_batch_1.bin")}, noSrc: []string{"data_batch_2.bin"}},
		{name: "batchdir", opt: Options{N: 20, DataDir: batches}, recs: train,
			wantSrc: []string{filepath.Join(batches, "data_batch_1.bin")}},
		{name: "allbatches", opt: Options{N: 100, DataDir: root}, recs: train,
			wantSrc: []string{"data_batch_1.bin", "data_batch_5.bin"}},
		{name: "threebatches", opt: Options{N: 50, DataDir: root}, recs: train,
			wantSrc: []string{"data_batch_3.bin"}, noSrc: []string{"data_batch_4.bin"}},
		{name: "test", opt: Options{N: 10, DataDir: root, Test: true}, recs: test,
			wantSrc: []string{filepath.Join(batches, "test_batch.bin")}},
		{name: "env", opt: Options{N: 20}, wantSrc: []string{filepath.Join(env, cifarDirName, "data_batch_1.bin")}},
	} {
		opt := c.opt
		opt.Normalize = None
		set, err := Load("cifar10", &opt)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		for _, s := range c.wantSrc {
			if !strings.Contains(set.Source, s) {
				t.Errorf("%s: Source %q does not name %s", c.name, set.Source, s)
			}
		}
		for _, s := range c.noSrc {
			if strings.Contains(set.Source, s) {
				t.Errorf("%s: Source %q names %s, which was not needed", c.name, set.Source, s)
			}
		}
		if set.Name != "cifar10" || set.Channels != 3 || set.Height != 32 || set.Width != 32 {
			t.Errorf("%s: Name %q, shape %d×%d×%d, want cifar10 3×32×32", c.name, set.Name, set.Channels, set.Height, set.Width)
		}
		if c.recs == nil {
			continue
		}
		want, ok := firstPerClass(c.recs, 10, opt.N/10)
		if !ok {
			t.Fatalf("%s: bad test data", c.name)
		}
		checkImageSet(t, set, want, 10)
	}
}

func TestLoadCIFAR10Normalize(t *testing.T) {
	root := t.TempDir()
	makeCIFAR(t, root)
	raw, err := LoadCIFAR10(&Options{N: 40, DataDir: root, Normalize: None})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		norm Normalization
		g    int // columns per normalisation group
	}{
		{PerFeature, 1},
		{PerChannel, 32 * 32},
	} {
		set, err := LoadCIFAR10(&Options{N: 40, DataDir: root, Normalize: c.norm})
		if err != nil {
			t.Fatal(err)
		}
		// Oracle: two-pass statistics of the unnormalised set, per group;
		// column 0 (pixel 0 of the red channel) is constant, 7/255.
		checkStandardized(t, set.X, raw.X, c.g, 1e-12)
		if c.norm == PerFeature && set.X.At(3, 0) != 0 {
			t.Errorf("%v: constant column gives %v, want 0", c.norm, set.X.At(3, 0))
		}
		if !strings.Contains(set.Source, "data_batch_1.bin") {
			t.Errorf("%v: Source %q", c.norm, set.Source)
		}
	}
}

func TestLoadCIFAR10Errors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nowhere")

	short := t.TempDir() // only one batch
	shortDir := filepath.Join(short, cifarDirName)
	rng := rand.New(rand.NewPCG(1, 2))
	writeFile(t, filepath.Join(shortDir, "data_batch_1.bin"), cifarBytes(randomRecords(rng, 20, cifarPixels)))

	truncated := t.TempDir() // batch 2 loses its last byte
	truncDir := filepath.Join(truncated, cifarDirName)
	writeFile(t, filepath.Join(truncDir, "data_batch_1.bin"), cifarBytes(randomRecords(rng, 20, cifarPixels)))
	b2 := cifarBytes(randomRecords(rng, 20, cifarPixels))
	writeFile(t, filepath.Join(truncDir, "data_batch_2.bin"), b2[:len(b2)-1])

	badLabel := t.TempDir()
	bad := cifarBytes(randomRecords(rng, 20, cifarPixels))
	bad[5*cifarRecord] = 12
	writeFile(t, filepath.Join(badLabel, "data_batch_1.bin"), bad)

	root := t.TempDir()
	makeCIFAR(t, root)

	for _, c := range []struct {
		name string
		opt  Options
		want []string // substrings of the error
	}{
		{name: "missing", opt: Options{DataDir: missing}, want: []string{
			filepath.Join(missing, cifarDirName, "data_batch_1.bin"), filepath.Join(missing, "data_batch_1.bin"),
			"cifar-10-binary.tar.gz", "--data-dir", "$EOS_DATA"}},
		{name: "missingtest", opt: Options{DataDir: short, Test: true}, want: []string{
			filepath.Join(shortDir, "test_batch.bin"), "CIFAR-10 test split not found"}},
		{name: "nextbatch", opt: Options{N: 30, DataDir: short}, want: []string{filepath.Join(shortDir, "data_batch_2.bin")}},
		{name: "truncated", opt: Options{N: 30, DataDir: truncated}, want: []string{
			filepath.Join(truncDir, "data_batch_2.bin"), "61459 bytes, not a whole number of 3073-byte records"}},
		{name: "label", opt: Options{DataDir: badLabel}, want: []string{
			filepath.Join(badLabel, "data_batch_1.bin"), "record 5 has label 12, want 0..9"}},
		{name: "toomany", opt: Options{N: 110, DataDir: root}, want: []string{
			"N = 110 needs 11 examples of class 0", "but only 10 are in", "data_batch_5.bin"}},
		{name: "divisible", opt: Options{N: 25, DataDir: root}, want: []string{"N = 25 is not a multiple of the 10 classes"}},
		{name: "negative", opt: Options{N: -10, DataDir: root}, want: []string{"N = -10, want N ≥ 0"}},
		{name: "normalize", opt: Options{DataDir: root, Normalize: 7}, want: []string{"Normalize = Normalization(7)"}},
	} {
		set, err := LoadCIFAR10(&c.opt)
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

func TestLoadCIFAR10SearchPath(t *testing.T) {
	env, home, wd := t.TempDir(), t.TempDir(), t.TempDir()
	t.Setenv("EOS_DATA", env)
	t.Setenv("HOME", home)
	t.Chdir(wd)
	_, err := LoadCIFAR10(nil)
	var nf *NotFoundError
	if !errors.As(err, &nf) || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("error %v, want a *NotFoundError matching fs.ErrNotExist", err)
	}
	// Oracle: the documented search order.
	var want []string
	for _, b := range []string{env, filepath.Join(wd, "data"), filepath.Join(home, "data")} {
		want = append(want, filepath.Join(b, cifarDirName, "data_batch_1.bin"), filepath.Join(b, "data_batch_1.bin"))
	}
	if !slices.Equal(nf.Tried, want) {
		t.Errorf("tried\n%s\nwant\n%s", strings.Join(nf.Tried, "\n"), strings.Join(want, "\n"))
	}
	for _, p := range want {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error does not name %s", p)
		}
	}

	// Run from the home directory, ./data and ~/data are one path, tried once.
	t.Chdir(home)
	if _, err := LoadCIFAR10(nil); !errors.As(err, &nf) || len(nf.Tried) != 4 {
		t.Errorf("from home: error %v, want 4 paths tried", err)
	}

	// Once $EOS_DATA holds the batches they are found there.
	makeCIFAR(t, env)
	set, err := LoadCIFAR10(&Options{N: 10})
	if err != nil || !strings.Contains(set.Source, env) {
		t.Errorf("with $EOS_DATA populated: error %v", err)
	}
}
