package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/eoskit/eoskit/eos"
)

func TestSummaryLine(t *testing.T) {
	var buf bytes.Buffer
	r := Row{Experiment: "mf", Compared: "model vs GD", Metric: "median rel. err.", Error: 1.5e-5}
	if err := Summary(&buf, r); err != nil {
		t.Fatal(err)
	}
	var got Row
	for _, line := range strings.Split(buf.String(), "\n") {
		if s, ok := strings.CutPrefix(line, SummaryPrefix); ok {
			if err := json.Unmarshal([]byte(s), &got); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got != r {
		t.Errorf("round trip: got %+v, want %+v", got, r)
	}
}

func TestProgressHTML(t *testing.T) {
	p := &Progress{Label: "GD <mf>", Total: 100}
	for k := 0; k <= 50; k++ {
		sharp := 10.0
		if k%10 != 0 {
			sharp = nanValue()
		}
		if err := p.Observe(&eos.Step{K: k, Loss: 1, Sharpness: sharp, Eta: 0.1}); err != nil {
			t.Fatal(err)
		}
	}
	h := p.HTML(p.start.Add(time.Second), true)
	for _, want := range []string{"GD &lt;mf&gt; done", "step 50 (50%)", "sharpness 10", "2/η 20", "50 steps/s"} {
		if !strings.Contains(h, want) {
			t.Errorf("progress %q lacks %q", h, want)
		}
	}
}

func nanValue() float64 { var z float64; return z / z }

func TestPick(t *testing.T) {
	t.Setenv("EOS_SCALE", "")
	if Pick(1, 2) != 1 {
		t.Error("small scale not picked by default")
	}
	t.Setenv("EOS_SCALE", "paper")
	if Pick(1, 2) != 2 {
		t.Error("EOS_SCALE=paper did not pick the paper value")
	}
}
