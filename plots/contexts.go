package plots

import (
	"image/color"
	"math"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg/draw"

	"github.com/vbench-dev/vbench/runfile"
)

// plainCell keeps the plain context's cells: the cost and latency figures
// show those, ContextCost the others beside them.
func plainCell(c runfile.Cell) bool { return c.Context.Or() == runfile.ContextPlain }

// contextStyle is a context's colour, glyph and offset within its row.
func contextStyle(ctx runfile.Context) (color.Color, draw.GlyphDrawer, float64) {
	switch ctx {
	case runfile.ContextTimens:
		return colVsyscall, draw.TriangleGlyph{}, 0.1
	case runfile.ContextSeccompAllowlist:
		return colRseq, draw.SquareGlyph{}, -0.1
	case runfile.ContextSeccompArgcheck:
		return colSyscall, draw.PyramidGlyph{}, -0.3
	}
	return colVDSO, draw.CircleGlyph{}, 0.3 // plain
}

// contextRow is a cell's row on ContextCost: function, clock and path.
func contextRow(c runfile.Cell) string { return Category(c) + " " + string(c.Path) }

// ContextCost draws, for every cell measured in a context besides plain,
// its median cost (95% interval as whiskers, log scale) in each context
// side by side, plain among them: what a time namespace or a seccomp
// filter adds to each door.
func ContextCost(b *runfile.Bench, subtitle string) *Figure {
	f := &Figure{Name: "cost-contexts.png", Width: 11, Height: 7}
	title := "Cost of one call in each context (median, 95% CI)"
	if subtitle != "" {
		title += "\n" + subtitle
	}
	if b == nil {
		return f.empty("no timing results in this run")
	}
	var names []string
	idx := map[string]int{}
	for _, c := range b.Cells {
		if plainCell(c) || c.Summary == nil {
			continue
		}
		if k := contextRow(c); !hasKey(idx, k) {
			idx[k] = len(names)
			names = append(names, k)
		}
	}
	if len(names) == 0 {
		return f.empty("no cell was measured in a context besides plain")
	}
	p := newPlot(title, "ns per call (log scale)", "")
	logX(p)
	p.Add(gridLines{})
	lo, hi := math.Inf(1), math.Inf(-1)
	var legend []legendItem
	for _, ctx := range runfile.Contexts {
		var w whiskers
		for _, c := range b.Cells {
			i, ok := idx[contextRow(c)]
			if c.Context.Or() != ctx || c.Summary == nil || !ok {
				continue
			}
			_, _, off := contextStyle(ctx)
			x, d, u := ci(c.Summary)
			w.XYs = append(w.XYs, plotter.XY{X: x, Y: rowY(i, len(names)) + off})
			w.XErrors = append(w.XErrors, struct{ Low, High float64 }{d, u})
			lo, hi = math.Min(lo, x-d), math.Max(hi, x+u)
		}
		if len(w.XYs) == 0 {
			continue
		}
		col, glyph, _ := contextStyle(ctx)
		s, err := addWhiskers(p, w, col, glyph)
		if err != nil {
			continue
		}
		f.Points += len(w.XYs)
		legend = append(legend, legendItem{string(ctx), s})
	}
	p.X.Min, p.X.Max = logRange(lo, hi)
	nominalRows(f, p, names)
	f.withLegend(legend, p)
	return f
}

func hasKey(m map[string]int, k string) bool { _, ok := m[k]; return ok }
