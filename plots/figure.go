package plots

import (
	"bytes"
	"fmt"
	"image/color"
	"io"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/vbench-dev/vbench/internal/atomicfile"
	"github.com/vbench-dev/vbench/probes"
)

// DPI is the resolution every figure is rendered at.
const DPI = 96

// margin is kept clear around the whole figure.
const margin = 6 * vg.Millimeter / 2

// MinLog is the smallest value drawn on a log axis (ns); smaller values,
// e.g. a latency that came out at or below zero once the timer overhead
// was subtracted, are drawn at MinLog.
const MinLog = 0.1

// Figure is one PNG image made of one or more plots stacked vertically.
type Figure struct {
	// Name is the file name the figure is meant to be saved as, e.g.
	// "cost.png".
	Name string
	// Plots are drawn top to bottom; Heights are their relative heights
	// (nil: equal).
	Plots   []*plot.Plot
	Heights []float64
	// Width and Height in inches.
	Width, Height float64
	// Inset[i], if set, narrows plot i by that many inches on each side.
	Inset []float64
}

// Pixels is the size of the rendered PNG.
func (f *Figure) Pixels() (w, h int) {
	return int(math.Round(f.Width * DPI)), int(math.Round(f.Height * DPI))
}

// WritePNG renders the figure as PNG to w.
func (f *Figure) WritePNG(w io.Writer) (err error) {
	defer func() {
		// gonum/plot reports some misuse by panicking; keep it one error.
		if r := recover(); r != nil {
			err = fmt.Errorf("drawing %s: %v", f.Name, r)
		}
	}()
	c := vgimg.NewWith(vgimg.UseWH(vg.Length(f.Width)*vg.Inch, vg.Length(f.Height)*vg.Inch),
		vgimg.UseDPI(DPI), vgimg.UseBackgroundColor(color.White))
	dc := draw.Crop(draw.New(c), margin, -margin, margin, -margin)
	top := dc.Max.Y
	total := 0.0
	for i := range f.Plots {
		total += f.height(i)
	}
	for i, p := range f.Plots {
		h := vg.Length(f.height(i)/total) * (dc.Max.Y - dc.Min.Y)
		sub := dc
		sub.Max.Y = top
		sub.Min.Y = top - h
		top -= h
		if i < len(f.Inset) && f.Inset[i] > 0 {
			in := vg.Length(f.Inset[i]) * vg.Inch
			sub.Min.X += in
			sub.Max.X -= in
		}
		drawPlot(p, sub)
	}
	_, err = vgimg.PngCanvas{Canvas: c}.WriteTo(w)
	return err
}

// drawPlot draws p on c. gonum/plot reserves room for an X axis label as
// if it sat at the arithmetic middle of the axis range, which on a log
// axis is near its right end: a long label there shrinks the data area.
// So on a log X axis the label is drawn here, centred under the data.
func drawPlot(p *plot.Plot, c draw.Canvas) {
	if _, isLog := p.X.Scale.(plot.LogScale); !isLog || p.X.Label.Text == "" {
		p.Draw(c)
		return
	}
	label := p.X.Label.Text
	p.X.Label.Text = " "
	defer func() { p.X.Label.Text = label }()
	p.Draw(c)
	dc := p.DataCanvas(c)
	sty := p.X.Label.TextStyle
	sty.XAlign, sty.YAlign = draw.XCenter, draw.YBottom
	c.FillText(sty, vg.Point{X: dc.Center().X, Y: c.Min.Y + sty.FontExtents().Descent}, label)
}

func (f *Figure) height(i int) float64 {
	if i < len(f.Heights) {
		return f.Heights[i]
	}
	return 1
}

// PNG returns the rendered figure.
func (f *Figure) PNG() ([]byte, error) {
	var b bytes.Buffer
	if err := f.WritePNG(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Save writes the figure to path atomically.
func (f *Figure) Save(path string) error {
	b, err := f.PNG()
	if err != nil {
		return err
	}
	return atomicfile.WriteBytes(path, b)
}

// Colours: one per path, the same in every figure.
var (
	colSyscall  = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
	colVsyscall = color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}
	colVDSO     = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	colFloor    = color.RGBA{R: 0x55, G: 0x55, B: 0x55, A: 0xff}
	colGrid     = color.RGBA{R: 0xdd, G: 0xdd, B: 0xdd, A: 0xff}
)

// runColours are for runs in the comparison (Tableau 10).
var runColours = []color.RGBA{
	{0x1f, 0x77, 0xb4, 0xff}, {0xff, 0x7f, 0x0e, 0xff}, {0x2c, 0xa0, 0x2c, 0xff},
	{0xd6, 0x27, 0x28, 0xff}, {0x94, 0x67, 0xbd, 0xff}, {0x8c, 0x56, 0x4b, 0xff},
	{0xe3, 0x77, 0xc2, 0xff}, {0x7f, 0x7f, 0x7f, 0xff}, {0xbc, 0xbd, 0x22, 0xff},
	{0x17, 0xbe, 0xcf, 0xff},
}

// pathStyle gives a path's colour, glyph and offset within its category.
func pathStyle(path string) (color.Color, draw.GlyphDrawer, float64) {
	switch path {
	case "syscall":
		return colSyscall, draw.BoxGlyph{}, 0.25
	case "vsyscall":
		return colVsyscall, draw.PyramidGlyph{}, 0
	case "vdso":
		return colVDSO, draw.CircleGlyph{}, -0.25
	}
	return colFloor, draw.CrossGlyph{}, 0
}

// Paths in the order they are drawn and listed: the registry's one order
// (probes.Paths).
var pathOrder = probes.BenchPaths

// newPlot returns a plot with the house style: title, axis labels, larger
// fonts, a light grid.
func newPlot(title, xlabel, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = 15
	p.Title.Padding = vg.Points(6)
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font.Size = 12
		a.Tick.Label.Font.Size = 10
	}
	p.Legend.TextStyle.Font.Size = 11
	return p
}

// logY makes p's Y axis logarithmic with labelled powers of ten.
func logY(p *plot.Plot) {
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = logTicks{}
}

func logX(p *plot.Plot) {
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = logTicks{}
}

// logTicks is plot.LogTicks with plain numbers ("1000000", not "1e+06").
type logTicks struct{}

func (logTicks) Ticks(min, max float64) []plot.Tick {
	ts := plot.LogTicks{Prec: -1}.Ticks(pos(min), pos(max))
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = strconv.FormatFloat(ts[i].Value, 'f', -1, 64)
		}
	}
	return ts
}

// rotateX tilts the X tick labels so long category names fit.
func rotateX(p *plot.Plot) {
	p.X.Tick.Label.Rotation = math.Pi / 2
	p.X.Tick.Label.XAlign = draw.XRight
	p.X.Tick.Label.YAlign = draw.YCenter
}

// pos keeps a value usable on a log axis.
func pos(v float64) float64 {
	if math.IsNaN(v) || v < MinLog {
		return MinLog
	}
	return v
}

// logRange widens [lo, hi] to whole decades with some headroom for the
// legend, so LogTicks labels at least two powers of ten.
func logRange(lo, hi float64, headroom float64) (float64, float64) {
	lo, hi = pos(lo), pos(hi)
	lo = math.Pow(10, math.Floor(math.Log10(lo)))
	hi = math.Pow(10, math.Ceil(math.Log10(hi*headroom)))
	if hi <= lo*10 {
		hi = lo * 100
	}
	return lo, hi
}

// legendTopRight puts the legend in the top right corner, inset from the
// right edge so that its symbols are not cut.
func legendTopRight(p *plot.Plot) {
	p.Legend.Top = true
	p.Legend.XOffs = -vg.Points(22)
}

// emptyPlot is what a figure shows when there is nothing to draw, so that
// a report never points at a missing image.
func emptyPlot(title, why string) *plot.Plot {
	p := newPlot(title, "", "")
	p.HideAxes()
	p.Add(textAt{x: 0.5, y: 0.5, text: why})
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
	return p
}

// textAt draws one string centred at a data point.
type textAt struct {
	x, y float64
	text string
	size float64
}

func (t textAt) Plot(c draw.Canvas, p *plot.Plot) {
	x, y := p.Transforms(&c)
	size := t.size
	if size == 0 {
		size = 13
	}
	sty := draw.TextStyle{Color: color.Black, Font: font.From(plot.DefaultFont, vg.Points(size)),
		XAlign: draw.XCenter, YAlign: draw.YCenter, Handler: p.Title.TextStyle.Handler}
	c.FillText(sty, vg.Point{X: x(t.x), Y: y(t.y)}, t.text)
}

// gridLines draws vertical grid lines at the labelled X ticks and faint
// horizontal lines between categories (under the data).
type gridLines struct{}

func (gridLines) Plot(c draw.Canvas, p *plot.Plot) {
	x, y := p.Transforms(&c)
	sty := draw.LineStyle{Color: colGrid, Width: vg.Points(0.7)}
	for _, t := range p.X.Tick.Marker.Ticks(p.X.Min, p.X.Max) {
		if t.IsMinor() {
			continue
		}
		xx := x(t.Value)
		if xx < c.Min.X || xx > c.Max.X {
			continue
		}
		c.StrokeLine2(sty, xx, c.Min.Y, xx, c.Max.Y)
	}
	sty.Width = vg.Points(0.4)
	for v := math.Ceil(p.Y.Min) - 0.5; v < p.Y.Max; v++ {
		yy := y(v)
		if yy < c.Min.Y || yy > c.Max.Y {
			continue
		}
		c.StrokeLine2(sty, c.Min.X, yy, c.Max.X, yy)
	}
}
