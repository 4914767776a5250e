package plotting

import (
	"bytes"
	"image/png"
	"math"
	"testing"

	"github.com/eoskit/eoskit/eos"
	"gonum.org/v1/plot"
)

func TestSegments(t *testing.T) {
	nan := math.NaN()
	x := []float64{0, 1, 2, 3, 4, 5, 6}
	y := []float64{1, 2, nan, 3, -1, 4, math.Inf(1)}
	for _, tc := range []struct {
		logY bool
		want []int // points per segment
	}{
		{false, []int{2, 3}}, // NaN and +Inf split; −1 is drawable on a linear axis
		{true, []int{2, 1, 1}},
	} {
		segs, err := segments(x, y, false, tc.logY)
		if err != nil {
			t.Fatal(err)
		}
		var got []int
		for _, s := range segs {
			got = append(got, len(s))
		}
		if len(got) != len(tc.want) {
			t.Fatalf("logY=%v: segments %v, want %v", tc.logY, got, tc.want)
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Fatalf("logY=%v: segments %v, want %v", tc.logY, got, tc.want)
			}
		}
	}
	if _, err := segments(x, y[:3], false, false); err == nil {
		t.Error("mismatched lengths accepted")
	}
}

func TestRenderPanels(t *testing.T) {
	steps := []float64{0, 1, 2, 3, 4}
	loss := New("loss", "step", "loss", true)
	if err := AddLines(loss, Series{Name: "GD", X: steps, Y: []float64{1, 0.5, math.NaN(), 0.2, 0.1}}); err != nil {
		t.Fatal(err)
	}
	if err := AddBand(loss, "envelope", steps, []float64{0.9, 0.4, 0.3, 0.15, 0.05}, []float64{1.1, 0.6, 0.4, 0.25, 0.15}, nil); err != nil {
		t.Fatal(err)
	}
	sharp := New("sharpness", "step", "λ_max", false)
	if err := AddPoints(sharp, 2, Series{Name: "S", X: steps, Y: []float64{10, math.NaN(), 20, 25, 26}}); err != nil {
		t.Fatal(err)
	}
	if err := AddHLine(sharp, 2/0.077, "2/η"); err != nil {
		t.Fatal(err)
	}
	if sharp.Y.Max < 2/0.077 {
		t.Errorf("y range [%v, %v] does not hold the 2/η line", sharp.Y.Min, sharp.Y.Max)
	}
	if err := AddHLine(loss, -1, "bad"); err == nil {
		t.Error("a line at −1 on a log axis was accepted")
	}
	b, err := PNG(Width, Height, []*plot.Plot{loss, sharp})
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	// Two panels side by side at the default size (96 dpi in vgimg).
	if w, h := img.Bounds().Dx(), img.Bounds().Dy(); w <= h || w < 1000 {
		t.Errorf("image is %d×%d, want two panels side by side", w, h)
	}
	if _, err := PNG(Width, Height); err == nil {
		t.Error("no panels accepted")
	}
}

func TestTracePlots(t *testing.T) {
	tr := &eos.Trace{Eta: 0.1}
	for k, l := range []float64{3, 2, 2.5, 1.5, 2} {
		if err := tr.Observe(&eos.Step{K: k, X: []float64{l}, Loss: l, Sharpness: float64(15 + k), Eta: 0.1}); err != nil {
			t.Fatal(err)
		}
	}
	loss, sharp, err := TracePlots(tr)
	if err != nil {
		t.Fatal(err)
	}
	if sharp.Y.Max < 20 {
		t.Errorf("sharpness axis tops at %v, below 2/η = 20", sharp.Y.Max)
	}
	if _, err := PNG(Width, Height, []*plot.Plot{loss, sharp}); err != nil {
		t.Fatal(err)
	}
}
