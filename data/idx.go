package data

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
)

// maxIDXItems bounds the number of items an IDX header may claim. The bytes
// actually read bound the allocation anyway; the cap keeps the product of
// the dimensions from overflowing and rejects headers no real file has.
const maxIDXItems = math.MaxInt32

// ReadIDX reads an IDX file of unsigned bytes (the format of the MNIST
// distribution, uncompressed) from r. name is used in error messages only.
//
// The format is a 4-byte magic number 0x00 0x00 0x08 ndims, then ndims
// big-endian uint32 dimensions, then the product of the dimensions bytes of
// data in row-major order:
//
//	00 00 08 03 | 00 00 EA 60 | 00 00 00 1C | 00 00 00 1C | 60000·28·28 bytes
//
// ReadIDX returns the dimensions and the data. Only data type 0x08 (unsigned
// byte) is accepted. A file shorter or longer than its header claims is an
// error; so is a header claiming more than 2^31−1 items. Memory is allocated
// as bytes arrive, never from the header's claim alone. On error, dims and
// data are nil.
func ReadIDX(r io.Reader, name string) (dims []int, data []byte, err error) {
	var magic [4]byte
	if _, err := io.ReadFull(r, magic[:]); err != nil {
		return nil, nil, fmt.Errorf("data: %s: reading the IDX magic number: %w", name, noEOF(err))
	}
	if magic[0] != 0 || magic[1] != 0 {
		return nil, nil, fmt.Errorf("data: %s: magic number % x does not start with 00 00: not an IDX file", name, magic)
	}
	if magic[2] != 0x08 {
		return nil, nil, fmt.Errorf("data: %s: IDX data type 0x%02x not supported, want 0x08 (unsigned byte)", name, magic[2])
	}
	nd := int(magic[3])
	if nd == 0 {
		return nil, nil, fmt.Errorf("data: %s: IDX header has 0 dimensions, want at least 1", name)
	}
	header := make([]byte, 4*nd)
	if _, err := io.ReadFull(r, header); err != nil {
		return nil, nil, fmt.Errorf("data: %s: reading %d IDX dimensions: %w", name, nd, noEOF(err))
	}
	dims = make([]int, nd)
	items := 1
	for i := range dims {
		dims[i] = int(binary.BigEndian.Uint32(header[4*i:]))
		if dims[i] != 0 && items > maxIDXItems/dims[i] {
			return nil, nil, fmt.Errorf("data: %s: header claims %s items, more than the %d this reader accepts", name, shape(dims[:i+1]), maxIDXItems)
		}
		items *= dims[i]
	}
	// Read one byte past the claim to detect trailing data.
	data, err = io.ReadAll(io.LimitReader(r, int64(items)+1))
	if err != nil {
		return nil, nil, fmt.Errorf("data: %s: reading IDX data: %w", name, err)
	}
	switch {
	case len(data) < items:
		return nil, nil, fmt.Errorf("data: %s: header claims %d items (%s), file has %d bytes of data: truncated", name, items, shape(dims), len(data))
	case len(data) > items:
		return nil, nil, fmt.Errorf("data: %s: header claims %d items (%s), file has more data after them", name, items, shape(dims))
	}
	return dims, data, nil
}

// shape formats dimensions as 60000×28×28.
func shape(dims []int) string {
	s := make([]string, len(dims))
	for i, d := range dims {
		s[i] = fmt.Sprint(d)
	}
	return strings.Join(s, "×")
}

// noEOF turns a bare io.EOF from io.ReadFull (nothing read at all) into
// io.ErrUnexpectedEOF: a header that is missing is truncated, not a clean end.
func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
