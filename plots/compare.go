package plots

import (
	"fmt"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/vbench-dev/vbench/probes"
	"github.com/vbench-dev/vbench/runfile"
)

// CompareCell names a cell drawn in the comparison.
type CompareCell struct{ Function, Clock, Path string }

func (c CompareCell) label() string {
	if c.Function == string(probes.FuncFloor) {
		return "floor " + c.Clock
	}
	s := c.Function
	if c.Clock != "" {
		s += " " + c.Clock
	}
	return s + " / " + c.Path
}

// CompareCells are the cells the comparison figure shows: every path of
// each call of the registry (probes.Headlines: clock_gettime on
// MONOTONIC), then the rdtsc floor. (The text table of `vbench compare`
// has every cell.)
var CompareCells = func() []CompareCell {
	var cells []CompareCell
	for _, h := range probes.Headlines() {
		c, _ := probes.CallOf(h.Func)
		for _, p := range probes.Paths {
			if c.Has(p) {
				cells = append(cells, CompareCell{string(h.Func), h.Clock, string(p)})
			}
		}
	}
	return append(cells, CompareCell{string(probes.FuncFloor), "rdtsc", ""})
}()

// Compare draws the same cells across runs, grouped by cell, one colour
// per run label: median and 95% CI on a log scale. A cell a run does not
// have, or could not measure, is marked "n/a" in the run's colour.
func Compare(runs []*runfile.Run, labels []string) *Figure {
	f := &Figure{Name: "compare.png", Width: 11, Height: 7}
	title := "Cost of one call across runs (median, 95% CI; n/a = not measured in that run)"
	// Keep the cells at least one run measured.
	var cells []CompareCell
	for _, cc := range CompareCells {
		for _, r := range runs {
			if r.Bench == nil {
				continue
			}
			if c, ok := r.Bench.Find(cc.Function, cc.Clock, cc.Path); ok && c.Summary != nil {
				cells = append(cells, cc)
				break
			}
		}
	}
	if len(cells) == 0 {
		f.Plots = []*plot.Plot{emptyPlot(title, "no timing results in these runs")}
		return f
	}
	p := newPlot(title, "ns per call (log scale)", "")
	logX(p)
	p.Add(gridLines{})
	n := len(runs)
	spread := 0.6
	lo, hi := math.Inf(1), math.Inf(-1)
	type na struct {
		y   float64
		run int
	}
	var missing []na
	for ri, r := range runs {
		off := 0.0
		if n > 1 {
			off = spread/2 - spread*float64(ri)/float64(n-1) // first run on top
		}
		var w whiskers
		for k, cc := range cells {
			y := rowY(k, len(cells)) + off
			var c *runfile.Cell
			if r.Bench != nil {
				c, _ = r.Bench.Find(cc.Function, cc.Clock, cc.Path)
			}
			if c == nil || c.Summary == nil {
				missing = append(missing, na{y: y, run: ri})
				continue
			}
			x, d, u := ci(c.Summary)
			w.XYs = append(w.XYs, plotter.XY{X: x, Y: y})
			w.XErrors = append(w.XErrors, struct{ Low, High float64 }{d, u})
			lo, hi = math.Min(lo, x-d), math.Max(hi, x+u)
		}
		col := runColours[ri%len(runColours)]
		label := fmt.Sprintf("run %d", ri+1)
		if ri < len(labels) {
			label = labels[ri]
		}
		if len(w.XYs) == 0 {
			continue
		}
		s, err := addWhiskers(p, w, col, draw.CircleGlyph{})
		if err != nil {
			continue
		}
		p.Legend.Add(label, s)
	}
	p.X.Min, p.X.Max = logRange(lo, hi, 300)
	for _, m := range missing {
		col := runColours[m.run%len(runColours)]
		p.Add(colouredText{textAt: textAt{x: p.X.Min * 1.6, y: m.y, text: "n/a", size: 9}, col: col})
	}
	var names []string
	for _, c := range cells {
		names = append(names, c.label())
	}
	nominalRows(f, p, names)
	f.Height += 0.15 * float64(n) * float64(len(names)) / 4
	legendTopRight(p)
	p.Legend.YOffs = -vg.Points(4)
	f.Plots = []*plot.Plot{p}
	return f
}

// colouredText is textAt in a colour.
type colouredText struct {
	textAt
	col interface{ RGBA() (r, g, b, a uint32) }
}

func (t colouredText) Plot(c draw.Canvas, p *plot.Plot) {
	x, y := p.Transforms(&c)
	sty := draw.TextStyle{Color: t.col, Font: p.X.Tick.Label.Font, XAlign: draw.XCenter, YAlign: draw.YCenter,
		Handler: p.Title.TextStyle.Handler}
	sty.Font.Size = vg.Points(t.size)
	c.FillText(sty, vg.Point{X: x(t.x), Y: y(t.y)}, t.text)
}
