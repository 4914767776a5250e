package eos

import (
	"bytes"
	"encoding/csv"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestWindow(t *testing.T) {
	// Iterates θ_k = (k², −k) with losses k + 1 and sharpness 10k:
	// LossMean2 = k + 1.5 and (θ_k − 2θ_{k+1} + θ_{k+2})/4 = (1/2, 0),
	// so UNorm = 0.5 at every step (analytic).
	step := func(k int) *Step {
		return &Step{K: k, X: []float64{float64(k * k), -float64(k)}, Loss: float64(k + 1), Sharpness: 10 * float64(k), GradNorm: 2}
	}
	var w Window
	var rows []Row
	for k := 3; k < 8; k++ {
		if r, ok := w.Push(step(k)); ok {
			rows = append(rows, r)
		} else if k >= 5 {
			t.Errorf("no row after pushing step %d", k)
		}
	}
	rows = w.Drain(rows)
	if len(rows) != 5 {
		t.Fatalf("%d rows, want 5", len(rows))
	}
	for i, r := range rows {
		k := 3 + i
		wantM, wantU := float64(k)+1.5, 0.5
		if i >= 3 {
			wantU = math.NaN()
		}
		if i == 4 {
			wantM = math.NaN()
		}
		if r.Step != k || r.Loss != float64(k+1) || r.Sharpness != 10*float64(k) || r.GradNorm != 2 ||
			!sameFloat(r.LossMean2, wantM) || !sameFloat(r.UNorm, wantU) {
			t.Errorf("row %d = %+v, want step %d, loss_mean2 %v, u_norm %v", i, r, k, wantM, wantU)
		}
	}
	// Drained: a new run may start anywhere.
	if _, ok := w.Push(step(0)); ok {
		t.Error("row returned after one push following Drain")
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("no panic on a non-consecutive step")
			}
		}()
		w.Push(step(2))
	}()
}

// sameFloat reports a == b, with NaN equal to NaN.
func sameFloat(a, b float64) bool {
	return a == b || (math.IsNaN(a) && math.IsNaN(b))
}

// runLine returns the trace and CSV of GD on E = λx²/2 with η = 0.1 and
// λ = 19 from x_0 = 1, where x_k = (−0.9)^k: the oracle of the recorder
// tests.
func runLine(t *testing.T, steps int) (*Trace, string) {
	t.Helper()
	q := NewQuadratic([]float64{19}, nil)
	tr := &Trace{}
	var buf bytes.Buffer
	if _, err := GD([]float64{1}, q, 0.1, &GDSettings{Steps: steps, EigEvery: 2, Observers: []Observer{tr, NewCSVWriter(&buf)}}); err != nil {
		t.Fatal(err)
	}
	return tr, buf.String()
}

func TestTrace(t *testing.T) {
	const steps = 30
	tr, _ := runLine(t, steps)
	if len(tr.Loss) != steps+1 || tr.Eta != 0.1 || tr.Iterates != nil {
		t.Fatalf("%d losses, η %v, iterates kept %v", len(tr.Loss), tr.Eta, tr.Iterates != nil)
	}
	for k := 0; k <= steps; k++ {
		// Analytic: x_k = r^k with r = −0.9, E_k = 9.5 r^{2k},
		// u_k = x_k (1 − r)²/4, E mean = (E_k + E_{k+1})/2.
		xk := math.Pow(-0.9, float64(k))
		e := func(j int) float64 { return 9.5 * math.Pow(0.81, float64(j)) }
		wantM, wantU := (e(k)+e(k+1))/2, math.Abs(xk)*1.9*1.9/4
		if k == steps {
			wantM = math.NaN()
		}
		if k >= steps-1 {
			wantU = math.NaN()
		}
		if math.Abs(tr.Loss[k]-e(k)) > 1e-13*e(k) || !closeOrNaN(tr.LossMean2[k], wantM, 1e-13) || !closeOrNaN(tr.UNorm[k], wantU, 1e-13) {
			t.Errorf("step %d: loss %v mean2 %v u %v, want %v %v %v", k, tr.Loss[k], tr.LossMean2[k], tr.UNorm[k], e(k), wantM, wantU)
		}
		if (k%2 == 0) != (tr.Eigs[k] != nil) || (k%2 == 0 && (tr.Eigs[k][0] != 19 || tr.Sharpness[k] != 19)) {
			t.Errorf("step %d: eigs %v sharpness %v", k, tr.Eigs[k], tr.Sharpness[k])
		}
	}
}

// closeOrNaN reports whether got is within rel of want, or both are NaN.
func closeOrNaN(got, want, rel float64) bool {
	if math.IsNaN(want) {
		return math.IsNaN(got)
	}
	return math.Abs(got-want) <= rel*math.Abs(want)
}

func TestCSVWriter(t *testing.T) {
	const steps = 12
	tr, out := runLine(t, steps)
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(recs[0], ","); got != "step,loss,sharpness,grad_norm,loss_mean2,u_norm" {
		t.Errorf("header %q", got)
	}
	if len(recs) != steps+2 {
		t.Fatalf("%d records, want header and %d rows", len(recs), steps+1)
	}
	// Oracle: the Trace of the same run (checked analytically in TestTrace),
	// formatted as documented.
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	for k := 0; k <= steps; k++ {
		want := []string{strconv.Itoa(k), f(tr.Loss[k]), f(tr.Sharpness[k]), f(tr.GradNorm[k]), f(tr.LossMean2[k]), f(tr.UNorm[k])}
		if got := recs[k+1]; strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("row %d = %v, want %v", k, got, want)
		}
	}
	if !strings.HasSuffix(out, ",NaN,NaN\n") {
		t.Errorf("last row does not end in NaN, NaN: %q", out[strings.LastIndex(out[:len(out)-1], "\n")+1:])
	}
	if _, again := runLine(t, steps); again != out {
		t.Error("identical runs gave different CSV bytes")
	}

	var empty bytes.Buffer
	if err := NewCSVWriter(&empty).Flush(); err != nil || empty.String() != "step,loss,sharpness,grad_norm,loss_mean2,u_norm\n" {
		t.Errorf("empty run: %q, %v; want the header only", empty.String(), err)
	}
}

func TestPrinter(t *testing.T) {
	line := regexp.MustCompile(`^step (\d+)  loss (\S+)  sharpness (\S+)  2/η 20  rate (\S+) steps/s$`)
	for _, tc := range []struct {
		name     string
		interval time.Duration
		steps    []string // steps printed
	}{
		// Throttled out except the first step and, on Flush, the last.
		{"slow", time.Hour, []string{"0", "7"}},
		{"every step", time.Nanosecond, []string{"0", "1", "2", "3", "4", "5", "6", "7"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			q := NewQuadratic([]float64{19}, nil)
			p := &Printer{Writer: &buf, Interval: tc.interval}
			if _, err := GD([]float64{1}, q, 0.1, &GDSettings{Steps: 7, EigEvery: 3, Observers: []Observer{p}}); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
			if len(lines) != len(tc.steps) {
				t.Fatalf("%d lines, want %d:\n%s", len(lines), len(tc.steps), buf.String())
			}
			for i, l := range lines {
				m := line.FindStringSubmatch(l)
				if m == nil {
					t.Errorf("line %q does not match the format", l)
					continue
				}
				if m[1] != tc.steps[i] {
					t.Errorf("line %d is step %s, want %s", i, m[1], tc.steps[i])
				}
				// Sharpness measured at step 0 and carried forward.
				if m[3] != "19" {
					t.Errorf("line %q: sharpness %s, want 19", l, m[3])
				}
				if (i == 0) != (m[4] == "-") {
					t.Errorf("line %q: rate %s", l, m[4])
				}
			}
		})
	}
}
