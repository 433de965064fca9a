package plots

import (
	"fmt"
	"image/color"
	"math"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/vbench-dev/vbench/runfile"
)

// Category is the label of a cell on a figure's X axis: the function and,
// for clock_gettime and clock_getres, the clock.
func Category(c runfile.Cell) string {
	if c.Clock != "" && c.Function != runfile.FuncFloor {
		return string(c.Function) + " " + string(c.Clock)
	}
	return string(c.Function)
}

// categories lists the non-floor cells' categories in table order.
func categories(cells []runfile.Cell, keep func(runfile.Cell) bool) ([]string, map[string]int) {
	var names []string
	idx := map[string]int{}
	for _, c := range cells {
		if c.Function == runfile.FuncFloor || (keep != nil && !keep(c)) {
			continue
		}
		k := Category(c)
		if _, ok := idx[k]; !ok {
			idx[k] = len(names)
			names = append(names, k)
		}
	}
	return names, idx
}

// whiskers is points with a confidence interval each, along X.
type whiskers struct {
	plotter.XYs
	plotter.XErrors
}

func addWhiskers(p *plot.Plot, w whiskers, col color.Color, glyph draw.GlyphDrawer) (*plotter.Scatter, error) {
	s, err := plotter.NewScatter(w.XYs)
	if err != nil {
		return nil, err
	}
	s.GlyphStyle = draw.GlyphStyle{Color: col, Radius: vg.Points(3.5), Shape: glyph}
	e, err := plotter.NewXErrorBars(w)
	if err != nil {
		return nil, err
	}
	e.LineStyle = draw.LineStyle{Color: col, Width: vg.Points(1.2)}
	e.CapWidth = vg.Points(6)
	p.Add(e, s)
	return s, nil
}

// ci returns the cell's median and the distances down and up to its 95%
// confidence interval, kept positive for a log axis.
func ci(s *runfile.Summary) (v, down, up float64) {
	v = pos(s.Median)
	lo, hi := pos(math.Min(s.Lo, s.Median)), pos(math.Max(s.Hi, s.Median))
	return v, v - lo, hi - v
}

// rowY is the Y coordinate of category i of n: the first on top.
func rowY(i, n int) float64 { return float64(n - 1 - i) }

// nominalRows labels the Y axis with the categories, the first on top,
// and sizes the figure to fit them.
func nominalRows(f *Figure, p *plot.Plot, names []string) {
	rev := make([]string, len(names))
	for i, n := range names {
		rev[len(names)-1-i] = n
	}
	p.NominalY(rev...)
	p.Y.Min, p.Y.Max = -0.6, float64(len(names))-0.4
	f.Height = math.Max(4.5, 1.6+0.42*float64(len(names)))
}

// Cost draws the median cost of one call for every (function, clock) and
// path, with the 95% confidence interval of the median as whiskers, on a
// log scale, and the counter floors (runfile.CounterOps: rdtsc and rdtscp,
// or arm64's cntvct) as lines.
func Cost(b *runfile.Bench, subtitle string) *Figure {
	f := &Figure{Name: "cost.png", Width: 11, Height: 7}
	title := "Cost of one call, by function and path (median, 95% CI)"
	if subtitle != "" {
		title += "\n" + subtitle
	}
	if b == nil || !anyMeasured(b.Cells) {
		return f.empty("no timing results in this run")
	}
	p := newPlot(title, "ns per call (log scale)", "")
	logX(p)
	names, idx := categories(b.Cells, plainCell)
	p.Add(gridLines{})
	lo, hi := math.Inf(1), math.Inf(-1)
	var legend []legendItem
	for _, path := range pathOrder {
		var w whiskers
		for _, c := range b.Cells {
			if c.Path != path || c.Summary == nil || c.Function == runfile.FuncFloor || !plainCell(c) {
				continue
			}
			_, _, off := pathStyle(path)
			x, d, u := ci(c.Summary)
			w.XYs = append(w.XYs, plotter.XY{X: x, Y: rowY(idx[Category(c)], len(names)) + off})
			w.XErrors = append(w.XErrors, struct{ Low, High float64 }{d, u})
			lo, hi = math.Min(lo, x-d), math.Max(hi, x+u)
		}
		if len(w.XYs) == 0 {
			continue
		}
		col, glyph, _ := pathStyle(path)
		s, err := addWhiskers(p, w, col, glyph)
		if err != nil {
			continue
		}
		f.Points += len(w.XYs)
		legend = append(legend, legendItem{string(path), s})
	}
	// Floors: a line down the plot for each one measured.
	for i, op := range runfile.CounterOps {
		c, ok := b.Find(runfile.FuncFloor, op, "")
		if !ok || c.Summary == nil {
			continue
		}
		x := pos(c.Summary.Median)
		lo, hi = math.Min(lo, x), math.Max(hi, x)
		l, err := plotter.NewLine(plotter.XYs{{X: x, Y: -0.5}, {X: x, Y: float64(len(names)) - 0.5}})
		if err != nil {
			continue
		}
		l.LineStyle = draw.LineStyle{Color: colFloor, Width: vg.Points(1.2), Dashes: []vg.Length{vg.Points(6), vg.Points(3)}}
		if i%2 == 1 { // the second read of each counter: rdtscp, cntvct_noisb
			l.LineStyle.Dashes = []vg.Length{vg.Points(2), vg.Points(2)}
		}
		p.Add(l)
		f.Points++
		legend = append(legend, legendItem{fmt.Sprintf("floor: %s (%.1f ns)", op, c.Summary.Median), l})
	}
	p.X.Min, p.X.Max = logRange(lo, hi)
	nominalRows(f, p, names)
	f.withLegend(legend, p)
	return f
}

func anyMeasured(cells []runfile.Cell) bool {
	for _, c := range cells {
		if c.Summary != nil && c.Function != runfile.FuncFloor {
			return true
		}
	}
	return false
}

// quantile returns the q quantile of a sorted Latency.Quantiles slice
// (element i is the (i+0.5)/n quantile).
func quantile(qs []float64, q float64) float64 {
	n := len(qs)
	if n == 0 {
		return math.NaN()
	}
	x := q*float64(n) - 0.5
	if x <= 0 {
		return qs[0]
	}
	if x >= float64(n-1) {
		return qs[n-1]
	}
	i := int(x)
	fr := x - float64(i)
	return qs[i]*(1-fr) + qs[i+1]*fr
}

// latencyStats are the five numbers a latency box shows.
type latencyStats struct {
	y                      float64
	p1, p25, p50, p75, p99 float64
	p999                   float64
}

// latencyFloor is the smallest single-call time drawn: half the timer's
// step when it is known (a call faster than one step reads as 0 or 1
// step), else MinLog.
func latencyFloor(b *runfile.Bench) float64 {
	if b != nil && b.TSCStepNs/2 > MinLog {
		return b.TSCStepNs / 2
	}
	return MinLog
}

// timerStep is the TSC step of the run in ns, 0 when not recorded.
func timerStep(b *runfile.Bench) float64 {
	if b == nil || b.TSCStepNs <= 0 {
		return 0
	}
	return b.TSCStepNs
}

func latencyAxis(b *runfile.Bench) string {
	if st := timerStep(b); st > 0 {
		return fmt.Sprintf("ns per call (log scale); grey: shorter than one TSC step (%.3g ns), below the timer's resolution", st)
	}
	return fmt.Sprintf("ns per call (log scale; below %g ns drawn at %g)", MinLog, MinLog)
}

// belowTimer shades the part of a log X axis below one timer step: a call
// shorter than a step reads as 0 or 1 step, so nothing there is resolved.
type belowTimer struct{ step float64 }

func (t belowTimer) Plot(c draw.Canvas, p *plot.Plot) {
	if t.step <= p.X.Min {
		return
	}
	x, _ := p.Transforms(&c)
	x1 := min(x(t.step), c.Max.X)
	c.FillPolygon(color.RGBA{R: 0xee, G: 0xee, B: 0xee, A: 0xff}, []vg.Point{{X: c.Min.X, Y: c.Min.Y}, {X: x1, Y: c.Min.Y},
		{X: x1, Y: c.Max.Y}, {X: c.Min.X, Y: c.Max.Y}})
	c.StrokeLine2(draw.LineStyle{Color: colFloor, Width: vg.Points(0.8), Dashes: []vg.Length{vg.Points(3), vg.Points(2)}},
		x1, c.Min.Y, x1, c.Max.Y)
}

func atLeast(v, floor float64) float64 {
	if math.IsNaN(v) || v < floor {
		return floor
	}
	return v
}

func statsOf(l *runfile.Latency, floor float64) (latencyStats, bool) {
	var s latencyStats
	if l == nil {
		return s, false
	}
	qs := append([]float64(nil), l.Quantiles...)
	sort.Float64s(qs)
	if len(qs) == 0 {
		if l.P50 == 0 && l.P99 == 0 {
			return s, false
		}
		// Without the distribution, the box spans p50 to p90.
		s.p1, s.p25, s.p50, s.p75, s.p99, s.p999 = l.P50, l.P50, l.P50, l.P90, l.P99, l.P999
	} else {
		s.p1, s.p25, s.p50, s.p75, s.p99 = quantile(qs, 0.01), quantile(qs, 0.25), quantile(qs, 0.5), quantile(qs, 0.75), quantile(qs, 0.99)
		s.p999 = l.P999
		if s.p999 == 0 {
			s.p999 = qs[len(qs)-1]
		}
	}
	for _, v := range []*float64{&s.p1, &s.p25, &s.p50, &s.p75, &s.p99, &s.p999} {
		*v = atLeast(*v, floor)
	}
	return s, true
}

// boxes draws latency boxes: p25 to p75 with a line at the median,
// whiskers from p1 to p99 and a dot at p99.9.
type boxes struct {
	stats []latencyStats
	col   color.Color
	width vg.Length
	// step is the timer's resolution: a box whose p75 is at most one step
	// is not drawn (its quartiles are not resolved); the cell is marked
	// at the step instead, with its tail above the step still drawn.
	step float64
}

// unresolved reports whether a box lies within one timer step of zero: a
// reading of 0 or 1 step is a call of anything from 0 to 2 steps, so its
// quartiles say nothing.
func (b *boxes) unresolved(s latencyStats) bool { return b.step > 0 && s.p75 <= b.step*(1+1e-9) }

func (b *boxes) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	line := draw.LineStyle{Color: b.col, Width: vg.Points(1.2)}
	fill := translucent(b.col)
	for _, s := range b.stats {
		y := trY(s.y)
		h := b.width / 2
		x1, x25, x50, x75, x99 := trX(s.p1), trX(s.p25), trX(s.p50), trX(s.p75), trX(s.p99)
		if b.unresolved(s) {
			xs := trX(b.step)
			sty := draw.TextStyle{Color: b.col, Font: font.From(plot.DefaultFont, vg.Points(8)), XAlign: draw.XRight,
				YAlign: draw.YCenter, Handler: p.Title.TextStyle.Handler}
			c.FillText(sty, vg.Point{X: xs - vg.Points(3), Y: y}, fmt.Sprintf("p75 <= 1 step (%.3g ns)", b.step))
			if s.p99 > b.step {
				c.StrokeLines(line, c.ClipLinesXY([]vg.Point{{X: xs, Y: y}, {X: x99, Y: y}},
					[]vg.Point{{X: x99, Y: y - h/2}, {X: x99, Y: y + h/2}})...)
			}
			if pt := (vg.Point{X: trX(s.p999), Y: y}); s.p999 > b.step && c.Contains(pt) {
				c.DrawGlyph(draw.GlyphStyle{Color: b.col, Radius: vg.Points(2.5), Shape: draw.RingGlyph{}}, pt)
			}
			continue
		}
		box := []vg.Point{{X: x25, Y: y - h}, {X: x75, Y: y - h}, {X: x75, Y: y + h}, {X: x25, Y: y + h}}
		c.FillPolygon(fill, c.ClipPolygonXY(box))
		c.StrokeLines(line, c.ClipLinesXY(append(box, box[0]))...)
		med := line
		med.Width = vg.Points(2.2)
		c.StrokeLines(med, c.ClipLinesXY([]vg.Point{{X: x50, Y: y - h}, {X: x50, Y: y + h}})...)
		c.StrokeLines(line, c.ClipLinesXY([]vg.Point{{X: x75, Y: y}, {X: x99, Y: y}}, []vg.Point{{X: x25, Y: y}, {X: x1, Y: y}},
			[]vg.Point{{X: x99, Y: y - h/2}, {X: x99, Y: y + h/2}}, []vg.Point{{X: x1, Y: y - h/2}, {X: x1, Y: y + h/2}})...)
		pt := vg.Point{X: trX(s.p999), Y: y}
		if c.Contains(pt) {
			c.DrawGlyph(draw.GlyphStyle{Color: b.col, Radius: vg.Points(2.5), Shape: draw.RingGlyph{}}, pt)
		}
	}
}

func (b *boxes) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, ymin = math.Inf(1), math.Inf(1)
	xmax, ymax = math.Inf(-1), math.Inf(-1)
	for _, s := range b.stats {
		ymin, ymax = math.Min(ymin, s.y), math.Max(ymax, s.y)
		xmin, xmax = math.Min(xmin, s.p1), math.Max(xmax, math.Max(s.p99, s.p999))
	}
	return
}

func (b *boxes) Thumbnail(c *draw.Canvas) {
	fill := translucent(b.col)
	pts := []vg.Point{{X: c.Min.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Min.Y}, {X: c.Max.X, Y: c.Max.Y}, {X: c.Min.X, Y: c.Max.Y}}
	c.FillPolygon(fill, pts)
	c.StrokeLines(draw.LineStyle{Color: b.col, Width: vg.Points(1.2)}, append(pts, pts[0]))
}

// translucent is col at a third of its opacity.
func translucent(col color.Color) color.Color {
	r, g, b, _ := col.RGBA()
	return color.NRGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(b >> 8), A: 0x55}
}

// Latency draws the distribution of single-call times per cell and path
// as boxes (p25 to p75, median line, whiskers p1 to p99, ring at p99.9) on
// a log scale. Below one TSC step (Bench.TSCStepNs) the axis is shaded:
// a cell whose p75 is at most one step is marked "p75 <= 1 step" instead
// of a box.
func Latency(b *runfile.Bench, subtitle string) *Figure {
	f := &Figure{Name: "latency.png", Width: 11, Height: 7}
	title := "Latency of single calls (box p25-p75, bar median, whiskers p1-p99, ring p99.9)"
	if subtitle != "" {
		title += "\n" + subtitle
	}
	floor := latencyFloor(b)
	has := func(c runfile.Cell) bool { _, ok := statsOf(c.Latency, floor); return ok && plainCell(c) }
	if b == nil {
		return f.empty("no timing results in this run")
	}
	names, idx := categories(b.Cells, has)
	if len(names) == 0 {
		return f.empty("no per-call latency results in this run")
	}
	step := timerStep(b)
	p := newPlot(title, latencyAxis(b), "")
	logX(p)
	p.Add(belowTimer{step}, gridLines{})
	lo, hi := math.Inf(1), math.Inf(-1)
	if step > 0 {
		lo, hi = step, step
	}
	var legend []legendItem
	for _, path := range pathOrder {
		bx := &boxes{width: vg.Points(7), step: step}
		bx.col, _, _ = pathStyle(path)
		for _, c := range b.Cells {
			if c.Path != path || c.Function == runfile.FuncFloor || !plainCell(c) {
				continue
			}
			s, ok := statsOf(c.Latency, floor)
			if !ok {
				continue
			}
			_, _, off := pathStyle(path)
			s.y = rowY(idx[Category(c)], len(names)) + off
			bx.stats = append(bx.stats, s)
		}
		if len(bx.stats) == 0 {
			continue
		}
		x0, x1, _, _ := bx.DataRange()
		lo, hi = math.Min(lo, x0), math.Max(hi, x1)
		p.Add(bx)
		f.Points += len(bx.stats)
		legend = append(legend, legendItem{string(path), bx})
	}
	p.X.Min, p.X.Max = logRange(lo, hi)
	if step > 0 {
		// Room left of the step for the "p75 < step" marks.
		p.X.Min = math.Min(p.X.Min, step/8)
	}
	nominalRows(f, p, names)
	f.withLegend(legend, p)
	return f
}

// cdfFunctions are the calls the CDF figure shows, one panel each, as
// their categories: those whose runfile.CallInfo says CDF, on
// HeadlineClock when they take a clock.
var cdfFunctions = func() []string {
	var out []string
	for _, c := range runfile.Calls {
		if !c.CDF {
			continue
		}
		cell := runfile.Cell{Function: c.Function}
		if c.Clocked {
			cell.Clock = runfile.HeadlineClock
		}
		out = append(out, Category(cell))
	}
	return out
}()

// LatencyCDF draws the cumulative distribution of single-call times: one
// panel per function that exists on more than one path (gettimeofday,
// time, getcpu, clock_gettime MONOTONIC), one solid line per path in the
// path's colour, on one shared X axis. Below one TSC step is shaded.
func LatencyCDF(b *runfile.Bench, subtitle string) *Figure {
	f := &Figure{Name: "latency-cdf.png", Width: 10}
	title := "Distribution of single-call times (CDF), one panel per call"
	if subtitle != "" {
		title += "\n" + subtitle
	}
	floor := latencyFloor(b)
	step := timerStep(b)
	type line struct {
		path runfile.Path
		xys  plotter.XYs
	}
	panels := map[string][]line{}
	lo, hi := math.Inf(1), math.Inf(-1)
	if step > 0 {
		lo, hi = step, step
	}
	var fns []string
	if b != nil {
		for _, fn := range cdfFunctions {
			for _, path := range pathOrder {
				var c *runfile.Cell
				for i := range b.Cells {
					if Category(b.Cells[i]) == fn && b.Cells[i].Path == path && plainCell(b.Cells[i]) {
						c = &b.Cells[i]
					}
				}
				if c == nil || c.Latency == nil || len(c.Latency.Quantiles) == 0 {
					continue
				}
				qs := append([]float64(nil), c.Latency.Quantiles...)
				sort.Float64s(qs)
				xys := make(plotter.XYs, len(qs))
				for i, q := range qs {
					xys[i] = plotter.XY{X: atLeast(q, floor), Y: (float64(i) + 0.5) / float64(len(qs))}
				}
				if len(panels[fn]) == 0 {
					fns = append(fns, fn)
				}
				panels[fn] = append(panels[fn], line{path, xys})
				lo, hi = math.Min(lo, xys[0].X), math.Max(hi, xys[len(xys)-1].X)
			}
		}
	}
	if len(fns) == 0 {
		return f.empty("no per-call latency results in this run")
	}
	xmin, xmax := logRange(lo, hi)
	var ps []*plot.Plot
	legend := map[runfile.Path]plot.Thumbnailer{}
	for i, fn := range fns {
		xl := ""
		if i == len(fns)-1 {
			xl = latencyAxis(b)
		}
		p := newPlot("", xl, "fraction of calls")
		if i == 0 {
			p.Title.Text = title
		}
		p.Y.Label.TextStyle.Font.Size = 10
		logX(p)
		p.Add(belowTimer{step}, plotter.NewGrid(), cornerText{fn})
		for _, ln := range panels[fn] {
			l, err := plotter.NewLine(ln.xys)
			if err != nil {
				continue
			}
			col, _, _ := pathStyle(ln.path)
			l.LineStyle = draw.LineStyle{Color: col, Width: vg.Points(2)}
			p.Add(l)
			f.Points++
			legend[ln.path] = l
		}
		p.X.Min, p.X.Max = xmin, xmax
		p.Y.Min, p.Y.Max = 0, 1
		ps = append(ps, p)
	}
	var items []legendItem
	for _, path := range pathOrder {
		if l, ok := legend[path]; ok {
			items = append(items, legendItem{string(path), l})
		}
	}
	f.Height = 0.6 + 2.1*float64(len(ps))
	f.Heights = make([]float64, len(ps))
	for i := range ps {
		f.Heights[i] = 2.1
	}
	f.Heights[0] += 0.6 // the figure's title
	f.withLegend(items, ps...)
	return f
}

// cornerText names a panel in its top left corner, inside the data area.
type cornerText struct{ text string }

func (t cornerText) Plot(c draw.Canvas, p *plot.Plot) {
	sty := draw.TextStyle{Color: color.Black, Font: font.From(plot.DefaultFont, vg.Points(12)), XAlign: draw.XLeft,
		YAlign: draw.YTop, Handler: p.Title.TextStyle.Handler}
	c.FillText(sty, vg.Point{X: c.Min.X + vg.Points(6), Y: c.Max.Y - vg.Points(4)}, t.text)
}
