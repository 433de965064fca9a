package plots

import (
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/vbench-dev/vbench/runfile"
)

// TimelineKernel is one kernel of the boot lab's timeline: its label on
// the X axis (the version, "6.12.117"), its architecture (uname -m) and
// the run its guest sent back (nil: none came back; the kernel keeps its
// place on the axis, with nothing drawn).
type TimelineKernel struct {
	Label string
	Arch  string
	Run   *runfile.Run
}

// timelineCall is the call whose cost the timeline draws per door: the one
// call the syscall, the vsyscall page and the vDSO all serve.
const timelineCall = "gettimeofday"

// archStyle tells the architectures apart: a shift along the X axis and a
// line dash (x86-64 solid, arm64 dashed).
func archStyle(arch string) (shift float64, dashes []vg.Length) {
	if arch == "aarch64" {
		return 0.12, []vg.Length{vg.Points(4), vg.Points(3)}
	}
	return -0.12, nil
}

// Timeline draws the boot lab's timeline: above, the vDSO base's
// effective bits with their 95% interval per kernel; below, the median
// cost of gettimeofday through each door per kernel, on a log axis. The
// kernels are in the order given (the timeline's version order), one
// position per label, the architectures side by side. The title says that
// guest timings under TCG are emulated.
func Timeline(ks []TimelineKernel, emulated bool, subtitle string) *Figure {
	f := &Figure{Name: "timeline.png", Width: 11, Height: 8, Heights: []float64{3.6, 4.4}}
	var labels []string
	var arches []string
	for _, k := range ks {
		if !slices.Contains(labels, k.Label) {
			labels = append(labels, k.Label)
		}
		if k.Run != nil && !slices.Contains(arches, k.Arch) {
			arches = append(arches, k.Arch)
		}
	}
	if len(arches) == 0 {
		return f.empty("no kernel of the timeline sent a run back")
	}
	x := func(k TimelineKernel) float64 {
		s, _ := archStyle(k.Arch)
		return float64(slices.Index(labels, k.Label)) + s
	}
	title := "The kernel timeline: the vDSO's effective bits per kernel"
	if subtitle != "" {
		title += "\n" + subtitle
	}
	bits := newPlot(title, "", "vDSO base: effective bits")
	bits.Add(plotter.NewGrid())
	var legend []legendItem
	top := 4.0
	for ai, arch := range arches {
		col := runColours[ai%len(runColours)]
		var xy plotter.XYs
		var lo, hi []float64
		for _, k := range ks {
			g := vdsoRegion(k)
			if k.Arch != arch || g == nil {
				continue
			}
			xy = append(xy, plotter.XY{X: x(k), Y: g.Effective})
			lo = append(lo, math.Max(g.Effective-g.EffectiveLo, 0))
			hi = append(hi, math.Max(g.EffectiveHi-g.Effective, 0))
			top = math.Max(top, math.Max(g.EffectiveHi, g.Effective))
		}
		if len(xy) == 0 {
			continue
		}
		sc, err := plotter.NewScatter(xy)
		if err != nil {
			continue
		}
		sc.GlyphStyle.Color, sc.GlyphStyle.Radius, sc.GlyphStyle.Shape = col, vg.Points(4), draw.CircleGlyph{}
		eb, err := plotter.NewYErrorBars(errorBars{xy: xy, lo: lo, hi: hi})
		if err == nil {
			eb.LineStyle.Color, eb.LineStyle.Width = col, vg.Points(1.2)
			bits.Add(eb)
		}
		bits.Add(sc)
		f.Points += len(xy)
		legend = append(legend, legendItem{arch + ": vDSO effective bits, whiskers the 95% interval", sc})
	}
	bits.NominalX(labels...)
	bits.X.Min, bits.X.Max = -0.6, float64(len(labels))-0.4
	bits.Y.Min, bits.Y.Max = 0, top*1.12

	costTitle := "gettimeofday per door (median ns per call)"
	if emulated {
		costTitle += "\nguest timings come from QEMU's software emulation (TCG): comparable with each other, not hardware numbers"
	}
	cost := newPlot(costTitle, "kernel", "ns per call (log)")
	cost.Y.Scale = plot.LogScale{}
	cost.Y.Tick.Marker = logTicks{}
	cost.Add(plotter.NewGrid())
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, arch := range arches {
		_, dashes := archStyle(arch)
		for _, path := range []runfile.Path{runfile.PathSyscall, runfile.PathVsyscall, runfile.PathVDSO} {
			var xy plotter.XYs
			for _, k := range ks {
				if k.Arch != arch || k.Run == nil || k.Run.Bench == nil {
					continue
				}
				c, ok := k.Run.Bench.Find(timelineCall, "", path)
				if !ok || c.Unavailable != "" || c.Summary == nil || c.Summary.Median <= 0 {
					continue
				}
				v := pos(c.Summary.Median)
				xy = append(xy, plotter.XY{X: x(k), Y: v})
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
			if len(xy) == 0 {
				continue
			}
			col, glyph, _ := pathStyle(path)
			ln, pts, err := plotter.NewLinePoints(xy)
			if err != nil {
				continue
			}
			ln.LineStyle.Color, ln.LineStyle.Width, ln.LineStyle.Dashes = col, vg.Points(1.2), dashes
			pts.GlyphStyle.Color, pts.GlyphStyle.Shape, pts.GlyphStyle.Radius = col, glyph, vg.Points(3.5)
			cost.Add(ln, pts)
			f.Points += len(xy)
			legend = append(legend, legendItem{fmt.Sprintf("%s %s", arch, path), lineAndPoints{ln, pts}})
		}
	}
	if f.Points == 0 {
		return f.empty("no kernel of the timeline has a vDSO estimate or a gettimeofday cost")
	}
	cost.NominalX(labels...)
	cost.X.Min, cost.X.Max = -0.6, float64(len(labels))-0.4
	if lo <= hi {
		cost.Y.Min, cost.Y.Max = logRange(lo, hi)
	} else {
		cost.Y.Min, cost.Y.Max = 1, 10000
		cost.Title.Text += "\nno gettimeofday cell was measured"
	}
	f.withLegend(legend, bits, cost)
	return f
}

// vdsoRegion is the vDSO region of a kernel's run with an estimate, or nil.
func vdsoRegion(k TimelineKernel) *runfile.Region {
	if k.Run == nil || k.Run.ASLR == nil {
		return nil
	}
	for i := range k.Run.ASLR.Regions {
		g := &k.Run.ASLR.Regions[i]
		if g.Name == "vdso" && g.Present > 0 {
			return g
		}
	}
	return nil
}

// lineAndPoints is a legend thumbnail of a line with its glyph.
type lineAndPoints struct {
	l *plotter.Line
	p *plotter.Scatter
}

func (t lineAndPoints) Thumbnail(c *draw.Canvas) {
	t.l.Thumbnail(c)
	t.p.Thumbnail(c)
}
