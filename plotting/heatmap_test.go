package plotting

import (
	"image/color"
	"math"
	"testing"

	"github.com/eoskit/eoskit/eos"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

func TestShareGrid(t *testing.T) {
	// Oracle: hand counts. Four pairs: x bin 0 holds one with y bin 0,
	// x bin 1 two with y bin 0 and one with y bin 1; the x bins [0, 2) and
	// [2, 4] have centres 1 and 3, the y bins of [−1, 1] centres −0.5, 0.5.
	counts := [][]int{{1, 0}, {2, 1}}
	g, err := newShareGrid(counts, eos.Bins{Lo: 0, Hi: 4, N: 2}, eos.Bins{Lo: -1, Hi: 1, N: 2})
	if err != nil {
		t.Fatal(err)
	}
	if c, r := g.Dims(); c != 2 || r != 2 {
		t.Fatalf("Dims = %d, %d, want 2, 2", c, r)
	}
	for _, tc := range []struct {
		c, r int
		want float64 // NaN: empty cell
	}{
		{0, 0, 0.25}, {0, 1, math.NaN()}, {1, 0, 0.5}, {1, 1, 0.25},
	} {
		got := g.Z(tc.c, tc.r)
		if math.IsNaN(tc.want) != math.IsNaN(got) || (!math.IsNaN(got) && got != tc.want) {
			t.Errorf("Z(%d, %d) = %v, want %v", tc.c, tc.r, got, tc.want)
		}
	}
	if g.X(0) != 1 || g.X(1) != 3 || g.Y(0) != -0.5 || g.Y(1) != 0.5 {
		t.Errorf("centres X %v, %v, Y %v, %v; want 1, 3, −0.5, 0.5", g.X(0), g.X(1), g.Y(0), g.Y(1))
	}
	if m := g.maxShare(); m != 0.5 {
		t.Errorf("maxShare = %v, want 0.5", m)
	}
}

func TestHeatmapErrors(t *testing.T) {
	b2 := eos.Bins{Lo: 0, Hi: 1, N: 2}
	ok := [][]int{{1, 0}, {0, 1}}
	for _, tc := range []struct {
		name   string
		counts [][]int
		bx, by eos.Bins
		top    float64
	}{
		{"rows", [][]int{{1, 0}}, b2, b2, 0},
		{"ragged", [][]int{{1, 0}, {1}}, b2, b2, 0},
		{"negative", [][]int{{1, -1}, {0, 1}}, b2, b2, 0},
		{"empty", [][]int{{0, 0}, {0, 0}}, b2, b2, 0},
		{"bins", ok, eos.Bins{Lo: 1, Hi: 1, N: 2}, b2, 0},
		{"no bins", ok, b2, eos.Bins{Lo: 0, Hi: 1}, 0},
		{"top negative", ok, b2, b2, -1},
		{"top NaN", ok, b2, b2, math.NaN()},
		{"top Inf", ok, b2, b2, math.Inf(1)},
	} {
		if err := AddHeatmap(plot.New(), tc.counts, tc.bx, tc.by, tc.top); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
	if _, err := HeatmapPlots([]string{"a"}, "x", "y", b2, b2, ok, ok); err == nil {
		t.Error("HeatmapPlots: two histograms with one title accepted")
	}
}

// render draws p on a canvas at 72 dpi, so that one point is one pixel,
// and returns the image and a function giving the pixel of a data point.
func render(p *plot.Plot) (*vgimg.Canvas, func(x, y float64) (int, int)) {
	const w, h = 400, 300
	img := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(72))
	dc := draw.New(img)
	p.Draw(dc)
	data := p.DataCanvas(dc)
	trX, trY := p.Transforms(&data)
	return img, func(x, y float64) (int, int) {
		// vg's y axis points up, the image's down.
		return int(trX(x) / vg.Points(1)), h - 1 - int(trY(y)/vg.Points(1))
	}
}

func sameColor(a, b color.Color) bool {
	r1, g1, b1, a1 := a.RGBA()
	r2, g2, b2, a2 := b.RGBA()
	d := func(u, v uint32) bool { return max(u, v)-min(u, v) <= 0x0101 } // one 8-bit level
	return d(r1, r2) && d(g1, g2) && d(b1, b2) && d(a1, a2)
}

func TestHeatmapColours(t *testing.T) {
	// Oracle: the palette index a share maps to, round(share/top·(n−1)),
	// per gonum's HeatMap, and white where no pair was counted. Panel a
	// holds 4 pairs in one cell (share 1, the shared top); panel b one
	// pair in each cell (share 1/4), so on the shared scale its cells take
	// the palette colour of a quarter of the range, not the darkest one.
	pal := heatPalette.Colors()
	n := len(pal)
	bx := eos.Bins{Lo: 0, Hi: 2, N: 2}
	by := eos.Bins{Lo: 0, Hi: 2, N: 2}
	a := [][]int{{4, 0}, {0, 0}}
	b := [][]int{{1, 1}, {1, 1}}
	ps, err := HeatmapPlots([]string{"a", "b"}, "x", "y", bx, by, a, b)
	if err != nil {
		t.Fatal(err)
	}
	quarter := pal[int(0.25*float64(n-1)+0.5)]
	for _, tc := range []struct {
		panel int
		x, y  float64
		want  color.Color
	}{
		{0, 0.5, 0.5, pal[n-1]},
		{0, 1.5, 0.5, color.White},
		{0, 0.5, 1.5, color.White},
		{1, 0.5, 0.5, quarter},
		{1, 1.5, 1.5, quarter},
	} {
		img, px := render(ps[tc.panel])
		i, j := px(tc.x, tc.y)
		if got := img.Image().At(i, j); !sameColor(got, tc.want) {
			t.Errorf("panel %d, cell at (%v, %v), pixel (%d, %d): colour %v, want %v", tc.panel, tc.x, tc.y, i, j, got, tc.want)
		}
	}
	// The legend's margin: the x axis extends past the bins by
	// heatLegendRoom of their range, and the y axis covers the bins.
	p := ps[0]
	if want := 2 + heatLegendRoom*2; p.X.Min != 0 || math.Abs(p.X.Max-want) > 1e-12 || p.Y.Min != 0 || p.Y.Max != 2 {
		t.Errorf("axes [%v, %v] × [%v, %v], want [0, %v] × [0, 2]", p.X.Min, p.X.Max, p.Y.Min, p.Y.Max, want)
	}
}
