package eos

import (
	"bytes"
	"errors"
	"hash/crc32"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// ckptSameCheckpoint reports whether a and b hold the same fields, floats
// compared bit for bit.
func ckptSameCheckpoint(a, b *Checkpoint) bool {
	if a.Kind != b.Kind || a.Step != b.Step || len(a.Params) != len(b.Params) || len(a.Scalars) != len(b.Scalars) ||
		!bytes.Equal(a.Eigensolver, b.Eigensolver) || !bytes.Equal(a.RNG, b.RNG) || !bytes.Equal(a.Recorder, b.Recorder) {
		return false
	}
	for i := range a.Params {
		if !sameBits(a.Params[i], b.Params[i]) {
			return false
		}
	}
	for k, v := range a.Scalars {
		w, ok := b.Scalars[k]
		if !ok || math.Float64bits(v) != math.Float64bits(w) {
			return false
		}
	}
	if len(a.Blobs) != len(b.Blobs) {
		return false
	}
	for k, v := range a.Blobs {
		w, ok := b.Blobs[k]
		if !ok || !bytes.Equal(v, w) {
			return false
		}
	}
	return true
}

func ckptSample() *Checkpoint {
	return &Checkpoint{
		Kind:        "gd",
		Step:        123456,
		Params:      [][]float64{{1, -0.0, math.NaN(), math.Inf(-1), 0x1p-1074}, {}, {math.Pi}},
		Scalars:     map[string]float64{"loss_bound": math.Inf(1), "hvps": 42, "sharpness": math.NaN(), "eta": 0.077},
		Eigensolver: []byte("eigensolver state"),
		RNG:         []byte{0, 1, 2, 255},
		Recorder:    []byte("recorder\x00state"),
		Blobs:       map[string][]byte{"flow": []byte("flow state"), "gd-eigensolver": {9, 8, 7}, "z": {0}},
	}
}

func TestCheckpointRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    *Checkpoint
	}{
		{"empty", &Checkpoint{}},
		{"full", ckptSample()},
		{"negative step", &Checkpoint{Kind: "model", Step: -3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := tc.c.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			var got Checkpoint
			if err := got.UnmarshalBinary(b); err != nil {
				t.Fatal(err)
			}
			// Oracle: the checkpoint that was encoded, field by field
			// and bit by bit.
			if !ckptSameCheckpoint(&got, tc.c) {
				t.Errorf("decoded %+v, want %+v", got, *tc.c)
			}
			// Scalars are sorted by name, so equal checkpoints encode
			// to equal bytes whatever the map order.
			again, _ := got.MarshalBinary()
			if !bytes.Equal(again, b) {
				t.Error("re-encoding the decoded checkpoint gives different bytes")
			}
		})
	}
}

// TestCheckpointVersion1 reads a checkpoint in the format of version 1,
// which had no blobs, as the eos gd of earlier releases wrote it. Oracle:
// the fields encoded, written here field by field in that format.
func TestCheckpointVersion1(t *testing.T) {
	e := &encoder{b: []byte(checkpointMagic)}
	e.u32(1)
	e.str("gd")
	e.int(7)
	e.u64(1)
	e.floats([]float64{1.5, -2})
	e.u64(1)
	e.str("eta")
	e.f64(0.25)
	e.bytes([]byte("lz"))
	e.bytes(nil)
	e.bytes([]byte("rec"))
	e.u32(crc32.ChecksumIEEE(e.b))
	var c Checkpoint
	if err := c.UnmarshalBinary(e.b); err != nil {
		t.Fatal(err)
	}
	want := &Checkpoint{Kind: "gd", Step: 7, Params: [][]float64{{1.5, -2}}, Scalars: map[string]float64{"eta": 0.25},
		Eigensolver: []byte("lz"), Recorder: []byte("rec")}
	if !ckptSameCheckpoint(&c, want) {
		t.Errorf("decoded %+v, want %+v", c, *want)
	}
}

func TestCheckpointDamaged(t *testing.T) {
	good, err := ckptSample().MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var c Checkpoint
	// Every truncation, every single flipped bit and every extra byte
	// must be refused: the CRC-32 detects all bursts of up to 32 bits.
	for n := range len(good) {
		if err := c.UnmarshalBinary(good[:n]); err == nil {
			t.Errorf("checkpoint truncated to %d of %d bytes accepted", n, len(good))
		}
	}
	for i := range good {
		bad := bytes.Clone(good)
		bad[i] ^= 1 << (i % 8)
		if err := c.UnmarshalBinary(bad); err == nil {
			t.Errorf("checkpoint with bit %d of byte %d flipped accepted", i%8, i)
		}
	}
	if err := c.UnmarshalBinary(append(bytes.Clone(good), 0)); err == nil {
		t.Error("checkpoint with a trailing byte accepted")
	}
	// A later version, correctly checksummed, is refused by name.
	future := &encoder{b: []byte(checkpointMagic)}
	future.u32(checkpointVersion + 1)
	future.str("gd")
	future.u32(crc32.ChecksumIEEE(future.b))
	if err := c.UnmarshalBinary(future.b); err == nil || !strings.Contains(err.Error(), "version 3") {
		t.Errorf("a version-3 checkpoint: error %v, want one naming the version", err)
	}
	// A length field claiming more than the file holds, with a valid
	// checksum, is refused without allocating it.
	huge := &encoder{b: []byte(checkpointMagic)}
	huge.u32(checkpointVersion)
	huge.str("gd")
	huge.int(1)
	huge.u64(1 << 60)
	huge.u32(crc32.ChecksumIEEE(huge.b))
	if err := c.UnmarshalBinary(huge.b); err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("a checkpoint claiming 2⁶⁰ vectors: error %v, want truncated", err)
	}
	if err := c.UnmarshalBinary([]byte("step,loss\n0,1\n")); err == nil || !strings.Contains(err.Error(), "not an eoskit checkpoint") {
		t.Errorf("a CSV file: error %v, want one saying it is not a checkpoint", err)
	}
}

func TestCheckpointSave(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "checkpoint")
	first, second := ckptSample(), ckptSample()
	second.Step++
	for _, c := range []*Checkpoint{first, second} {
		if err := c.Save(path); err != nil {
			t.Fatal(err)
		}
	}
	got, err := LoadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	if !ckptSameCheckpoint(got, second) {
		t.Errorf("loaded step %d, want the last saved, step %d", got.Step, second.Step)
	}
	saved, _ := os.ReadFile(path)

	// A write that fails half way leaves the previous checkpoint intact
	// and no temporary file behind.
	errDisk := errors.New("disk full")
	err = writeAtomic(path, func(w io.Writer) error {
		w.Write(saved[:len(saved)/2])
		return errDisk
	})
	if !errors.Is(err, errDisk) {
		t.Errorf("failed write returned %v, want the write's error", err)
	}
	if b, _ := os.ReadFile(path); !bytes.Equal(b, saved) {
		t.Error("a failed write changed the previous checkpoint")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want only the checkpoint", names)
	}

	// Load errors name the file.
	os.WriteFile(path, saved[:len(saved)-1], 0o644)
	if _, err := LoadCheckpoint(path); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("truncated file: error %v, want one naming %s", err, path)
	}
}

// ckptMatFact is the depth-3 factorisation of diag(6, 1) at η = 0.077,
// which GD runs in a period-4 orbit (MODEL.md §3): the sharpness changes
// at every step, so the eigensolver's warm start and generator matter.
func ckptMatFact(t *testing.T) (*MatFact, []float64) {
	t.Helper()
	m, err := NewMatFact(3, DiagTarget(6, 1))
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float64, m.Dim())
	m.InitScaled(x, rand.New(rand.NewPCG(1, 2)), 0.3)
	return m, x
}

func TestLanczosMarshal(t *testing.T) {
	m, x0 := ckptMatFact(t)
	// Iterates of GD: the points the eigensolver is called at.
	const calls = 12
	xs := make([][]float64, calls)
	g := make([]float64, m.Dim())
	x := append([]float64(nil), x0...)
	for i := range xs {
		xs[i] = append([]float64(nil), x...)
		m.Grad(g, x)
		for j := range x {
			x[j] -= 0.077 * g[j]
		}
	}
	for _, k := range []int{1, 2} {
		set := &LanczosSettings{K: k}
		// Oracle: one Lanczos called at every point without stopping.
		ref, _ := NewLanczos(m, set)
		wantVals := make([][]float64, calls)
		wantHVPs := make([]int, calls)
		for i := range calls {
			wantVals[i] = make([]float64, k)
			wantHVPs[i], _ = ref.Top(wantVals[i], nil, xs[i], nil)
		}
		for _, split := range []int{0, 1, 5} {
			first, _ := NewLanczos(m, set)
			vals := make([]float64, k)
			for i := range split {
				first.Top(vals, nil, xs[i], nil)
			}
			state, err := first.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			second, _ := NewLanczos(m, set)
			if err := second.UnmarshalBinary(state); err != nil {
				t.Fatal(err)
			}
			for i := split; i < calls; i++ {
				h, _ := second.Top(vals, nil, xs[i], nil)
				if h != wantHVPs[i] || !sameBits(vals, wantVals[i]) {
					t.Errorf("K=%d restored after %d calls: call %d gave %v in %d HVPs, uninterrupted %v in %d",
						k, split, i, vals, h, wantVals[i], wantHVPs[i])
				}
			}
		}
	}

	l, _ := NewLanczos(m, nil)
	state, _ := l.MarshalBinary()
	q := NewQuadratic(geometric(m.Dim()+1, 1, 0.5), nil)
	for _, tc := range []struct {
		name string
		p    Problem
		set  *LanczosSettings
	}{
		{"K", m, &LanczosSettings{K: 2}},
		{"MaxIter", m, &LanczosSettings{MaxIter: 5}},
		{"Tol", m, &LanczosSettings{Tol: 1e-8}},
		{"dimension", q, nil},
	} {
		other, _ := NewLanczos(tc.p, tc.set)
		if err := other.UnmarshalBinary(state); err == nil {
			t.Errorf("state restored into a Lanczos with another %s", tc.name)
		}
	}
	for n := range len(state) {
		if err := l.UnmarshalBinary(state[:n]); err == nil {
			t.Errorf("state truncated to %d of %d bytes accepted", n, len(state))
		}
	}
}

func TestWindowMarshal(t *testing.T) {
	// Steps with distinct values, NaN sharpness at odd steps, iterates of
	// length 3.
	rng := rand.New(rand.NewPCG(1, 2))
	const steps = 9
	in := make([]Step, steps)
	for k := range in {
		s := rng.NormFloat64()
		if k%2 == 1 {
			s = math.NaN()
		}
		in[k] = Step{K: k, X: []float64{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()},
			Loss: rng.Float64(), GradNorm: rng.Float64(), Sharpness: s}
	}
	rowBits := func(rows []Row) []float64 {
		var v []float64
		for _, r := range rows {
			v = append(v, float64(r.Step), r.Loss, r.Sharpness, r.GradNorm, r.LossMean2, r.UNorm)
		}
		return v
	}
	run := func(w *Window, from, to int, rows []Row) []Row {
		for k := from; k < to; k++ {
			if r, ok := w.Push(&in[k]); ok {
				rows = append(rows, r)
			}
		}
		return rows
	}
	// Oracle: the rows of one window fed every step.
	var ref Window
	want := rowBits(ref.Drain(run(&ref, 0, steps, nil)))
	for split := range steps + 1 {
		var first, second Window
		rows := run(&first, 0, split, nil)
		b, err := first.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if err := second.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
		got := rowBits(second.Drain(run(&second, split, steps, rows)))
		if !sameBits(got, want) {
			t.Errorf("window restored after %d steps: rows %v, uninterrupted %v", split, got, want)
		}
	}
}

// stopAt is a Checkpointer that stops a GD run before step at, saving then
// what a resume needs: the state, the eigensolver, the CSV written so far and
// the CSVWriter; it also records every step it was called before.
type stopAt struct {
	at    int
	lz    *Lanczos
	csv   *CSVWriter
	out   *bytes.Buffer
	calls []int

	saved  *Checkpoint
	prefix []byte
}

var errStopAt = errors.New("stopped for the test")

func (s *stopAt) Checkpoint(st *GDState) error {
	s.calls = append(s.calls, st.K)
	if st.K != s.at {
		return nil
	}
	if err := s.csv.FlushBuffer(); err != nil {
		return err
	}
	s.prefix = bytes.Clone(s.out.Bytes())
	rec, err := s.csv.MarshalBinary()
	if err != nil {
		return err
	}
	if s.saved, err = NewGDCheckpoint(st, s.lz, rec); err != nil {
		return err
	}
	return errStopAt
}

func TestGDResume(t *testing.T) {
	const eta, steps = 0.077, 60
	for _, tc := range []struct {
		name           string
		eigEvery, eigK int
		at             int // step the run stops before
	}{
		{"sharpness every step", 1, 1, 23},
		{"two eigenvalues", 1, 2, 23},
		{"between measurements", 7, 1, 23},
		{"after the first step", 1, 1, 1},
		{"before the last step", 3, 1, steps},
		{"no sharpness", -1, 1, 30},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, x0 := ckptMatFact(t)
			newLanczos := func() *Lanczos {
				l, err := NewLanczos(m, &LanczosSettings{K: tc.eigK})
				if err != nil {
					t.Fatal(err)
				}
				return l
			}
			settings := func(lz *Lanczos, obs ...Observer) *GDSettings {
				return &GDSettings{Steps: steps, EigEvery: tc.eigEvery, Eigensolver: lz, Observers: obs}
			}

			// Oracle: the run that was not stopped.
			var want bytes.Buffer
			x := append([]float64(nil), x0...)
			wantRes, err := GD(x, m, eta, settings(newLanczos(), NewCSVWriter(&want)))
			if err != nil {
				t.Fatal(err)
			}
			wantX := append([]float64(nil), x...)

			var out bytes.Buffer
			lz := newLanczos()
			csv := NewCSVWriter(&out)
			stop := &stopAt{at: tc.at, lz: lz, csv: csv, out: &out}
			set := settings(lz, csv)
			set.Checkpointer = stop
			x = append([]float64(nil), x0...)
			if _, err := GD(x, m, eta, set); !errors.Is(err, errStopAt) {
				t.Fatalf("stopped run: error %v, want the checkpointer's", err)
			}
			if len(stop.calls) != tc.at || stop.calls[0] != 1 || stop.calls[len(stop.calls)-1] != tc.at {
				t.Errorf("checkpointer called before steps %v, want 1 … %d", stop.calls, tc.at)
			}
			// Through the file format, as a command would.
			b, err := stop.saved.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			var ck Checkpoint
			if err := ck.UnmarshalBinary(b); err != nil {
				t.Fatal(err)
			}
			st, err := ck.GDState()
			if err != nil {
				t.Fatal(err)
			}

			lz = newLanczos()
			if err := lz.UnmarshalBinary(ck.Eigensolver); err != nil {
				t.Fatal(err)
			}
			got := bytes.NewBuffer(stop.prefix)
			csv = NewCSVWriter(got)
			if err := csv.UnmarshalBinary(ck.Recorder); err != nil {
				t.Fatal(err)
			}
			resumed := &stopAt{at: -1, csv: csv, out: got}
			set = settings(lz, csv)
			set.Checkpointer = resumed
			set.Resume = st
			x = make([]float64, m.Dim()) // GD copies the state in
			res, err := GD(x, m, eta, set)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want.Bytes()) {
				t.Errorf("resumed CSV differs from the uninterrupted one:\n%s\nwant\n%s", got, &want)
			}
			if !sameBits(x, wantX) {
				t.Error("resumed run ends at another iterate")
			}
			if res.Steps != wantRes.Steps || res.HVPs != wantRes.HVPs || res.Unconverged != wantRes.Unconverged ||
				!sameBits([]float64{res.Loss, res.Sharpness}, []float64{wantRes.Loss, wantRes.Sharpness}) {
				t.Errorf("resumed result %+v, uninterrupted %+v", *res, *wantRes)
			}
			if n := len(resumed.calls); n != steps-tc.at || (n > 0 && resumed.calls[0] != tc.at+1) {
				t.Errorf("resumed run called the checkpointer before steps %v, want %d … %d", resumed.calls, tc.at+1, steps)
			}
		})
	}
}

func TestGDResumeErrors(t *testing.T) {
	m, x0 := ckptMatFact(t)
	l2, _ := NewLanczos(m, &LanczosSettings{K: 2})
	other, _ := NewLanczos(NewQuadratic([]float64{2, 1}, nil), nil)
	state := func(k int, bound float64, hvps, unconv int) *GDState {
		return &GDState{K: k, X: x0, LossBound: bound, HVPs: hvps, Unconverged: unconv, Sharpness: math.NaN()}
	}
	for _, tc := range []struct {
		set  GDSettings
		want string
	}{
		{GDSettings{Steps: 10, Resume: state(11, 1, 0, 0)}, "GDState.K = 11"},
		{GDSettings{Steps: 10, Resume: state(-1, 1, 0, 0)}, "GDState.K = -1"},
		{GDSettings{Resume: state(1001, 1, 0, 0)}, "GDState.K = 1001"}, // Steps zero means 1000
		{GDSettings{Steps: 10, Resume: state(3, 0, 0, 0)}, "GDState.LossBound = 0"},
		{GDSettings{Steps: 10, Resume: state(3, math.NaN(), 0, 0)}, "GDState.LossBound = NaN"},
		{GDSettings{Steps: 10, Resume: state(3, 1, -1, 0)}, "GDState.HVPs = -1"},
		{GDSettings{Steps: 10, Resume: state(3, 1, 0, -2)}, "GDState.Unconverged = -2"},
		{GDSettings{Steps: 10, Eigensolver: other}, "dimension 2"},
		{GDSettings{Steps: 10, Eigensolver: l2, EigK: 1}, "EigK = 1 differs"},
	} {
		x := append([]float64(nil), x0...)
		if _, err := GD(x, m, 0.077, &tc.set); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want one containing %q", tc.set, err, tc.want)
		}
	}

	ok, _ := NewGDCheckpoint(state(3, 1, 4, 0), nil, nil)
	for _, tc := range []struct {
		edit func(c *Checkpoint)
		want string
	}{
		{func(c *Checkpoint) { c.Kind = "model" }, `"model" run`},
		{func(c *Checkpoint) { c.Params = nil }, "0 parameter vectors"},
		{func(c *Checkpoint) { delete(c.Scalars, "hvps") }, `lacks "hvps"`},
		{func(c *Checkpoint) { c.Scalars["hvps"] = 1.5 }, "not counts"},
		{func(c *Checkpoint) { c.Scalars["unconverged"] = -1 }, "not counts"},
		{func(c *Checkpoint) { c.Scalars["loss_bound"] = 0 }, "loss bound 0"},
		{func(c *Checkpoint) { c.Step = -1 }, "step -1"},
	} {
		b, _ := ok.MarshalBinary()
		var c Checkpoint
		c.UnmarshalBinary(b)
		tc.edit(&c)
		if _, err := c.GDState(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want one containing %q", err, tc.want)
		}
	}
}
