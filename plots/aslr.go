package plots

import (
	"fmt"
	"image/color"
	"math"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/vbench-dev/vbench/aslr/analysis"
	"github.com/vbench-dev/vbench/runfile"
)

// AddrBits is the number of address bits the bit strip shows: those whose
// frequency a run records.
const AddrBits = analysis.BitFreqBits

// bitRegions are the regions that have a bit frequency vector.
func bitRegions(a *runfile.ASLR) []runfile.Region {
	var out []runfile.Region
	if a == nil {
		return nil
	}
	for _, r := range a.Regions {
		if r.Present > 0 && len(r.BitFreq) > 0 {
			out = append(out, r)
		}
	}
	return out
}

// strip is the heat strip: one row per region, one column per bit.
type strip struct {
	regions []runfile.Region
	cmap    palette.ColorMap
}

func (s *strip) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	n := len(s.regions)
	txt := draw.TextStyle{Color: color.Black, Font: font.From(plot.DefaultFont, vg.Points(8)),
		XAlign: draw.XCenter, YAlign: draw.YCenter, Handler: p.Title.TextStyle.Handler}
	for row, r := range s.regions {
		y := float64(n - 1 - row) // first region on top
		for bit := 0; bit < AddrBits && bit < len(r.BitFreq); bit++ {
			f := r.BitFreq[bit]
			col, err := s.cmap.At(math.Min(math.Max(f, 0), 1))
			if err != nil {
				col = color.Black
			}
			x0, x1 := trX(float64(bit)-0.5), trX(float64(bit)+0.5)
			y0, y1 := trY(y-0.45), trY(y+0.45)
			c.FillPolygon(col, []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}})
			if analysis.WeakBit(f) {
				c.FillText(txt, vg.Point{X: (x0 + x1) / 2, Y: (y0 + y1) / 2}, "w")
			}
		}
	}
	// Page boundary: bits below 12 are the offset within a 4 KiB page.
	x := trX(11.5)
	c.StrokeLine2(draw.LineStyle{Color: color.Black, Width: vg.Points(1), Dashes: []vg.Length{vg.Points(3), vg.Points(2)}},
		x, c.Min.Y, x, c.Max.Y)
}

func (s *strip) DataRange() (xmin, xmax, ymin, ymax float64) {
	return -0.5, AddrBits - 0.5, -0.5, float64(len(s.regions)) - 0.5
}

// BitStrip draws, per region, the fraction of samples in which each
// address bit 0 to 47 is set: blue bits are always 0, red always 1, pale
// ones vary; "w" marks weak bits.
func BitStrip(a *runfile.ASLR, subtitle string) *Figure {
	f := &Figure{Name: "aslr-bits.png", Width: 13}
	title := "P(address bit set) per region: blue = always 0, red = always 1, pale = varies, w = weak (set in <=35% or >=65%)"
	if a != nil {
		title += fmt.Sprintf("\n%d samples", a.Samples)
		if a.NoRandomize {
			title += ", ADDR_NO_RANDOMIZE control run"
		}
	}
	if subtitle != "" {
		title += "; " + subtitle
	}
	regs := bitRegions(a)
	if len(regs) == 0 {
		f.Height = 4
		return f.empty("no ASLR results in this run")
	}
	f.Height = 2.2 + 0.45*float64(len(regs))
	cmap := moreland.SmoothBlueRed()
	cmap.SetMin(0)
	cmap.SetMax(1)
	p := newPlot(title, "address bit (bits left of the dashed line: offset within a 4 KiB page)", "region")
	p.Title.TextStyle.Font.Size = 13
	p.Add(&strip{regions: regs, cmap: cmap})
	var names []string
	for i := len(regs) - 1; i >= 0; i-- {
		r := regs[i]
		name := fmt.Sprintf("%s (%d varying)", r.Name, r.VaryingBits)
		if same := sameBitsAs(a, regs, i); same != "" {
			name = fmt.Sprintf("%s (%s)", r.Name, same)
		}
		names = append(names, name)
	}
	f.Points = len(regs)
	p.NominalY(names...)
	p.X.Min, p.X.Max = -0.5, AddrBits-0.5
	var ticks []plot.Tick
	for b := 0; b < AddrBits; b++ {
		t := plot.Tick{Value: float64(b)}
		if b%4 == 0 || b == AddrBits-1 {
			t.Label = strconv.Itoa(b)
		}
		ticks = append(ticks, t)
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)

	bar := newPlot("", "fraction of samples with the bit set", "")
	cb := &plotter.ColorBar{ColorMap: cmap}
	bar.Add(cb)
	bar.HideY()
	bar.X.Padding = 0
	bar.X.Label.TextStyle.Font.Size = 11
	f.Plots = []*plot.Plot{p, bar}
	f.Heights = []float64{f.Height - 0.9, 0.9}
	f.Inset = []float64{0, 1.5}
	return f
}

// sameBitsAs says how regs[i] repeats a region above it, so that the
// reader need not compare 48 cells by eye: "same bits as X" when its row
// of bit frequencies is X's exactly, "fixed offset from X" when the pair
// (X, it) has one difference in every sample (as vvar follows the vDSO:
// the same randomization, its bits shifted by the offset's carries). ""
// when it repeats none.
func sameBitsAs(a *runfile.ASLR, regs []runfile.Region, i int) string {
	for j := range i {
		if regs[j].VaryingMask == regs[i].VaryingMask && slices.Equal(regs[j].BitFreq, regs[i].BitFreq) {
			return "same bits as " + regs[j].Name
		}
	}
	if a == nil || regs[i].Distinct <= 1 {
		return ""
	}
	for j := range i {
		for _, p := range a.Pairs {
			if p.DistinctDiffs == 1 && (p.A == regs[j].Name && p.B == regs[i].Name || p.B == regs[j].Name && p.A == regs[i].Name) {
				return "fixed offset from " + regs[j].Name
			}
		}
	}
	return ""
}

// hexTicks labels a linear address axis at round hexadecimal values.
type hexTicks struct{}

func (hexTicks) Ticks(min, max float64) []plot.Tick {
	span := max - min
	if span <= 0 {
		return []plot.Tick{{Value: min, Label: fmt.Sprintf("%#x", uint64(min))}}
	}
	step := math.Pow(2, math.Floor(math.Log2(span/4)))
	var out []plot.Tick
	for v := math.Ceil(min/step) * step; v <= max; v += step {
		out = append(out, plot.Tick{Value: v, Label: fmt.Sprintf("%#x", uint64(v))})
		minor := v + step/2
		if minor <= max {
			out = append(out, plot.Tick{Value: minor})
		}
	}
	return out
}

// VDSOHistogram draws the histogram of the vDSO base address over the
// range it was seen in, with the count a uniform distribution would give.
func VDSOHistogram(a *runfile.ASLR, subtitle string) *Figure {
	f := &Figure{Name: "aslr-vdso-hist.png", Width: 11, Height: 6}
	title := "Where the vDSO lands: histogram of its base address"
	var r *runfile.Region
	if a != nil {
		for i := range a.Regions {
			if a.Regions[i].Name == "vdso" {
				r = &a.Regions[i]
			}
		}
	}
	if r != nil {
		title += fmt.Sprintf("\n%d samples, %d distinct, %.1f effective bits", r.Present, r.Distinct, r.Effective)
	}
	if subtitle != "" {
		title += "\n" + subtitle
	}
	switch {
	case r == nil || r.Present == 0:
		return f.empty("no vDSO in this run's ASLR samples")
	case r.Distinct <= 1 || r.Max <= r.Min:
		return f.empty(fmt.Sprintf("one address in every sample: %#x (not randomized)", r.Min))
	case len(r.Histogram) == 0:
		return f.empty(fmt.Sprintf("range %#x-%#x; no histogram recorded", r.Min, r.Max))
	}
	p := newPlot(title, "vDSO base address (hex)", "samples per bin")
	lo, hi := float64(r.Min), float64(r.Max)
	w := (hi - lo) / float64(len(r.Histogram))
	h := &plotter.Histogram{Width: w, FillColor: colVDSO, LineStyle: draw.LineStyle{Color: colVDSO, Width: vg.Points(0.5)}}
	total := 0
	top := 0.0
	for i, n := range r.Histogram {
		h.Bins = append(h.Bins, plotter.HistogramBin{Min: lo + float64(i)*w, Max: lo + float64(i+1)*w, Weight: float64(n)})
		total += n
		top = math.Max(top, float64(n))
	}
	p.Add(plotter.NewGrid(), h)
	f.Points = len(h.Bins)
	exp := float64(total) / float64(len(r.Histogram))
	if l, err := plotter.NewLine(plotter.XYs{{X: lo, Y: exp}, {X: hi, Y: exp}}); err == nil {
		l.LineStyle = draw.LineStyle{Color: colSyscall, Width: vg.Points(1.5), Dashes: []vg.Length{vg.Points(6), vg.Points(3)}}
		p.Add(l)
		p.Legend.Add(fmt.Sprintf("uniform: %.1f per bin", exp), l)
	}
	p.Legend.Add(fmt.Sprintf("observed (%d bins of %s)", len(r.Histogram), byteSize(w)), h)
	legendTopRight(p)
	p.Y.Min, p.Y.Max = 0, top*1.35
	p.X.Min, p.X.Max = lo, hi
	p.X.Tick.Marker = hexTicks{}
	rotateX(p)
	p.X.Tick.Label.Rotation = math.Pi / 8
	f.Plots = []*plot.Plot{p}
	return f
}

func byteSize(b float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	i := 0
	for b >= 1024 && i < len(units)-1 {
		b /= 1024
		i++
	}
	return fmt.Sprintf("%.3g %s", b, units[i])
}

// Effective draws each region's effective bits as a bar, with its 95%
// interval, beside the most the kernel allows (analysis.KernelMax, for the
// run's kernel version). A figure above the maximum is drawn red, labelled
// "ABOVE MAX", and named in the title: never silent.
func Effective(a *runfile.ASLR, env runfile.Env, subtitle string) *Figure {
	f := &Figure{Name: "aslr-effective.png", Width: 11, Height: 6}
	title := fmt.Sprintf("ASLR entropy per region: measured vs the kernel's maximum\nrandomize_va_space=%s, vm.mmap_rnd_bits=%s",
		env.Shown("kernel.randomize_va_space", env.RandomizeVASpace), env.Shown("vm.mmap_rnd_bits", env.MmapRndBits))
	if subtitle != "" {
		title += "\n" + subtitle
	}
	var regs []runfile.Region
	if a != nil {
		for _, r := range a.Regions {
			if r.Present > 0 {
				regs = append(regs, r)
			}
		}
	}
	if len(regs) == 0 {
		return f.empty("no ASLR results in this run")
	}
	p := newPlot(title, "region", "bits")
	f.Points = len(regs)
	var meas, kmax plotter.Values
	var names []string
	top := 0.0
	var mLabels, kLabels []string
	var mXY, kXY plotter.XYs
	var above []string
	var whiskers plotter.XYs
	var whiskLo, whiskHi []float64
	var aboveItem *legendItem
	noInterval := 0 // regions with entropy but no interval (old run files)
	kern := analysis.KernelOf(env)
	for i, r := range regs {
		names = append(names, r.Name)
		meas = append(meas, r.Effective)
		m := analysis.MaxIn(a, r.Name, kern)
		k, ok := m.Bits, m.Known
		lab := fmt.Sprintf("%.1f", r.Effective)
		if analysis.Above(r, m) {
			lab += " ABOVE MAX"
			above = append(above, r.Name)
		}
		mLabels = append(mLabels, lab)
		mXY = append(mXY, plotter.XY{X: float64(i) - 0.18, Y: math.Max(r.Effective, r.EffectiveHi)})
		if r.Rule == "" && r.Distinct > 1 {
			noInterval++
		}
		if r.Rule != "" && r.EffectiveHi > r.EffectiveLo {
			whiskers = append(whiskers, plotter.XY{X: float64(i) - 0.18, Y: r.Effective})
			whiskLo = append(whiskLo, r.Effective-r.EffectiveLo)
			whiskHi = append(whiskHi, r.EffectiveHi-r.Effective)
			top = math.Max(top, r.EffectiveHi)
		}
		if !ok {
			k = 0
		}
		kmax = append(kmax, k)
		klab := fmt.Sprintf("%.0f", k)
		if !ok {
			klab = "?"
		}
		kLabels = append(kLabels, klab)
		kXY = append(kXY, plotter.XY{X: float64(i) + 0.18, Y: k})
		top = math.Max(top, math.Max(r.Effective, k))
	}
	width := vg.Points(22)
	bm, err := plotter.NewBarChart(meas, width)
	if err != nil {
		return f.empty(err.Error())
	}
	bm.Color = colVDSO
	bm.LineStyle.Width = 0
	bm.Offset = -width / 2
	bk, err := plotter.NewBarChart(kmax, width)
	if err != nil {
		return f.empty(err.Error())
	}
	bk.Color = color.RGBA{R: 0xbb, G: 0xbb, B: 0xbb, A: 0xff}
	bk.LineStyle.Width = 0
	bk.Offset = width / 2
	p.Add(plotter.NewGrid(), bm, bk)
	if len(above) > 0 {
		// A second, red bar chart over the flagged regions only.
		red := make(plotter.Values, len(meas))
		for i, r := range regs {
			if slices.Contains(above, r.Name) {
				red[i] = meas[i]
			}
		}
		if br, err := plotter.NewBarChart(red, width); err == nil {
			br.Color = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
			br.LineStyle.Width = 0
			br.Offset = -width / 2
			p.Add(br)
			aboveItem = &legendItem{"above the kernel maximum: the maximum or the estimate is wrong", br}
		}
		p.Title.Text += "\nABOVE THE KERNEL MAXIMUM: " + strings.Join(above, ", ")
	}
	if len(whiskers) > 0 {
		eb := errorBars{xy: whiskers, lo: whiskLo, hi: whiskHi}
		if yb, err := plotter.NewYErrorBars(eb); err == nil {
			yb.LineStyle.Width = vg.Points(1.2)
			p.Add(yb)
		}
	}
	for _, l := range []struct {
		xy  plotter.XYs
		lab []string
	}{{mXY, mLabels}, {kXY, kLabels}} {
		xy := make(plotter.XYs, len(l.xy))
		copy(xy, l.xy)
		for i := range xy {
			xy[i].Y += top * 0.03
		}
		if lb, err := plotter.NewLabels(plotter.XYLabels{XYs: xy, Labels: l.lab}); err == nil {
			for i := range lb.TextStyle {
				lb.TextStyle[i].XAlign = draw.XCenter
				lb.TextStyle[i].Font.Size = 10
			}
			p.Add(lb)
		}
	}
	measured := "measured effective bits, whiskers: the 95% interval of the entropy it names"
	switch {
	case len(whiskers) == 0 && noInterval > 0:
		measured = "measured effective bits (no intervals: the run file predates them)"
		p.Title.Text += "\nno 95% intervals: this run file was written before they were recorded"
	case noInterval > 0:
		measured += fmt.Sprintf(" (%d regions have none)", noInterval)
	}
	legend := []legendItem{{measured, bm}, {"kernel maximum (? = not known)", bk}}
	legend = append(legend, estimatorMarks(p, regs)...)
	if aboveItem != nil {
		legend = append(legend, *aboveItem)
	}
	p.NominalX(names...)
	p.X.Min, p.X.Max = -0.7, float64(len(names))-0.3
	p.Y.Min, p.Y.Max = 0, math.Max(top*1.15, 4)
	f.withLegend(legend, p)
	return f
}

// estimatorMarks draws, over each region's bar, a mark per estimator of
// package analysis's registry that estimates an entropy (not the upper
// bounds, whose figure the bar already meets), at its figure: one shape
// per estimator, in the registry's order, so that a new estimator appears
// in the figure with no change here. Infinite figures (a collision
// estimate with no equal pair) are not drawn.
func estimatorMarks(p *plot.Plot, regs []runfile.Region) []legendItem {
	shapes := []draw.GlyphDrawer{draw.CircleGlyph{}, draw.TriangleGlyph{}, draw.SquareGlyph{}, draw.PlusGlyph{}, draw.CrossGlyph{}, draw.RingGlyph{}}
	var items []legendItem
	k := 0
	for _, e := range analysis.Estimators() {
		if e.Kind == runfile.EntropyUpperBound {
			continue
		}
		var xy plotter.XYs
		for i := range regs {
			if x, ok := regs[i].Estimate(e.Name); ok && x.Bits >= 0 && regs[i].Distinct > 1 {
				xy = append(xy, plotter.XY{X: float64(i) - 0.18, Y: x.Bits})
			}
		}
		shape := shapes[k%len(shapes)]
		k++
		if len(xy) == 0 {
			continue
		}
		sc, err := plotter.NewScatter(xy)
		if err != nil {
			continue
		}
		sc.GlyphStyle = draw.GlyphStyle{Shape: shape, Radius: vg.Points(3.5), Color: color.Black}
		p.Add(sc)
		label := e.Label + " (" + string(e.Kind) + ")"
		if strings.EqualFold(e.Label, string(e.Kind)) {
			label = e.Label
		}
		items = append(items, legendItem{label, sc})
	}
	return items
}

// errorBars feeds plotter.NewYErrorBars: points with distances down and up.
type errorBars struct {
	xy     plotter.XYs
	lo, hi []float64
}

func (e errorBars) Len() int                        { return len(e.xy) }
func (e errorBars) XY(i int) (float64, float64)     { return e.xy[i].X, e.xy[i].Y }
func (e errorBars) YError(i int) (float64, float64) { return e.lo[i], e.hi[i] }
