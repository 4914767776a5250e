package eos

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"time"

	"gonum.org/v1/gonum/floats"
)

// Row is one observed step with its two-step diagnostics, which need the
// steps after it:
//
//	LossMean2 = (E(θ_k) + E(θ_{k+1})) / 2,
//	UNorm     = ‖(θ_k − 2θ_{k+1} + θ_{k+2}) / 4‖ = ‖u_k‖,
//
// NaN where those later steps were not observed.
type Row struct {
	Step      int
	Loss      float64
	Sharpness float64 // NaN when not measured at this step
	GradNorm  float64
	LossMean2 float64
	UNorm     float64
}

// Window is the sliding window of the last three observed steps from which
// the two-step diagnostics of a Row are computed; Trace and CSVWriter are
// built on it. It copies the iterates, so it holds three vectors of length P.
// The zero Window is ready to use.
type Window struct {
	rows [3]Row
	x    [3][]float64
	n    int // steps pushed since the last Drain
	osc  []float64
}

// Push adds a step, which must follow the previous one (K one larger), and
// returns the row of the step two before it, now complete, with ok true;
// ok is false while fewer than three steps are held. It panics on a
// non-consecutive step or an iterate of a different length.
func (w *Window) Push(s *Step) (r Row, ok bool) {
	if w.n > 0 && s.K != w.rows[(w.n-1)%3].Step+1 {
		panic("eos: non-consecutive step pushed to a Window")
	}
	if w.osc == nil || len(w.osc) != len(s.X) {
		if w.n > 0 {
			panic("eos: iterate has wrong length")
		}
		for i := range w.x {
			w.x[i] = make([]float64, len(s.X))
		}
		w.osc = make([]float64, len(s.X))
	}
	i := w.n % 3
	copy(w.x[i], s.X)
	w.rows[i] = Row{
		Step:      s.K,
		Loss:      s.Loss,
		Sharpness: s.Sharpness,
		GradNorm:  s.GradNorm,
		LossMean2: math.NaN(),
		UNorm:     math.NaN(),
	}
	w.n++
	if w.n < 3 {
		return Row{}, false
	}
	old, mid, cur := w.n%3, (w.n+1)%3, (w.n+2)%3
	r = w.rows[old]
	r.LossMean2 = (r.Loss + w.rows[mid].Loss) / 2
	Oscillation(w.osc, w.x[old], w.x[mid], w.x[cur])
	r.UNorm = floats.Norm(w.osc, 2)
	return r, true
}

// Drain appends to dst the rows not yet returned by Push (the last two
// steps, or fewer), with NaN where the diagnostics need unseen steps, and
// empties the window so that a new run can start at any K.
func (w *Window) Drain(dst []Row) []Row {
	if w.n >= 2 {
		mid, cur := (w.n-2)%3, (w.n-1)%3
		r := w.rows[mid]
		r.LossMean2 = (r.Loss + w.rows[cur].Loss) / 2
		dst = append(dst, r, w.rows[cur])
	} else if w.n == 1 {
		dst = append(dst, w.rows[0])
	}
	w.n = 0
	return dst
}

// windowStateVersion is the version of the encoding of Window.MarshalBinary.
const windowStateVersion = 1

// MarshalBinary encodes the window: the number of steps pushed and the last
// two steps with their iterates, which are all that later Push and Drain
// calls read.
func (w *Window) MarshalBinary() ([]byte, error) {
	var e encoder
	e.str("Window")
	e.u32(windowStateVersion)
	e.int(w.n)
	held := min(w.n, 2)
	e.int(held)
	for j := w.n - held; j < w.n; j++ {
		r := &w.rows[j%3]
		e.int(r.Step)
		for _, v := range [...]float64{r.Loss, r.Sharpness, r.GradNorm, r.LossMean2, r.UNorm} {
			e.f64(v)
		}
		e.floats(w.x[j%3])
	}
	return e.b, nil
}

// UnmarshalBinary restores a window encoded by MarshalBinary, replacing
// what w held. It returns an error, leaving w unchanged, when b is not such
// an encoding.
func (w *Window) UnmarshalBinary(b []byte) error {
	d := decoder{b: b}
	if tag, v := d.str(), d.u32(); d.err == nil && (tag != "Window" || v != windowStateVersion) {
		return fmt.Errorf("eos: not a Window state of version %d (%q version %d)", windowStateVersion, tag, v)
	}
	n, held := d.int(), d.int()
	if d.err == nil && (n < 0 || held != min(n, 2)) {
		return fmt.Errorf("eos: Window state holds %d of %d steps, want min(%d, 2)", held, n, n)
	}
	var rows [2]Row
	var xs [2][]float64
	for i := range max(held, 0) {
		r := &rows[i]
		r.Step = d.int()
		r.Loss, r.Sharpness, r.GradNorm, r.LossMean2, r.UNorm = d.f64(), d.f64(), d.f64(), d.f64(), d.f64()
		xs[i] = d.floats()
	}
	if err := d.finish("Window state"); err != nil {
		return err
	}
	if held == 2 && (rows[1].Step != rows[0].Step+1 || len(xs[0]) != len(xs[1])) {
		return errors.New("eos: Window state holds non-consecutive steps or iterates of different lengths")
	}
	*w = Window{n: n}
	if held > 0 {
		p := len(xs[0])
		for i := range w.x {
			w.x[i] = make([]float64, p)
		}
		w.osc = make([]float64, p)
	}
	for i := range held {
		j := (n - held + i) % 3
		w.rows[j] = rows[i]
		copy(w.x[j], xs[i])
	}
	return nil
}

// Trace records a GD run in memory, one entry per step in each slice. A Trace
// records one run; use a new one for the next.
type Trace struct {
	// KeepIterates makes the Trace copy every iterate into Iterates;
	// otherwise only the last three are held, for UNorm.
	KeepIterates bool

	Step      []int
	Loss      []float64
	Sharpness []float64   // NaN where not measured
	Eigs      [][]float64 // top eigenvalues, nil where not measured
	GradNorm  []float64
	LossMean2 []float64 // (Loss[k] + Loss[k+1])/2, NaN for the last step
	UNorm     []float64 // ‖(θ_k − 2θ_{k+1} + θ_{k+2})/4‖, NaN for the last two
	Iterates  [][]float64
	Eta       float64

	win Window
}

// Observe records s. It never fails.
func (t *Trace) Observe(s *Step) error {
	t.Step = append(t.Step, s.K)
	t.Loss = append(t.Loss, s.Loss)
	t.Sharpness = append(t.Sharpness, s.Sharpness)
	var eigs []float64
	if s.Eigs != nil {
		eigs = append([]float64(nil), s.Eigs...)
	}
	t.Eigs = append(t.Eigs, eigs)
	t.GradNorm = append(t.GradNorm, s.GradNorm)
	t.LossMean2 = append(t.LossMean2, math.NaN())
	t.UNorm = append(t.UNorm, math.NaN())
	if t.KeepIterates {
		t.Iterates = append(t.Iterates, append([]float64(nil), s.X...))
	}
	t.Eta = s.Eta
	if r, ok := t.win.Push(s); ok {
		i := len(t.Step) - 3
		t.LossMean2[i] = r.LossMean2
		t.UNorm[i] = r.UNorm
	}
	if i := len(t.Step) - 2; i >= 0 {
		t.LossMean2[i] = (t.Loss[i] + t.Loss[i+1]) / 2
	}
	return nil
}

// CSVWriter writes a GD run as CSV, with the header
//
//	step,loss,sharpness,grad_norm,loss_mean2,u_norm
//
// and one row per step. The diagnostics of step k need steps k+1 and k+2, so
// rows are written two steps late; Flush writes the last two (with NaN where
// a later step is missing) and flushes the buffer. GD calls Flush at the end
// of a run. Numbers are formatted by strconv.FormatFloat(v, 'g', -1, 64), so
// identical runs give identical bytes. Observe does not allocate.
type CSVWriter struct {
	w      *bufio.Writer
	win    Window
	buf    []byte
	rows   []Row
	header bool
}

// NewCSVWriter returns a CSVWriter writing to w.
func NewCSVWriter(w io.Writer) *CSVWriter {
	return &CSVWriter{w: bufio.NewWriter(w)}
}

// Observe buffers s and writes the row of the step two before it.
func (c *CSVWriter) Observe(s *Step) error {
	if err := c.writeHeader(); err != nil {
		return err
	}
	if r, ok := c.win.Push(s); ok {
		return c.writeRow(r)
	}
	return nil
}

// Flush writes the rows still held, then flushes the underlying buffer. The
// header is written even for an empty run.
func (c *CSVWriter) Flush() error {
	if err := c.writeHeader(); err != nil {
		return err
	}
	c.rows = c.win.Drain(c.rows[:0])
	for _, r := range c.rows {
		if err := c.writeRow(r); err != nil {
			return err
		}
	}
	return c.w.Flush()
}

// FlushBuffer writes the complete rows buffered so far to the underlying
// writer, without the last two, which wait for later steps (unlike Flush).
// After it the underlying writer holds every row the CSVWriter will not
// write again, so a checkpoint can record where it stands.
func (c *CSVWriter) FlushBuffer() error {
	return c.w.Flush()
}

// csvStateVersion is the version of the encoding of CSVWriter.MarshalBinary.
const csvStateVersion = 1

// MarshalBinary encodes what the CSVWriter holds besides its buffer:
// whether it wrote the header and the window of steps whose rows are not
// written yet. Call FlushBuffer first so that the buffer is empty.
func (c *CSVWriter) MarshalBinary() ([]byte, error) {
	if c.w.Buffered() > 0 {
		return nil, errors.New("eos: CSVWriter state marshalled with rows still buffered; call FlushBuffer first")
	}
	win, err := c.win.MarshalBinary()
	if err != nil {
		return nil, err
	}
	var e encoder
	e.str("CSVWriter")
	e.u32(csvStateVersion)
	e.boolean(c.header)
	e.bytes(win)
	return e.b, nil
}

// UnmarshalBinary restores a state encoded by MarshalBinary, so that a run
// resumed where it was taken writes the rows the uninterrupted run would
// have written next. The underlying writer must then hold what it held when
// the state was taken (truncate a file to the offset recorded then). It
// returns an error, leaving c unchanged, when b is not such a state.
func (c *CSVWriter) UnmarshalBinary(b []byte) error {
	d := decoder{b: b}
	if tag, v := d.str(), d.u32(); d.err == nil && (tag != "CSVWriter" || v != csvStateVersion) {
		return fmt.Errorf("eos: not a CSVWriter state of version %d (%q version %d)", csvStateVersion, tag, v)
	}
	header := d.boolean()
	winState := d.bytes()
	if err := d.finish("CSVWriter state"); err != nil {
		return err
	}
	var win Window
	if err := win.UnmarshalBinary(winState); err != nil {
		return err
	}
	c.header, c.win = header, win
	return nil
}

func (c *CSVWriter) writeHeader() error {
	if c.header {
		return nil
	}
	c.header = true
	_, err := c.w.WriteString("step,loss,sharpness,grad_norm,loss_mean2,u_norm\n")
	return err
}

func (c *CSVWriter) writeRow(r Row) error {
	b := strconv.AppendInt(c.buf[:0], int64(r.Step), 10)
	for _, v := range [...]float64{r.Loss, r.Sharpness, r.GradNorm, r.LossMean2, r.UNorm} {
		b = append(b, ',')
		b = strconv.AppendFloat(b, v, 'g', -1, 64)
	}
	b = append(b, '\n')
	c.buf = b
	_, err := c.w.Write(b)
	return err
}

// Printer prints the progress of a GD run, at most once per Interval, as
//
//	step K  loss L  sharpness S  2/η X  rate R steps/s
//
// where S is the last measured sharpness and R the steps per second since the
// previous line. The first observed step is always printed, and Flush (called
// by GD at the end of a run) prints the last one if it was not.
type Printer struct {
	// Writer receives the lines. Nil means os.Stdout.
	Writer io.Writer
	// Interval is the least wall time between two lines. Zero means 1 s.
	Interval time.Duration

	started  bool
	last     time.Time // time of the last line
	lastK    int       // step of the last line
	pending  Step      // last observed step, X and Eigs unset
	printed  bool      // whether pending was printed
	sharp    float64   // last measured sharpness
	observed bool
}

// Observe prints s if the interval has elapsed since the last line.
func (p *Printer) Observe(s *Step) error {
	now := time.Now()
	if !p.observed {
		p.sharp = math.NaN()
	}
	if !math.IsNaN(s.Sharpness) {
		p.sharp = s.Sharpness
	}
	p.observed = true
	p.pending = Step{K: s.K, Loss: s.Loss, Eta: s.Eta}
	p.printed = false
	interval := p.Interval
	if interval == 0 {
		interval = time.Second
	}
	if p.started && now.Sub(p.last) < interval {
		return nil
	}
	return p.print(now)
}

// Flush prints the last observed step unless it was printed, and makes the
// Printer ready for a new run.
func (p *Printer) Flush() error {
	var err error
	if p.observed && !p.printed {
		err = p.print(time.Now())
	}
	p.started, p.observed = false, false
	return err
}

func (p *Printer) print(now time.Time) error {
	w := p.Writer
	if w == nil {
		w = os.Stdout
	}
	s := &p.pending
	rate := "-"
	if p.started {
		rate = strconv.FormatFloat(float64(s.K-p.lastK)/now.Sub(p.last).Seconds(), 'g', 4, 64)
	}
	_, err := fmt.Fprintf(w, "step %d  loss %.6g  sharpness %.6g  2/η %.6g  rate %s steps/s\n",
		s.K, s.Loss, p.sharp, 2/s.Eta, rate)
	p.started = true
	p.last = now
	p.lastK = s.K
	p.printed = true
	return err
}
