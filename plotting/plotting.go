package plotting

import (
	"bytes"
	"errors"
	"fmt"
	"image/color"
	"math"
	"os"

	"github.com/janpfeifer/gonb/gonbui"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Default panel size for Show and PNG.
const (
	Width  = 6 * vg.Inch
	Height = 3.5 * vg.Inch
)

// Series is one named curve.
type Series struct {
	Name string
	X, Y []float64
	// Dashed draws the line dashed (used for model predictions against GD).
	Dashed bool
	// Color overrides the palette colour chosen by position when not nil.
	Color color.Color
}

// New returns a plot with a title and axis labels; logY selects a log y axis.
func New(title, xLabel, yLabel string, logY bool) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	if logY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: 1}
	}
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	return p
}

func isLog(s plot.Normalizer) bool {
	_, ok := s.(plot.LogScale)
	return ok
}

// segments splits the points (x, y) at values the plot cannot show: NaN,
// ±Inf, and values ≤ 0 on a log axis.
func segments(x, y []float64, logX, logY bool) ([]plotter.XYs, error) {
	if len(x) != len(y) {
		return nil, fmt.Errorf("plotting: %d x values but %d y values", len(x), len(y))
	}
	var segs []plotter.XYs
	var cur plotter.XYs
	for i := range x {
		ok := !math.IsNaN(x[i]) && !math.IsInf(x[i], 0) && !math.IsNaN(y[i]) && !math.IsInf(y[i], 0) &&
			(!logX || x[i] > 0) && (!logY || y[i] > 0)
		if ok {
			cur = append(cur, plotter.XY{X: x[i], Y: y[i]})
			continue
		}
		if len(cur) > 0 {
			segs = append(segs, cur)
			cur = nil
		}
	}
	if len(cur) > 0 {
		segs = append(segs, cur)
	}
	return segs, nil
}

// AddLines adds each series as a line (split at gaps), with a legend entry.
// Series with no drawable point get a legend entry marked "(no data)" so that
// an empty panel never passes unnoticed.
func AddLines(p *plot.Plot, series ...Series) error {
	for i, s := range series {
		segs, err := segments(s.X, s.Y, isLog(p.X.Scale), isLog(p.Y.Scale))
		if err != nil {
			return fmt.Errorf("%v (series %q)", err, s.Name)
		}
		c := s.Color
		if c == nil {
			c = plotutil.Color(i)
		}
		var first *plotter.Line
		for _, seg := range segs {
			l, err := plotter.NewLine(seg)
			if err != nil {
				return fmt.Errorf("plotting: series %q: %v", s.Name, err)
			}
			l.Color = c
			l.Width = vg.Points(1.2)
			if s.Dashed {
				l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
			}
			p.Add(l)
			if first == nil {
				first = l
			}
		}
		switch {
		case first != nil && s.Name != "":
			p.Legend.Add(s.Name, first)
		case first == nil && s.Name != "":
			p.Legend.Add(s.Name + " (no data)")
		}
	}
	return nil
}

// AddPoints adds each series as scatter points (for sharpness measured every
// few steps, period-doubling diagrams and the like).
func AddPoints(p *plot.Plot, radius vg.Length, series ...Series) error {
	for i, s := range series {
		segs, err := segments(s.X, s.Y, isLog(p.X.Scale), isLog(p.Y.Scale))
		if err != nil {
			return fmt.Errorf("%v (series %q)", err, s.Name)
		}
		var pts plotter.XYs
		for _, seg := range segs {
			pts = append(pts, seg...)
		}
		if len(pts) == 0 {
			if s.Name != "" {
				p.Legend.Add(s.Name + " (no data)")
			}
			continue
		}
		sc, err := plotter.NewScatter(pts)
		if err != nil {
			return fmt.Errorf("plotting: series %q: %v", s.Name, err)
		}
		c := s.Color
		if c == nil {
			c = plotutil.Color(i)
		}
		sc.GlyphStyle.Color = c
		sc.GlyphStyle.Radius = radius
		sc.GlyphStyle.Shape = draw.CircleGlyph{}
		p.Add(sc)
		if s.Name != "" {
			p.Legend.Add(s.Name, sc)
		}
	}
	return nil
}

// AddHLine adds a horizontal reference line, such as 2/η on a sharpness plot.
func AddHLine(p *plot.Plot, y float64, name string) error {
	if math.IsNaN(y) || math.IsInf(y, 0) || (isLog(p.Y.Scale) && y <= 0) {
		return fmt.Errorf("plotting: reference line %q at %v cannot be drawn", name, y)
	}
	l := plotter.NewFunction(func(float64) float64 { return y })
	l.Color = color.RGBA{R: 200, A: 255}
	l.Dashes = []vg.Length{vg.Points(2), vg.Points(2)}
	l.Width = vg.Points(1)
	p.Add(l)
	// The function has no extent of its own: make sure the line is in range.
	if p.Y.Min > y || p.Y.Max < y || p.Y.Min == p.Y.Max {
		p.Y.Min = math.Min(p.Y.Min, y)
		p.Y.Max = math.Max(p.Y.Max, y)
	}
	p.Legend.Add(name, l)
	return nil
}

// AddBand adds a filled band between lo and hi (the predicted envelope of the
// oscillating loss), drawn under the lines added after it.
func AddBand(p *plot.Plot, name string, x, lo, hi []float64, c color.Color) error {
	if len(x) != len(lo) || len(x) != len(hi) {
		return fmt.Errorf("plotting: band %q: %d x values, %d lower, %d upper", name, len(x), len(lo), len(hi))
	}
	logY := isLog(p.Y.Scale)
	var drew bool
	var start int
	flush := func(end int) error {
		if end-start < 2 {
			return nil
		}
		poly := make(plotter.XYs, 0, 2*(end-start))
		for i := start; i < end; i++ {
			poly = append(poly, plotter.XY{X: x[i], Y: hi[i]})
		}
		for i := end - 1; i >= start; i-- {
			poly = append(poly, plotter.XY{X: x[i], Y: lo[i]})
		}
		pg, err := plotter.NewPolygon(poly)
		if err != nil {
			return fmt.Errorf("plotting: band %q: %v", name, err)
		}
		pg.Color = c
		pg.LineStyle.Width = 0
		p.Add(pg)
		if !drew {
			p.Legend.Add(name, pg)
			drew = true
		}
		return nil
	}
	for i := range x {
		good := finite(x[i]) && finite(lo[i]) && finite(hi[i]) && (!logY || lo[i] > 0)
		if !good {
			if err := flush(i); err != nil {
				return err
			}
			start = i + 1
		}
	}
	if err := flush(len(x)); err != nil {
		return err
	}
	if !drew {
		p.Legend.Add(name + " (no data)")
	}
	return nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// PNG renders panels arranged in rows (one row per slice) to PNG bytes; each
// panel is w×h. A nil panel leaves its cell blank.
func PNG(w, h vg.Length, rows ...[]*plot.Plot) ([]byte, error) {
	if len(rows) == 0 || len(rows[0]) == 0 {
		return nil, errors.New("plotting: no panels to render")
	}
	cols := 0
	for _, r := range rows {
		cols = max(cols, len(r))
	}
	grid := make([][]*plot.Plot, len(rows))
	for i, r := range rows {
		grid[i] = make([]*plot.Plot, cols)
		copy(grid[i], r)
	}
	img := vgimg.New(w*vg.Length(cols), h*vg.Length(len(rows)))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: len(rows), Cols: cols, PadX: vg.Millimeter, PadY: vg.Millimeter,
		PadTop: vg.Millimeter, PadBottom: vg.Millimeter, PadLeft: vg.Millimeter, PadRight: vg.Millimeter}
	canvases := plot.Align(grid, tiles, dc)
	for i := range grid {
		for j, p := range grid[i] {
			if p != nil {
				p.Draw(canvases[i][j])
			}
		}
	}
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("plotting: rendering PNG: %v", err)
	}
	return buf.Bytes(), nil
}

// Show renders panels (one row per slice) at the default panel size and
// displays the PNG inline in a GoNB notebook; outside a notebook it only
// checks that the panels render.
func Show(rows ...[]*plot.Plot) error {
	b, err := PNG(Width, Height, rows...)
	if err != nil {
		return err
	}
	gonbui.DisplayPng(b)
	// GoNB reads the display pipe asynchronously and stops reading when
	// the cell's program exits, so a figure was sometimes lost (measured:
	// one of 28 in one of four runs of make test). Sync returns once GoNB
	// has taken everything sent so far. Outside a notebook both calls do
	// nothing.
	gonbui.Sync()
	return nil
}

// Save renders panels like Show and writes the PNG to path, through a
// temporary file so that a failed write leaves nothing half-written.
func Save(path string, rows ...[]*plot.Plot) error {
	b, err := PNG(Width, Height, rows...)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
