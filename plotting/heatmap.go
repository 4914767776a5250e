package plotting

import (
	"errors"
	"fmt"
	"image/color"
	"math"

	"github.com/eoskit/eoskit/eos"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
)

// heatPalette is the sequential palette of the heat maps: Kindlmann's
// rainbow with monotone luminance (moreland.Kindlmann), reversed so that
// dense cells are dark, and cut short of both ends, whose white would read
// as an empty cell and whose black would hide the grid.
var heatPalette = func() palette.Palette {
	const n = 64
	cm := moreland.Kindlmann()
	cm.SetMax(1)
	cols := make(heatColors, n)
	for i := range cols {
		// From 0.92 of the map (pale) down to 0.12 (dark purple).
		v := 0.92 - 0.8*float64(i)/(n-1)
		c, err := cm.At(v)
		if err != nil {
			panic(err) // v is inside [0, 1] by construction.
		}
		cols[i] = c
	}
	return cols
}()

// heatColors is a palette.Palette of fixed colours.
type heatColors []color.Color

func (c heatColors) Colors() []color.Color { return c }

// shareGrid is a joint histogram as a plotter.GridXYZ: column c is bin c of
// the x bins, row r bin r of the y bins, and the value of a cell its count
// divided by the total, NaN when the cell is empty so that it is not
// painted.
type shareGrid struct {
	counts [][]int
	total  float64
	bx, by eos.Bins
}

func (g shareGrid) Dims() (c, r int) { return g.bx.N, g.by.N }

func (g shareGrid) Z(c, r int) float64 {
	n := g.counts[c][r]
	if n == 0 {
		return math.NaN()
	}
	return float64(n) / g.total
}

func (g shareGrid) X(c int) float64 { return centre(g.bx, c) }
func (g shareGrid) Y(r int) float64 { return centre(g.by, r) }

func centre(b eos.Bins, i int) float64 {
	return b.Lo + (float64(i)+0.5)*(b.Hi-b.Lo)/float64(b.N)
}

// newShareGrid checks a joint histogram against its bins and returns it as
// a grid of shares.
func newShareGrid(counts [][]int, bx, by eos.Bins) (shareGrid, error) {
	for _, b := range []eos.Bins{bx, by} {
		if b.N < 1 || !(b.Hi > b.Lo) || math.IsInf(b.Lo, 0) || math.IsInf(b.Hi, 0) {
			return shareGrid{}, fmt.Errorf("plotting: invalid bins %+v (want N ≥ 1 and finite Lo < Hi)", b)
		}
	}
	if len(counts) != bx.N {
		return shareGrid{}, fmt.Errorf("plotting: heat map has %d rows of counts for %d x bins", len(counts), bx.N)
	}
	var total int
	for i, row := range counts {
		if len(row) != by.N {
			return shareGrid{}, fmt.Errorf("plotting: heat map row %d has %d counts for %d y bins", i, len(row), by.N)
		}
		for _, n := range row {
			if n < 0 {
				return shareGrid{}, fmt.Errorf("plotting: heat map row %d holds the negative count %d", i, n)
			}
			total += n
		}
	}
	if total == 0 {
		return shareGrid{}, errors.New("plotting: heat map with no counted pair")
	}
	return shareGrid{counts: counts, total: float64(total), bx: bx, by: by}, nil
}

// maxShare returns the largest share of a cell.
func (g shareGrid) maxShare() float64 {
	var m int
	for _, row := range g.counts {
		for _, n := range row {
			m = max(m, n)
		}
	}
	return float64(m) / g.total
}

// heatLegendSwatches is the number of palette swatches in a heat map's
// colour legend.
const heatLegendSwatches = 5

// heatLegendRoom is the fraction of the x range added to the right of a heat
// map to hold its colour legend.
const heatLegendRoom = 0.35

// AddHeatmap adds a joint histogram to p as a heat map: counts[r][c] is the
// number of pairs with x in bin r of bx and y in bin c of by, as
// eos.Heatmap returns it. A cell is coloured by its share of all counted
// pairs, so that the laws of samples of different sizes (N GD neurons, M
// particles) compare on one scale; empty cells are not painted, which shows
// the support of the law. The colour scale runs linearly from 0 to top; top
// = 0 means the largest share of this histogram, and panels meant to be
// compared should be given the same top (HeatmapPlots does this). Shares
// above top take the darkest colour.
//
// A colour legend of palette swatches labelled with the shares they stand
// for is drawn in a margin to the right of the data, made by extending the
// x axis. AddHeatmap returns an error if the counts do not match the bins,
// hold no pair or a negative count, or top is negative or not finite.
func AddHeatmap(p *plot.Plot, counts [][]int, bx, by eos.Bins, top float64) error {
	g, err := newShareGrid(counts, bx, by)
	if err != nil {
		return err
	}
	if !(top >= 0) || math.IsInf(top, 1) {
		return fmt.Errorf("plotting: heat map colour top %v out of range [0, +Inf)", top)
	}
	if top == 0 {
		top = g.maxShare()
	}
	h := plotter.NewHeatMap(g, heatPalette)
	h.Min, h.Max = 0, top
	h.Overflow = heatPalette.Colors()[len(heatPalette.Colors())-1]
	p.Add(h)

	p.Legend.Top = true
	p.Legend.Left = false
	p.Legend.Add("share of pairs")
	thumbs := plotter.PaletteThumbnailers(heatPalette)
	for i := heatLegendSwatches - 1; i >= 0; i-- {
		f := float64(i) / (heatLegendSwatches - 1)
		idx := int(f*float64(len(thumbs)-1) + 0.5)
		label := fmt.Sprintf("%.2g %%", 100*f*top)
		if i == 0 {
			// The lightest colour stands for the smallest shares drawn;
			// an empty cell is not painted at all.
			label = "> 0 %"
		}
		p.Legend.Add(label, thumbs[idx])
	}
	p.X.Min = math.Min(p.X.Min, bx.Lo)
	p.X.Max = math.Max(p.X.Max, bx.Hi+heatLegendRoom*(bx.Hi-bx.Lo))
	p.Y.Min = math.Min(p.Y.Min, by.Lo)
	p.Y.Max = math.Max(p.Y.Max, by.Hi)
	return nil
}

// HeatmapPlots returns one heat-map panel per joint histogram, titled by
// titles[i], on shared bins and a shared colour scale whose top is the
// largest share of any cell of any of them: the side-by-side view of two
// laws, such as the joint law of weights and oscillation amplitudes of the
// neurons of a GD run and of the particles of a kinetic simulation.
// It returns an error if the titles and histograms differ in number or a
// histogram is rejected by AddHeatmap.
func HeatmapPlots(titles []string, xLabel, yLabel string, bx, by eos.Bins, counts ...[][]int) ([]*plot.Plot, error) {
	if len(titles) != len(counts) {
		return nil, fmt.Errorf("plotting: %d titles for %d heat maps", len(titles), len(counts))
	}
	var top float64
	for _, c := range counts {
		g, err := newShareGrid(c, bx, by)
		if err != nil {
			return nil, err
		}
		top = math.Max(top, g.maxShare())
	}
	ps := make([]*plot.Plot, len(counts))
	for i, c := range counts {
		ps[i] = New(titles[i], xLabel, yLabel, false)
		if err := AddHeatmap(ps[i], c, bx, by, top); err != nil {
			return nil, err
		}
	}
	return ps, nil
}
