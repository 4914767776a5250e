package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
)

// Memo returns the result of compute for key, computed once per notebook
// session. GoNB runs every cell as a fresh program, so a run that several
// cells show (a cell per figure, then the closing summary) would otherwise be
// repeated by each of them. The first call stores the result with
// encoding/gob under $GONB_TMP_DIR, the directory GoNB creates for its kernel
// and removes when the kernel stops; later calls with the same key decode it.
// Outside a notebook ($GONB_TMP_DIR unset) Memo calls compute every time and
// stores nothing.
//
// key must name everything the result depends on, for instance the settings
// formatted with %v. The store does not see the code: after editing a package
// the notebook imports, restart the kernel. Only exported fields survive the
// round trip, which is gob's rule.
//
// Entries are kept per key and type T. An error of compute is returned as it
// is, and nothing is stored. A stored entry that does not decode is computed
// again. If the result cannot
// be stored, Memo returns it with the error.
func Memo[T any](key string, compute func() (T, error)) (T, error) {
	dir := os.Getenv("GONB_TMP_DIR")
	if dir == "" {
		return compute()
	}
	// The type is part of the name: gob decodes into any struct that
	// shares a field name, so a key reused for another type would
	// otherwise return a half-filled value.
	sum := sha256.Sum256([]byte(reflect.TypeFor[T]().String() + "\x00" + key))
	path := filepath.Join(dir, "eoskit-memo", hex.EncodeToString(sum[:])+".gob")
	if b, err := os.ReadFile(path); err == nil {
		var v T
		if gob.NewDecoder(bytes.NewReader(b)).Decode(&v) == nil {
			return v, nil
		}
	}
	v, err := compute()
	if err != nil {
		return v, err
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(&v); err != nil {
		return v, fmt.Errorf("report: Memo cannot store the result for %q: %w", key, err)
	}
	if err := writeFile(path, buf.Bytes()); err != nil {
		return v, fmt.Errorf("report: Memo cannot store the result for %q: %w", key, err)
	}
	return v, nil
}

// writeFile writes b to path through a temporary file in the same
// directory, so that a cell interrupted while writing leaves no truncated
// entry behind.
func writeFile(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".memo-*")
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}
