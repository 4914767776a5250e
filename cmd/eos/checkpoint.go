package main

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/eoskit/eoskit/eos"
)

// exitInterrupted is the exit status of a run stopped by SIGINT or SIGTERM
// (128 + SIGINT, what shells report for a process killed by it): the trace
// so far and a checkpoint are kept, and --resume continues the run.
const exitInterrupted = 130

// errInterrupted is wrapped by the error of a run stopped by SIGINT or
// SIGTERM; it maps to exitInterrupted.
var errInterrupted = errors.New("interrupted")

// checkpointName is the checkpoint file in a run directory.
const checkpointName = "checkpoint"

// checkpointFlags are the flags of commands whose runs can be checkpointed
// and resumed.
type checkpointFlags struct {
	every  int
	resume string
}

func (c *checkpointFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&c.every, "checkpoint-every", 0, "save DIR/checkpoint every K steps, so that --resume can continue the run after a crash or kill (0: only when interrupted by SIGINT or SIGTERM)")
	fs.StringVar(&c.resume, "resume", "", "continue the run in this directory from its checkpoint, with the flags recorded in its config.json; the trace ends as if the run had not stopped")
}

// resumable is the options of a command whose runs can be resumed.
type resumable interface {
	flags() (*runFlags, *checkpointFlags)
}

// parseResumable parses args into the flag set newFlags makes for the
// command. With --resume DIR it parses instead, into a fresh flag set, the
// flags recorded in DIR/config.json (recordedFlags) and points --out at
// DIR. It returns the flag set, the options and DIR, "" for a new run.
func parseResumable[O resumable](command string, newFlags func() (*flag.FlagSet, O), args []string) (*flag.FlagSet, O, string, error) {
	fs, o := newFlags()
	if err := parseFlags(fs, args); err != nil {
		return fs, o, "", err
	}
	_, cf := o.flags()
	dir := cf.resume
	if dir == "" {
		return fs, o, "", nil
	}
	given := fs
	fs, o = newFlags()
	if err := recordedFlags(fs, given, command, dir); err != nil {
		return fs, o, "", err
	}
	rf, _ := o.flags()
	rf.out = dir
	return fs, o, dir, nil
}

func (c *checkpointFlags) validate() error {
	if c.every < 0 {
		return usagef("--checkpoint-every %d: must be ≥ 0 (0: only when interrupted)", c.every)
	}
	return nil
}

// recordedFlags parses into fs, a fresh flag set of the command, the flags
// recorded in dir/config.json for a resume, then applies those of given, the
// command line, that may change on resume (--quiet, --checkpoint-every).
// Any other flag on the command line must have its recorded value, and
// --out, if given, must be dir: a resumed run continues the recorded one in
// its own directory. Every value is recorded, defaults included, so a
// default changed since the run started does not change the resumed run.
func recordedFlags(fs, given *flag.FlagSet, command, dir string) error {
	path := filepath.Join(dir, "config.json")
	cfg, err := readConfig(path)
	if err != nil {
		return err
	}
	if cfg.Command != command {
		return usagef("--resume %s: %s records an eos %s run, not eos %s", dir, path, cfg.Command, command)
	}
	for _, name := range sortedKeys(cfg.Flags) {
		switch name {
		case "out", "resume", "force":
			continue
		}
		if fs.Lookup(name) == nil {
			return usagef("%s records the flag --%s, which this eos %s does not have: resume with the eoskit that started the run (commit %s)", path, name, command, cfg.Commit)
		}
		if err := fs.Set(name, cfg.Flags[name]); err != nil {
			return usagef("%s is malformed: --%s %q: %v", path, name, cfg.Flags[name], err)
		}
	}
	given.Visit(func(f *flag.Flag) {
		if err != nil {
			return
		}
		switch f.Name {
		case "resume", "force":
		case "quiet", "checkpoint-every":
			err = fs.Set(f.Name, f.Value.String())
		case "out":
			if filepath.Clean(f.Value.String()) != filepath.Clean(dir) {
				err = usagef("--out %s differs from --resume %s: a resumed run continues in its own directory (omit --out)", f.Value, dir)
			}
		default:
			if rec := fs.Lookup(f.Name).Value.String(); rec != f.Value.String() {
				err = usagef("--%s %s differs from %s recorded in %s: a resumed run keeps the recorded flags (omit --%s)", f.Name, f.Value, rec, path, f.Name)
			}
		}
	})
	return err
}

// traceWriter is trace.csv being written. It counts the bytes written and
// keeps their CRC-32, so that a checkpoint records where the trace stood
// and a resume can check that the file still begins with those bytes.
type traceWriter struct {
	f   *os.File
	tmp *atomicFile // set when the trace is written under a temporary name
	n   int64
	crc uint32
}

// create opens path for a new trace: in place when inPlace is set, so that
// a run killed at any moment leaves the trace a checkpoint refers to;
// otherwise under a temporary name, renamed into place by close.
func (t *traceWriter) create(path string, inPlace bool) error {
	if !inPlace {
		tmp, err := createAtomic(path)
		if err != nil {
			return err
		}
		t.f, t.tmp = tmp.File, tmp
		return nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	t.f = f
	return nil
}

// resume opens the trace at path to continue it from a checkpoint that
// recorded it at offset bytes with checksum crc: it checks those bytes and
// cuts off what follows them (rows written after the checkpoint, a partial
// row left by a kill). A trace that does not match is a usage error naming
// it, and nothing is changed then.
func (t *traceWriter) resume(path string, offset int64, crc uint32) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return usagef("%s: %v: a resume needs the trace of the interrupted run", path, err)
	}
	h := crc32.NewIEEE()
	if n, err := io.CopyN(h, f, offset); err != nil {
		f.Close()
		return usagef("%s holds %d bytes, fewer than the %d its checkpoint recorded: not the trace of that run", path, n, offset)
	}
	if h.Sum32() != crc {
		f.Close()
		return usagef("%s does not match its checkpoint (the first %d bytes changed since): not the trace of that run", path, offset)
	}
	if err := f.Truncate(offset); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		f.Close()
		return err
	}
	t.f, t.n, t.crc = f, offset, crc
	return nil
}

func (t *traceWriter) Write(p []byte) (int, error) {
	n, err := t.f.Write(p)
	t.crc = crc32.Update(t.crc, crc32.IEEETable, p[:n])
	t.n += int64(n)
	return n, err
}

// close closes the trace, renaming it into place if it was written under a
// temporary name.
func (t *traceWriter) close() error {
	if t.tmp != nil {
		return t.tmp.Commit()
	}
	return t.f.Close()
}

// gdRecord is the recorder state in a checkpoint of eos gd: how far
// trace.csv went and its checksum, the state of its CSV writer, and the last
// losses kept for the period in the final summary.
type gdRecord struct {
	offset int64
	crc    uint32
	csv    []byte
	tail   []float64
}

// gdRecordVersion is the version of the encoding of gdRecord.
const gdRecordVersion = 1

func (r *gdRecord) marshal() []byte {
	le := binary.LittleEndian
	b := le.AppendUint32(nil, gdRecordVersion)
	b = le.AppendUint64(b, uint64(r.offset))
	b = le.AppendUint32(b, r.crc)
	b = le.AppendUint64(b, uint64(len(r.csv)))
	b = append(b, r.csv...)
	b = le.AppendUint64(b, uint64(len(r.tail)))
	for _, v := range r.tail {
		b = le.AppendUint64(b, math.Float64bits(v))
	}
	return b
}

func (r *gdRecord) unmarshal(b []byte) error {
	le := binary.LittleEndian
	errBad := errors.New("recorder state truncated or malformed")
	if len(b) < 4+8+4+8 || le.Uint32(b) != gdRecordVersion {
		return errBad
	}
	r.offset = int64(le.Uint64(b[4:]))
	r.crc = le.Uint32(b[12:])
	n := le.Uint64(b[16:])
	b = b[24:]
	if r.offset < 0 || n > uint64(len(b)) {
		return errBad
	}
	r.csv, b = b[:n], b[n:]
	if len(b) < 8 {
		return errBad
	}
	n, b = le.Uint64(b), b[8:]
	if n != uint64(len(b))/8 || len(b)%8 != 0 {
		return errBad
	}
	r.tail = make([]float64, n)
	for i := range r.tail {
		r.tail[i] = math.Float64frombits(le.Uint64(b[8*i:]))
	}
	return nil
}

// gdCheckpointer saves the checkpoints of eos gd, when its runCheckpointer
// says so. The trace is flushed and synced to disk before the checkpoint
// that records its length is saved, so that the checkpoint on disk never
// refers to bytes that are not.
type gdCheckpointer struct {
	runCheckpointer
	eta   float64
	trace *traceWriter
	csv   *eos.CSVWriter
	tail  *lastLosses
	lz    *eos.Lanczos // nil when the sharpness is not measured
}

func (c *gdCheckpointer) Checkpoint(s *eos.GDState) error {
	return c.checkpoint(s.K, func() (*eos.Checkpoint, error) { return c.save(s) })
}

func (c *gdCheckpointer) save(s *eos.GDState) (*eos.Checkpoint, error) {
	if err := c.csv.FlushBuffer(); err != nil {
		return nil, err
	}
	if err := c.trace.f.Sync(); err != nil {
		return nil, err
	}
	csv, err := c.csv.MarshalBinary()
	if err != nil {
		return nil, err
	}
	rec := gdRecord{offset: c.trace.n, crc: c.trace.crc, csv: csv, tail: c.tail.losses()}
	ck, err := eos.NewGDCheckpoint(s, c.lz, rec.marshal())
	if err != nil {
		return nil, err
	}
	ck.Scalars["eta"] = c.eta
	return ck, nil
}

// restore loads the checkpoint of the run in dir and puts the checkpointer's
// eigensolver, CSV writer and loss tail in the state it records, then opens
// trace.csv to continue it. It returns the GD state to resume from. Every
// check is made before the trace is cut, and a checkpoint or trace that is
// missing, malformed or from another run is a usage error naming the file.
func (c *gdCheckpointer) restore(dir string, p eos.Problem, steps int) (*eos.GDState, error) {
	ck, badCheckpoint, err := loadRunCheckpoint(dir)
	if err != nil {
		return nil, err
	}
	bad := func(format string, args ...any) error { return badCheckpoint(fmt.Errorf(format, args...)) }
	st, err := ck.GDState()
	if err != nil {
		return nil, bad("%v", err)
	}
	if eta := ck.Scalars["eta"]; eta != c.eta {
		return nil, bad("recorded at η = %g, but the run has --eta %g", eta, c.eta)
	}
	if len(st.X) != p.Dim() {
		return nil, bad("holds %d parameters, but the problem has %d", len(st.X), p.Dim())
	}
	if st.K > steps {
		return nil, bad("at step %d, beyond the %d steps of the run", st.K, steps)
	}
	switch {
	case c.lz == nil && ck.Eigensolver != nil:
		return nil, bad("holds an eigensolver state, but the run does not measure the sharpness")
	case c.lz != nil && ck.Eigensolver == nil:
		return nil, bad("holds no eigensolver state, but the run measures the sharpness")
	case c.lz != nil:
		if err := c.lz.UnmarshalBinary(ck.Eigensolver); err != nil {
			return nil, bad("%v", err)
		}
	}
	var rec gdRecord
	if err := rec.unmarshal(ck.Recorder); err != nil {
		return nil, bad("%v", err)
	}
	if err := c.csv.UnmarshalBinary(rec.csv); err != nil {
		return nil, bad("%v", err)
	}
	if len(rec.tail) > c.tail.n {
		return nil, bad("holds %d recent losses, more than the %d kept", len(rec.tail), c.tail.n)
	}
	c.tail.buf = append(c.tail.buf[:0], rec.tail...)
	if err := c.trace.resume(filepath.Join(dir, "trace.csv"), rec.offset, rec.crc); err != nil {
		return nil, err
	}
	return st, nil
}

// runCheckpointer saves the checkpoints of eos model and eos kinetic, whose
// library runs hand it a way to save their whole state (save): every
// `every` steps when every > 0, and when ctx is done (SIGINT, SIGTERM),
// after which it stops the run with an error wrapping errInterrupted. The
// outputs of these commands are written when the run ends or stops, from
// the records the checkpoint holds, so the checkpoint alone is enough to
// resume.
type runCheckpointer struct {
	ctx   context.Context
	every int
	path  string
	// recorder, if not nil, is stored as the checkpoint's Recorder: what
	// the command keeps besides the library's state (eos gd's save sets
	// its own).
	recorder []byte
	stopped  int // the step before which the run was interrupted
}

func (c *runCheckpointer) checkpoint(k int, save func() (*eos.Checkpoint, error)) error {
	interrupted := c.ctx.Err() != nil
	if !interrupted && (c.every == 0 || k%c.every != 0) {
		return nil
	}
	ck, err := save()
	if err == nil {
		if c.recorder != nil {
			ck.Recorder = c.recorder
		}
		err = ck.Save(c.path)
	}
	if !interrupted {
		return err
	}
	if err != nil {
		return fmt.Errorf("interrupted, but the checkpoint could not be saved: %w", err)
	}
	c.stopped = k
	return errInterrupted
}

// remove deletes the checkpoint of a run that completed or diverged, which
// could resume nothing.
func (c *runCheckpointer) remove() error {
	if err := os.Remove(c.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// loadRunCheckpoint reads the checkpoint of the run in dir for a resume. A
// checkpoint that is missing or damaged is a usage error naming it; bad
// formats the errors of a checkpoint that does not fit the run.
func loadRunCheckpoint(dir string) (ck *eos.Checkpoint, bad func(error) error, err error) {
	path := filepath.Join(dir, checkpointName)
	bad = func(err error) error {
		return usagef("%s: %s; start the run again with eos rerun %s", path, strings.TrimPrefix(err.Error(), "eos: "), dir)
	}
	ck, err = eos.LoadCheckpoint(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, bad, usagef("%s does not exist: the run completed or diverged, or was killed before its first checkpoint (--checkpoint-every); start it again with eos rerun %s", path, dir)
	case err != nil:
		return nil, bad, usagef("%s; start the run again with eos rerun %s", strings.TrimPrefix(err.Error(), "eos: "), dir)
	}
	return ck, bad, nil
}

// onFirstStep calls fn when the run observes its first step: a resume is
// announced once the library has accepted its checkpoint, not before a
// refusal.
type onFirstStep struct{ fn func() }

func (o *onFirstStep) Observe(*eos.Step) error {
	if o.fn != nil {
		o.fn()
		o.fn = nil
	}
	return nil
}

func (o *gdOptions) flags() (*runFlags, *checkpointFlags)      { return &o.rf, &o.cf }
func (o *modelOptions) flags() (*runFlags, *checkpointFlags)   { return &o.rf, &o.cf }
func (o *kineticOptions) flags() (*runFlags, *checkpointFlags) { return &o.rf, &o.cf }
