package eos

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Checkpoint is the state from which an interrupted long run resumes so
// that what it records afterwards is identical, byte for byte, to what the
// uninterrupted run would have recorded. It is generic over what ran: GD
// stores one parameter vector and its running totals (GDState.Checkpoint),
// a flow would store its centre and oscillation vectors and its time.
//
// A Checkpoint is saved as one file, written atomically (Save), in the
// format
//
//	magic    "eoskit checkpoint\n"
//	version  uint32, currently 2 (version 1, without blobs, is read too)
//	kind     string
//	step     int64
//	params   uint64 count, then each vector as uint64 length and float64s
//	scalars  uint64 count, then name (string) and float64, sorted by name
//	eigensolver, rng, recorder   byte strings
//	blobs    uint64 count, then name (string) and byte string, sorted by name
//	crc      uint32, CRC-32 (IEEE) of every byte before it
//
// with integers little-endian, strings and byte strings as a uint64 length
// and the bytes, and floats as their IEEE 754 bits (NaN and ±Inf kept). The
// checksum makes a truncated or damaged file an error instead of a silently
// different resume.
type Checkpoint struct {
	// Kind names what wrote the checkpoint ("gd"), so that a resume can
	// refuse a checkpoint of another kind of run.
	Kind string
	// Step is the index of the step the run resumes at.
	Step int
	// Params are the parameter vectors at Step.
	Params [][]float64
	// Scalars are the named numbers of the optimizer or flow state.
	Scalars map[string]float64
	// Eigensolver is the state of the sharpness eigensolver
	// (Lanczos.MarshalBinary), nil when the run has none.
	Eigensolver []byte
	// RNG is the state of a random source the run draws from
	// (rand.PCG.MarshalBinary), nil when it draws none outside its
	// eigensolver.
	RNG []byte
	// Recorder is the state of what records the run (its trace writer),
	// opaque to Checkpoint.
	Recorder []byte
	// Blobs are further named states, opaque to Checkpoint: a flow's
	// (Flow's MarshalBinary), a second eigensolver's.
	Blobs map[string][]byte
}

const (
	checkpointMagic   = "eoskit checkpoint\n"
	checkpointVersion = 2
)

// MarshalBinary encodes c in the file format described on Checkpoint.
func (c *Checkpoint) MarshalBinary() ([]byte, error) {
	e := encoder{b: []byte(checkpointMagic)}
	e.u32(checkpointVersion)
	e.str(c.Kind)
	e.int(c.Step)
	e.u64(uint64(len(c.Params)))
	for _, v := range c.Params {
		e.floats(v)
	}
	names := make([]string, 0, len(c.Scalars))
	for k := range c.Scalars {
		names = append(names, k)
	}
	slices.Sort(names) // identical checkpoints give identical bytes
	e.u64(uint64(len(names)))
	for _, k := range names {
		e.str(k)
		e.f64(c.Scalars[k])
	}
	e.bytes(c.Eigensolver)
	e.bytes(c.RNG)
	e.bytes(c.Recorder)
	blobs := make([]string, 0, len(c.Blobs))
	for k := range c.Blobs {
		blobs = append(blobs, k)
	}
	slices.Sort(blobs)
	e.u64(uint64(len(blobs)))
	for _, k := range blobs {
		e.str(k)
		e.bytes(c.Blobs[k])
	}
	e.u32(crc32.ChecksumIEEE(e.b))
	return e.b, nil
}

// UnmarshalBinary decodes a checkpoint written by MarshalBinary into c. It
// returns an error saying what is wrong when b is not a checkpoint, is of an
// unknown version, is truncated or fails its checksum.
func (c *Checkpoint) UnmarshalBinary(b []byte) error {
	if len(b) < len(checkpointMagic) || string(b[:len(checkpointMagic)]) != checkpointMagic {
		return errors.New("eos: not an eoskit checkpoint (bad magic)")
	}
	if len(b) < len(checkpointMagic)+8 {
		return errors.New("eos: checkpoint truncated")
	}
	body, sum := b[:len(b)-4], binary.LittleEndian.Uint32(b[len(b)-4:])
	if crc32.ChecksumIEEE(body) != sum {
		return errors.New("eos: checkpoint damaged or truncated (checksum mismatch)")
	}
	d := decoder{b: body[len(checkpointMagic):]}
	v := d.u32()
	if v != 1 && v != checkpointVersion {
		return fmt.Errorf("eos: checkpoint version %d not supported (this eoskit reads versions 1 to %d)", v, checkpointVersion)
	}
	var r Checkpoint
	r.Kind = d.str()
	r.Step = d.int()
	if n := d.count(8); n > 0 {
		r.Params = make([][]float64, n)
		for i := range r.Params {
			r.Params[i] = d.floats()
		}
	}
	if n := d.count(16); n > 0 {
		r.Scalars = make(map[string]float64, n)
		for range n {
			k := d.str()
			r.Scalars[k] = d.f64()
		}
	}
	r.Eigensolver = d.bytes()
	r.RNG = d.bytes()
	r.Recorder = d.bytes()
	if v >= 2 {
		if n := d.count(16); n > 0 {
			r.Blobs = make(map[string][]byte, n)
			for range n {
				k := d.str()
				r.Blobs[k] = d.bytes()
			}
		}
	}
	if err := d.finish("checkpoint"); err != nil {
		return err
	}
	*c = r
	return nil
}

// Save writes c to path atomically: to a temporary file in the same
// directory, synced to disk, then renamed over path. A reader, or a run
// killed at any moment, sees either the previous checkpoint or the new one,
// never a mixture.
func (c *Checkpoint) Save(path string) error {
	b, err := c.MarshalBinary()
	if err != nil {
		return err
	}
	return writeAtomic(path, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

// LoadCheckpoint reads the checkpoint saved at path. Its errors name path.
func LoadCheckpoint(path string) (*Checkpoint, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var c Checkpoint
	if err := c.UnmarshalBinary(b); err != nil {
		return nil, fmt.Errorf("eos: %s: %s", path, strings.TrimPrefix(err.Error(), "eos: "))
	}
	return &c, nil
}

// writeAtomic writes a file at path through write, into a temporary file
// that is synced and renamed over path only if write and the sync succeed;
// otherwise the temporary file is removed and path is left as it was.
func writeAtomic(path string, write func(io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := write(f); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	// Sync the directory so that the rename itself survives a crash. Not
	// every file system can sync a directory; the rename has happened
	// either way, so a failure here is not an error of the write.
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// encoder appends the little-endian encodings of checkpoint fields.
type encoder struct{ b []byte }

func (e *encoder) u32(v uint32)   { e.b = binary.LittleEndian.AppendUint32(e.b, v) }
func (e *encoder) u64(v uint64)   { e.b = binary.LittleEndian.AppendUint64(e.b, v) }
func (e *encoder) int(v int)      { e.u64(uint64(int64(v))) }
func (e *encoder) f64(v float64)  { e.u64(math.Float64bits(v)) }
func (e *encoder) str(s string)   { e.u64(uint64(len(s))); e.b = append(e.b, s...) }
func (e *encoder) bytes(s []byte) { e.u64(uint64(len(s))); e.b = append(e.b, s...) }

func (e *encoder) boolean(v bool) {
	if v {
		e.b = append(e.b, 1)
	} else {
		e.b = append(e.b, 0)
	}
}

func (e *encoder) floats(v []float64) {
	e.u64(uint64(len(v)))
	for _, f := range v {
		e.f64(f)
	}
}

// decoder reads what encoder wrote. The first error sticks: later reads
// return zero values, so a caller checks once, in finish. Lengths are
// checked against the bytes left before anything is allocated, so a
// damaged length cannot ask for a huge allocation.
type decoder struct {
	b   []byte
	err error
}

var errTruncated = errors.New("truncated")

func (d *decoder) take(n uint64) []byte {
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.err = errTruncated
		return nil
	}
	s := d.b[:n:n]
	d.b = d.b[n:]
	return s
}

func (d *decoder) u32() uint32 {
	if s := d.take(4); s != nil {
		return binary.LittleEndian.Uint32(s)
	}
	return 0
}

func (d *decoder) u64() uint64 {
	if s := d.take(8); s != nil {
		return binary.LittleEndian.Uint64(s)
	}
	return 0
}

func (d *decoder) int() int     { return int(int64(d.u64())) }
func (d *decoder) f64() float64 { return math.Float64frombits(d.u64()) }
func (d *decoder) str() string  { return string(d.bytes()) }

// bytes returns a copy of the next byte string, nil when it is empty.
func (d *decoder) bytes() []byte {
	s := d.take(d.u64())
	if len(s) == 0 {
		return nil
	}
	return slices.Clone(s)
}

func (d *decoder) boolean() bool {
	s := d.take(1)
	if s != nil && s[0] > 1 && d.err == nil {
		d.err = fmt.Errorf("bad boolean byte %d", s[0])
	}
	return s != nil && s[0] == 1
}

// count reads a count of items each at least size bytes long and checks it
// against the bytes left.
func (d *decoder) count(size uint64) int {
	n := d.u64()
	if d.err == nil && n > uint64(len(d.b))/size {
		d.err = errTruncated
		return 0
	}
	return int(n)
}

func (d *decoder) floats() []float64 {
	n := d.count(8)
	if d.err != nil {
		return nil
	}
	v := make([]float64, n)
	for i := range v {
		v[i] = d.f64()
	}
	return v
}

// finish reports the first decoding error, or trailing bytes, for the
// encoding of what.
func (d *decoder) finish(what string) error {
	switch {
	case d.err != nil:
		return fmt.Errorf("eos: %s: %v", what, d.err)
	case len(d.b) > 0:
		return fmt.Errorf("eos: %s: %d unexpected trailing bytes", what, len(d.b))
	}
	return nil
}

// Names of the GDState numbers in Checkpoint.Scalars.
const (
	scalarLossBound   = "loss_bound"
	scalarHVPs        = "hvps"
	scalarUnconverged = "unconverged"
	scalarSharpness   = "sharpness"
)

// NewGDCheckpoint returns a checkpoint, of kind "gd", of a GD run in state
// s, holding a copy of s.X, the state of its eigensolver lz (nil when it has
// none) and rec, the state of its recorders.
func NewGDCheckpoint(s *GDState, lz *Lanczos, rec []byte) (*Checkpoint, error) {
	c := &Checkpoint{
		Kind:   "gd",
		Step:   s.K,
		Params: [][]float64{slices.Clone(s.X)},
		Scalars: map[string]float64{
			scalarLossBound:   s.LossBound,
			scalarHVPs:        float64(s.HVPs),
			scalarUnconverged: float64(s.Unconverged),
			scalarSharpness:   s.Sharpness,
		},
		Recorder: rec,
	}
	if lz != nil {
		var err error
		if c.Eigensolver, err = lz.MarshalBinary(); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// GDState returns the state of the GD run stored by NewGDCheckpoint, to be
// passed as GDSettings.Resume. It returns an error saying what is wrong when
// c is not a GD checkpoint or holds a state GD would refuse.
func (c *Checkpoint) GDState() (*GDState, error) {
	return c.gdState("gd", "GD", 1)
}

// gdState returns the GD state in a checkpoint of the given kind, which
// holds params parameter vectors, the first being GD's iterate; what names
// the run in errors.
func (c *Checkpoint) gdState(kind, what string, params int) (*GDState, error) {
	if c.Kind != kind {
		return nil, fmt.Errorf("eos: checkpoint of a %q run, not of a %s run", c.Kind, what)
	}
	if len(c.Params) != params {
		return nil, fmt.Errorf("eos: %s checkpoint holds %d parameter vectors, want %d", what, len(c.Params), params)
	}
	var v [4]float64
	for i, name := range [...]string{scalarLossBound, scalarHVPs, scalarUnconverged, scalarSharpness} {
		x, ok := c.Scalars[name]
		if !ok {
			return nil, fmt.Errorf("eos: %s checkpoint lacks %q", what, name)
		}
		v[i] = x
	}
	switch {
	case c.Step < 0:
		return nil, fmt.Errorf("eos: %s checkpoint at step %d < 0", what, c.Step)
	case !(v[0] > 0):
		return nil, fmt.Errorf("eos: %s checkpoint loss bound %g out of range (0, +Inf]", what, v[0])
	case !isCount(v[1]) || !isCount(v[2]):
		return nil, fmt.Errorf("eos: %s checkpoint counts %g HVPs and %g unconverged measurements: not counts", what, v[1], v[2])
	}
	return &GDState{K: c.Step, X: c.Params[0], LossBound: v[0], HVPs: int(v[1]), Unconverged: int(v[2]), Sharpness: v[3]}, nil
}

// isCount reports whether x, read from a checkpoint, is a count: a
// non-negative integer exactly representable as a float64.
func isCount(x float64) bool { return x >= 0 && x <= 1<<53 && x == math.Trunc(x) }
