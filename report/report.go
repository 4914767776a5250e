package report

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"math"
	"os"
	"time"

	"github.com/eoskit/eoskit/eos"
	"github.com/janpfeifer/gonb/gonbui"
)

// Paper reports whether the notebooks run at the paper's scale
// (EOS_SCALE=paper) rather than the small default that `make test` runs.
func Paper() bool { return os.Getenv("EOS_SCALE") == "paper" }

// Pick returns paper at the paper's scale and small otherwise.
func Pick[T any](small, paper T) T {
	if Paper() {
		return paper
	}
	return small
}

// Progress is an eos.Observer that shows the state of a GD run in one
// notebook output block, updated in place at most every Interval. Outside a
// notebook it writes nothing.
type Progress struct {
	// Label names the run in the display.
	Label string
	// Interval is the least wall time between updates. Zero means 250 ms.
	Interval time.Duration
	// Total is the number of steps expected, for the percentage; zero
	// means unknown.
	Total int

	id     string
	start  time.Time
	last   time.Time
	sharp  float64
	step   eos.Step
	inited bool
}

// Observe updates the display when the interval has elapsed.
func (p *Progress) Observe(s *eos.Step) error {
	now := time.Now()
	if !p.inited {
		p.id = "eoskit-progress-" + gonbui.UniqueID()
		p.start, p.sharp, p.inited = now, math.NaN(), true
	}
	if !math.IsNaN(s.Sharpness) {
		p.sharp = s.Sharpness
	}
	p.step = eos.Step{K: s.K, Loss: s.Loss, Eta: s.Eta}
	interval := p.Interval
	if interval == 0 {
		interval = 250 * time.Millisecond
	}
	if now.Sub(p.last) >= interval {
		p.show(now, false)
	}
	return nil
}

// Flush shows the final state (GD calls it when the run ends).
func (p *Progress) Flush() error {
	if p.inited {
		p.show(time.Now(), true)
		p.inited = false
	}
	return nil
}

func (p *Progress) show(now time.Time, done bool) {
	p.last = now
	gonbui.UpdateHTML(p.id, p.HTML(now, done))
}

// HTML renders the current state; exported so that it can be checked
// outside a notebook.
func (p *Progress) HTML(now time.Time, done bool) string {
	s := p.step
	elapsed := now.Sub(p.start).Seconds()
	rate := 0.0
	if elapsed > 0 {
		rate = float64(s.K) / elapsed
	}
	pct := ""
	if p.Total > 0 {
		pct = fmt.Sprintf(" (%.0f%%)", 100*float64(s.K)/float64(p.Total))
	}
	state := "running"
	if done {
		state = "done"
	}
	return fmt.Sprintf("<pre>%s %s: step %d%s  loss %.5g  sharpness %.4g  2/η %.4g  %.0f steps/s  %.1f s</pre>",
		html.EscapeString(p.Label), state, s.K, pct, s.Loss, p.sharp, 2/s.Eta, rate, elapsed)
}

// Status shows a line of text in a notebook output block identified by id,
// replacing what that block showed before (for progress of loops that are
// not GD runs, such as parameter sweeps). Outside a notebook it does nothing.
func Status(id, text string) {
	gonbui.UpdateHTML("eoskit-status-"+id, "<pre>"+html.EscapeString(text)+"</pre>")
}

// Row is one experiment's line of out/summary.md.
type Row struct {
	Experiment string  `json:"experiment"`
	Compared   string  `json:"compared"`
	Metric     string  `json:"metric"`
	Error      float64 `json:"error"`
	Note       string  `json:"note,omitempty"`
}

// SummaryPrefix starts the line that Summary prints for the notebook runner.
const SummaryPrefix = "EOSKIT-SUMMARY "

// Summary prints the row in words for the reader, then as SummaryPrefix
// followed by the row in JSON, the line the notebook runner collects.
func Summary(w io.Writer, r Row) error {
	if w == nil {
		w = os.Stdout
	}
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s: %s, %s = %.3g\n%s%s\n", r.Experiment, r.Compared, r.Metric, r.Error, SummaryPrefix, b)
	return err
}
