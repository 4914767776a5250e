package data

import (
	"bytes"
	"slices"
	"testing"
)

// FuzzIDX checks that ReadIDX never panics, returns nothing on error, and on
// success returns exactly what the input encodes: re-encoding the dims and
// data gives the input back.
func FuzzIDX(f *testing.F) {
	f.Add(idxBytes([]int{3}, []byte{1, 2, 3}))
	f.Add(idxBytes([]int{2, 2, 2}, []byte{0, 1, 2, 3, 4, 5, 6, 7}))
	f.Add(idxBytes([]int{2, 2, 2}, []byte{0, 1, 2}))
	f.Add(idxBytes([]int{0xffffffff, 0xffffffff}, nil))
	f.Add(idxBytes([]int{1 << 30}, []byte{9}))
	f.Add([]byte{0, 0, 8, 0})
	f.Add([]byte{0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0})
	f.Add([]byte{0x1f, 0x8b})
	f.Fuzz(func(t *testing.T, in []byte) {
		dims, data, err := ReadIDX(bytes.NewReader(in), "fuzz")
		if err != nil {
			if dims != nil || data != nil {
				t.Fatalf("partial output with error %v", err)
			}
			return
		}
		if out := idxBytes(dims, data); !bytes.Equal(out, in) {
			t.Fatalf("dims %v and %d bytes re-encode to %d bytes, input has %d", dims, len(data), len(out), len(in))
		}
	})
}

// FuzzCIFAR checks that ReadCIFAR10Batch never panics, returns nothing on
// error, and on success returns exactly the records of the input.
func FuzzCIFAR(f *testing.F) {
	one := make([]byte, cifarRecord)
	one[0] = 3
	for i := range cifarPixels {
		one[1+i] = byte(i)
	}
	f.Add(one)
	f.Add(slices.Concat(one, one))
	f.Add(one[:100])
	f.Add([]byte{})
	bad := slices.Clone(one)
	bad[0] = 10
	f.Add(bad)
	f.Fuzz(func(t *testing.T, in []byte) {
		labels, pixels, err := ReadCIFAR10Batch(bytes.NewReader(in), "fuzz")
		if err != nil {
			if labels != nil || pixels != nil {
				t.Fatalf("partial output with error %v", err)
			}
			return
		}
		var recs []record
		for i, l := range labels {
			if l > 9 {
				t.Fatalf("label %d accepted", l)
			}
			recs = append(recs, record{label: l, pixels: pixels[i*cifarPixels : (i+1)*cifarPixels]})
		}
		if len(pixels) != len(labels)*cifarPixels || !bytes.Equal(cifarBytes(recs), in) {
			t.Fatalf("%d labels and %d pixels do not re-encode to the %d-byte input", len(labels), len(pixels), len(in))
		}
	})
}
