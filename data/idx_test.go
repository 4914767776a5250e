package data

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

func TestReadIDX(t *testing.T) {
	seq := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(3*i + 1)
		}
		return b
	}
	for _, test := range []struct {
		name     string
		in       []byte
		wantDims []int
		wantData []byte
		wantErr  string // substring of the error; "" for success
	}{
		// Oracles: the dims and data the input was encoded from.
		{name: "labels", in: idxBytes([]int{5}, seq(5)), wantDims: []int{5}, wantData: seq(5)},
		{name: "images", in: idxBytes([]int{2, 3, 4}, seq(24)), wantDims: []int{2, 3, 4}, wantData: seq(24)},
		{name: "zerodim", in: idxBytes([]int{0, 28, 28}, nil), wantDims: []int{0, 28, 28}, wantData: []byte{}},
		{name: "empty", in: nil, wantErr: "reading the IDX magic number: unexpected EOF"},
		{name: "shortmagic", in: []byte{0, 0, 8}, wantErr: "reading the IDX magic number: unexpected EOF"},
		{name: "magic", in: []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0}, wantErr: "magic number 1f 8b 08 00 does not start with 00 00"},
		{name: "type", in: []byte{0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0}, wantErr: "IDX data type 0x0d not supported, want 0x08"},
		{name: "nodims", in: []byte{0, 0, 8, 0}, wantErr: "0 dimensions, want at least 1"},
		{name: "shortdims", in: idxBytes([]int{2, 3, 4}, nil)[:13], wantErr: "reading 3 IDX dimensions: unexpected EOF"},
		{name: "truncated", in: idxBytes([]int{2, 3, 4}, seq(23)), wantErr: "header claims 24 items (2×3×4), file has 23 bytes of data"},
		{name: "trailing", in: idxBytes([]int{2, 3, 4}, seq(25)), wantErr: "header claims 24 items (2×3×4), file has more data after them"},
		{name: "overflow", in: idxBytes([]int{1 << 16, 1 << 16}, nil), wantErr: "header claims 65536×65536 items, more than the 2147483647"},
	} {
		dims, data, err := ReadIDX(bytes.NewReader(test.in), "f.idx")
		if test.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), test.wantErr) || !strings.Contains(err.Error(), "f.idx") {
				t.Errorf("%s: error %v, want one naming f.idx and containing %q", test.name, err, test.wantErr)
			}
			if dims != nil || data != nil {
				t.Errorf("%s: partial output on error: dims %v, %d bytes", test.name, dims, len(data))
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: unexpected error %v", test.name, err)
			continue
		}
		if !slices.Equal(dims, test.wantDims) || !bytes.Equal(data, test.wantData) {
			t.Errorf("%s: got dims %v and %d bytes, want %v and %d bytes (or contents differ)", test.name, dims, len(data), test.wantDims, len(test.wantData))
		}
	}
}

func TestReadIDXReaderError(t *testing.T) {
	r := io.MultiReader(bytes.NewReader(idxBytes([]int{100}, make([]byte, 10))), iotest.ErrReader(errors.New("disk on fire")))
	dims, data, err := ReadIDX(r, "f.idx")
	if err == nil || !strings.Contains(err.Error(), "disk on fire") || dims != nil || data != nil {
		t.Errorf("error %v, dims %v, want the reader's error and no output", err, dims)
	}
}

// A header claiming about 2 GB followed by a few bytes must fail without
// allocating anything near the claim.
func TestReadIDXAllocationBound(t *testing.T) {
	in := idxBytes([]int{2_000_000_000}, make([]byte, 100))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, _, err := ReadIDX(bytes.NewReader(in), "huge.idx")
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "header claims 2000000000 items (2000000000), file has 100 bytes of data") {
		t.Errorf("error %v, want the truncation error", err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
		t.Errorf("allocated %d bytes for a 108-byte input, want < 1 MiB", got)
	}
}
