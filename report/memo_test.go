package report

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
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
