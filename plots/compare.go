package plots

import (
	"fmt"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/vbench-dev/vbench/runfile"
)

// CompareCell names a cell drawn in the comparison.
type CompareCell struct {
	Function runfile.Function
	Clock    runfile.Clock
	Path     runfile.Path
}

func (c CompareCell) label() string {
	if c.Function == runfile.FuncFloor {
		return "floor " + string(c.Clock)
	}
	s := string(c.Function)
	if c.Clock != "" {
		s += " " + string(c.Clock)
	}
	return s + " / " + string(c.Path)
}

// CompareCells are the cells the comparison figure shows: every path of
// each call (runfile.Headlines: clock_gettime on MONOTONIC), then the
// counter floor (rdtsc, or cntvct on arm64). (The text table of `vbench
// compare` has every cell.)
var CompareCells = func() []CompareCell {
	var cells []CompareCell
	for _, h := range runfile.Headlines() {
		c, _ := h.Function.Info()
		for _, p := range runfile.Paths {
			if c.Has(p) {
				cells = append(cells, CompareCell{h.Function, h.Clock, p})
			}
		}
	}
	// The counter floor of each architecture; a run has one of them.
	for _, op := range runfile.FloorLines {
		cells = append(cells, CompareCell{runfile.FuncFloor, op, ""})
	}
	return cells
}()

// Verdict says how run (1, 2, ...) compares with the first run on the
// cell named name (runfile.Cell.Name): text such as "1.31x" or "~", and
// whether the difference is significant under the comparison's treatment
// of many comparisons (package report decides; plots only draws it).
type Verdict func(name string, run int) (text string, significant bool)

// Compare draws the headline cells (CompareCells) across runs, grouped by
// cell, one colour per run label: median and 95% CI on a log scale. With a
// verdict, a run that differs significantly from the first is drawn
// filled and labelled with its ratio; one that does not is drawn hollow.
// A cell a run does not have, or could not measure, is marked "n/a" in the
// run's colour. The title says how many of the runs' cells are shown.
func Compare(runs []*runfile.Run, labels []string, verdict Verdict) *Figure {
	f := &Figure{Name: "compare.png", Width: 11, Height: 7}
	// Keep the cells at least one run measured.
	var cells []CompareCell
	all := map[string]bool{}
	for _, r := range runs {
		if r.Bench == nil {
			continue
		}
		for _, c := range r.Bench.Cells {
			all[c.Name()] = true
		}
	}
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
		return f.empty("no timing results in these runs")
	}
	title := fmt.Sprintf("Cost of one call across runs (median, 95%% CI): %d headline cells of the %d in these runs", len(cells), len(all))
	if verdict != nil && len(runs) > 1 {
		title += "\nfirst run (the base) filled; other runs filled where they differ significantly from it (ratio shown), hollow where not"
	}
	p := newPlot(title, "ns per call (log scale)", "")
	p.Title.TextStyle.Font.Size = 13
	logX(p)
	p.Add(gridLines{})
	n := len(runs)
	spread := 0.6
	lo, hi := math.Inf(1), math.Inf(-1)
	type mark struct {
		x, y float64
		text string
		run  int
	}
	var missing, ratios []mark
	var legend []legendItem
	for ri, r := range runs {
		off := 0.0
		if n > 1 {
			off = spread/2 - spread*float64(ri)/float64(n-1) // first run on top
		}
		var sig, same whiskers
		for k, cc := range cells {
			y := rowY(k, len(cells)) + off
			var c *runfile.Cell
			if r.Bench != nil {
				c, _ = r.Bench.Find(cc.Function, cc.Clock, cc.Path)
			}
			if c == nil || c.Summary == nil {
				missing = append(missing, mark{y: y, run: ri, text: "n/a"})
				continue
			}
			x, d, u := ci(c.Summary)
			w := &sig
			if ri > 0 && verdict != nil {
				text, significant := verdict(c.Name(), ri)
				if significant {
					ratios = append(ratios, mark{x: x + u, y: y, text: text, run: ri})
				} else {
					w = &same
				}
			}
			w.XYs = append(w.XYs, plotter.XY{X: x, Y: y})
			w.XErrors = append(w.XErrors, struct{ Low, High float64 }{d, u})
			lo, hi = math.Min(lo, x-d), math.Max(hi, x+u)
		}
		col := runColours[ri%len(runColours)]
		label := fmt.Sprintf("run %d", ri+1)
		if ri < len(labels) {
			label = labels[ri]
		}
		var thumb plot.Thumbnailer
		for _, g := range []struct {
			w     whiskers
			glyph draw.GlyphDrawer
		}{{sig, draw.CircleGlyph{}}, {same, draw.RingGlyph{}}} {
			if len(g.w.XYs) == 0 {
				continue
			}
			s, err := addWhiskers(p, g.w, col, g.glyph)
			if err != nil {
				continue
			}
			f.Points += len(g.w.XYs)
			if thumb == nil {
				thumb = s
			}
		}
		if thumb != nil {
			legend = append(legend, legendItem{label, thumb})
		}
	}
	p.X.Min, p.X.Max = logRange(lo, hi)
	if len(ratios) > 0 {
		p.X.Max *= 3 // room for the ratio labels
	}
	if len(missing) > 0 {
		p.X.Min /= 2 // room for "n/a" left of the data
	}
	for _, m := range missing {
		col := runColours[m.run%len(runColours)]
		p.Add(colouredText{textAt: textAt{x: p.X.Min * 1.25, y: m.y, text: m.text, size: 9}, col: col, align: draw.XLeft})
	}
	for _, m := range ratios {
		col := runColours[m.run%len(runColours)]
		p.Add(colouredText{textAt: textAt{x: m.x * 1.15, y: m.y, text: m.text, size: 9}, col: col, align: draw.XLeft})
	}
	var names []string
	for _, c := range cells {
		names = append(names, c.label())
	}
	nominalRows(f, p, names)
	f.Height += 0.15 * float64(n) * float64(len(names)) / 4
	f.withLegend(legend, p)
	return f
}

// colouredText is textAt in a colour.
type colouredText struct {
	textAt
	col   interface{ RGBA() (r, g, b, a uint32) }
	align draw.XAlignment
}

func (t colouredText) Plot(c draw.Canvas, p *plot.Plot) {
	x, y := p.Transforms(&c)
	sty := draw.TextStyle{Color: t.col, Font: p.X.Tick.Label.Font, XAlign: t.align, YAlign: draw.YCenter,
		Handler: p.Title.TextStyle.Handler}
	sty.Font.Size = vg.Points(t.size)
	c.FillText(sty, vg.Point{X: x(t.x), Y: y(t.y)}, t.text)
}
