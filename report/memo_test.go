package report

import (
	"bytes"
	"encoding/gob"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/eoskit/eoskit/data"
	"github.com/eoskit/eoskit/eos"
)

// memoValue has the shapes the notebooks store: floats with NaN gaps,
// nested slices and pointers.
type memoValue struct {
	Name   string
	Series []float64
	Rows   [][]float64
	Inner  *memoInner
}

type memoInner struct{ X float64 }

func newMemoValue() memoValue {
	return memoValue{
		Name:   "run",
		Series: []float64{1, math.NaN(), math.Inf(1), -0.5},
		Rows:   [][]float64{{1, 2}, {3}},
		Inner:  &memoInner{X: 0.1},
	}
}

// sameMemoValue compares bit for bit, NaN included.
func sameMemoValue(a, b memoValue) bool {
	if a.Name != b.Name || len(a.Series) != len(b.Series) || len(a.Rows) != len(b.Rows) || (a.Inner == nil) != (b.Inner == nil) {
		return false
	}
	for i := range a.Series {
		if math.Float64bits(a.Series[i]) != math.Float64bits(b.Series[i]) {
			return false
		}
	}
	for i := range a.Rows {
		if len(a.Rows[i]) != len(b.Rows[i]) {
			return false
		}
		for j := range a.Rows[i] {
			if a.Rows[i][j] != b.Rows[i][j] {
				return false
			}
		}
	}
	return a.Inner == nil || *a.Inner == *b.Inner
}

func TestMemo(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("GONB_TMP_DIR", dir)
	calls := 0
	compute := func() (memoValue, error) { calls++; return newMemoValue(), nil }
	for _, tc := range []struct {
		key       string
		wantCalls int // compute calls so far after this Memo
	}{
		{"a", 1}, // first call computes
		{"a", 1}, // same key: decoded, not computed
		{"b", 2}, // another key computes
		{"a", 2},
		{"b", 2},
	} {
		v, err := Memo(tc.key, compute)
		if err != nil {
			t.Fatal(err)
		}
		if calls != tc.wantCalls {
			t.Errorf("key %q: %d computations, want %d", tc.key, calls, tc.wantCalls)
		}
		if !sameMemoValue(v, newMemoValue()) {
			t.Errorf("key %q: got %+v, want %+v", tc.key, v, newMemoValue())
		}
	}

	// A corrupt entry is computed again and replaced.
	entries, err := filepath.Glob(filepath.Join(dir, "eoskit-memo", "*.gob"))
	if err != nil || len(entries) != 2 {
		t.Fatalf("%d entries stored (%v), want 2", len(entries), err)
	}
	for _, e := range entries {
		if err := os.WriteFile(e, []byte("not gob"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	calls = 0
	for range 2 {
		if v, err := Memo("a", compute); err != nil || !sameMemoValue(v, newMemoValue()) {
			t.Errorf("after corruption: %+v, %v", v, err)
		}
	}
	if calls != 1 {
		t.Errorf("corrupt entry: %d computations over two calls, want 1", calls)
	}
	// The same key with another type is another entry, even one gob
	// would decode the stored value into.
	type other struct{ Name string }
	o, err := Memo("a", func() (other, error) { return other{"fresh"}, nil })
	if err != nil || o.Name != "fresh" {
		t.Errorf("same key, another type: got %+v, %v; want a fresh computation", o, err)
	}
}

func TestMemoErrors(t *testing.T) {
	t.Setenv("GONB_TMP_DIR", t.TempDir())
	bad := errors.New("diverged")
	calls := 0
	failing := func() (float64, error) { calls++; return math.NaN(), bad }
	for range 2 {
		if _, err := Memo("k", failing); !errors.Is(err, bad) {
			t.Errorf("error %v, want the compute error", err)
		}
	}
	if calls != 2 {
		t.Errorf("a failed computation was stored: %d calls, want 2", calls)
	}
	// A value gob cannot encode is a programming error, reported with the
	// value.
	type noExported struct{ f func() }
	if _, err := Memo("fn", func() (noExported, error) { return noExported{}, nil }); err == nil {
		t.Error("no error for a value gob cannot encode")
	}
}

// Outside a notebook Memo stores nothing and computes every time.
func TestMemoOutsideNotebook(t *testing.T) {
	t.Setenv("GONB_TMP_DIR", "")
	calls := 0
	for range 3 {
		if _, err := Memo("k", func() (int, error) { calls++; return calls, nil }); err != nil {
			t.Fatal(err)
		}
	}
	if calls != 3 {
		t.Errorf("%d computations, want 3", calls)
	}
}

// TestMemoEOSRecords stores and reloads the records the notebooks memoise.
// encoding/gob must be able to encode them (it panics, for one, on a
// pointer-receiver binary marshaller reached through a double pointer);
// oracle: the records before storing, compared as gob sees them.
func TestMemoEOSRecords(t *testing.T) {
	t.Setenv("GONB_TMP_DIR", t.TempDir())
	set, err := data.Teacher(&data.Options{N: 20, InputDim: 3, TeacherWidth: 2, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	m, err := eos.NewMeanField(set.X, set.Y, &eos.MeanFieldConfig{Width: 6})
	if err != nil {
		t.Fatal(err)
	}
	gd, err := eos.RunMeanFieldGD(m, 0.5, &eos.MeanFieldGDSettings{Steps: 10, EigEvery: 3})
	if err != nil {
		t.Fatal(err)
	}
	kin, err := eos.RunKinetic(m, 0.5, &eos.KineticSettings{Steps: 30})
	if err != nil {
		t.Fatal(err)
	}
	p, err := eos.NewMatFact(2, eos.DiagTarget(5.5, 1))
	if err != nil {
		t.Fatal(err)
	}
	x0 := make([]float64, p.Dim())
	p.Init(x0, rand.New(rand.NewPCG(1, 2)))
	flow, err := eos.NewFreeEnergyFlow(p, 0.077, nil)
	if err != nil {
		t.Fatal(err)
	}
	cmp, err := eos.Compare(p, x0, 0.077, flow, &eos.CompareSettings{Start: 5, Steps: 10})
	if err != nil {
		t.Fatal(err)
	}
	checkMemoRoundTrip(t, "gd", gd)
	checkMemoRoundTrip(t, "kinetic", kin)
	checkMemoRoundTrip(t, "comparisons", []*eos.Comparison{cmp})
}

// checkMemoRoundTrip memoises v under key, reloads it, and fails t unless
// the reloaded value encodes to the same gob bytes.
func checkMemoRoundTrip[T any](t *testing.T, key string, v T) {
	t.Helper()
	if _, err := Memo(key, func() (T, error) { return v, nil }); err != nil {
		t.Fatalf("%s: storing: %v", key, err)
	}
	got, err := Memo(key, func() (T, error) { t.Fatalf("%s: computed again instead of reloaded", key); return v, nil })
	if err != nil {
		t.Fatalf("%s: reloading: %v", key, err)
	}
	var a, b bytes.Buffer
	if err := gob.NewEncoder(&a).Encode(&v); err != nil {
		t.Fatal(err)
	}
	if err := gob.NewEncoder(&b).Encode(&got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Errorf("%s: reloaded value differs from the stored one", key)
	}
}
