package plots

import (
	"bytes"
	"errors"
	"fmt"
	"image/color"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/vbench-dev/vbench/internal/atomicfile"
	"github.com/vbench-dev/vbench/runfile"
)

// DPI is the resolution every figure is rendered at.
const DPI = 96

// margin is kept clear around the whole figure.
const margin = 6 * vg.Millimeter / 2

// MinLog is the smallest value drawn on a log axis (ns); smaller values,
// e.g. a latency that came out at or below zero once the timer overhead
// was subtracted, are drawn at MinLog.
const MinLog = 0.1

// Formats a figure can be written in: the file name's extension.
const (
	PNG = "png"
	SVG = "svg"
)

// ErrEmpty is returned when a figure with nothing to draw is rendered.
var ErrEmpty = errors.New("nothing to draw")

// ErrFormat is returned for a format other than PNG and SVG.
var ErrFormat = errors.New("unknown figure format")

// ParseFormats checks a list such as ["png", "svg"] (from --format
// png,svg): known formats, each once, at least one.
func ParseFormats(list []string) ([]string, error) {
	var out []string
	for _, f := range list {
		f = strings.ToLower(strings.TrimSpace(f))
		switch {
		case f != PNG && f != SVG:
			return nil, fmt.Errorf("%w %q (png, svg)", ErrFormat, f)
		case !slices.Contains(out, f):
			out = append(out, f)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: none given (png, svg)", ErrFormat)
	}
	return out, nil
}

// Figure is one image made of one or more plots stacked vertically,
// written as PNG or SVG.
type Figure struct {
	// Name is the file name the figure is meant to be saved as in PNG,
	// e.g. "cost.png" (File gives it for another format).
	Name string
	// Empty, when set, says why the figure has nothing to draw (e.g. "no
	// per-call latency results in this run"): it has no plots, is not
	// rendered (ErrEmpty), and a report says this sentence instead.
	Empty string
	// Points counts the data items drawn (points, boxes, lines, bars,
	// strip rows): what a test checks to know a figure shows data.
	Points int
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

// File is the figure's file name in format (PNG or SVG).
func (f *Figure) File(format string) string {
	return strings.TrimSuffix(f.Name, filepath.Ext(f.Name)) + "." + format
}

// WritePNG renders the figure as PNG to w.
func (f *Figure) WritePNG(w io.Writer) error {
	if err := f.drawable(); err != nil {
		return err
	}
	c := vgimg.NewWith(vgimg.UseWH(vg.Length(f.Width)*vg.Inch, vg.Length(f.Height)*vg.Inch),
		vgimg.UseDPI(DPI), vgimg.UseBackgroundColor(color.White))
	if err := f.render(c); err != nil {
		return err
	}
	_, err := vgimg.PngCanvas{Canvas: c}.WriteTo(w)
	return err
}

// WriteSVG renders the figure as SVG to w. Text is set in the fonts
// gonum/plot names (Liberation), not embedded: a browser substitutes.
func (f *Figure) WriteSVG(w io.Writer) error {
	if err := f.drawable(); err != nil {
		return err
	}
	wd, ht := vg.Length(f.Width)*vg.Inch, vg.Length(f.Height)*vg.Inch
	c := vgsvg.New(wd, ht)
	// SVG starts transparent; PNGs have a white background, so does this.
	c.SetColor(color.White)
	var bg vg.Path
	bg.Move(vg.Point{})
	bg.Line(vg.Point{X: wd})
	bg.Line(vg.Point{X: wd, Y: ht})
	bg.Line(vg.Point{Y: ht})
	bg.Close()
	c.Fill(bg)
	if err := f.render(c); err != nil {
		return err
	}
	_, err := c.WriteTo(w)
	return err
}

// drawable is ErrEmpty for a figure with nothing to draw.
func (f *Figure) drawable() error {
	if f.Empty != "" || len(f.Plots) == 0 || f.Width <= 0 || f.Height <= 0 {
		return fmt.Errorf("%s: %w: %s", f.Name, ErrEmpty, f.Empty)
	}
	return nil
}

// render draws the plots on c.
func (f *Figure) render(c vg.CanvasSizer) (err error) {
	defer func() {
		// gonum/plot reports some misuse by panicking; keep it one error.
		if r := recover(); r != nil {
			err = fmt.Errorf("drawing %s: %v", f.Name, r)
		}
	}()
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
	return nil
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

// Save writes the figure to path atomically, as SVG when path ends in
// ".svg", else as PNG.
func (f *Figure) Save(path string) error {
	write := f.WritePNG
	if strings.EqualFold(filepath.Ext(path), "."+SVG) {
		write = f.WriteSVG
	}
	var b bytes.Buffer
	if err := write(&b); err != nil {
		return err
	}
	return atomicfile.WriteBytes(path, b.Bytes())
}

// SaveIn writes the figure into dir in each format and returns the files
// written (base names). A figure with nothing to draw writes nothing.
func (f *Figure) SaveIn(dir string, formats []string) ([]string, error) {
	if f.Empty != "" {
		return nil, nil
	}
	var files []string
	for _, format := range formats {
		name := f.File(format)
		if err := f.Save(filepath.Join(dir, name)); err != nil {
			return files, err
		}
		files = append(files, name)
	}
	return files, nil
}

// empty returns f marked as having nothing to draw, and why.
func (f *Figure) empty(why string) *Figure {
	f.Empty, f.Plots, f.Points = why, nil, 0
	return f
}

// Colours: one per path, the same in every figure.
var (
	colSyscall  = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
	colVsyscall = color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}
	colVDSO     = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	colRseq     = color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}
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

// style is how a path is drawn: colour, glyph, and offset within its
// category.
type style struct {
	col    color.Color
	glyph  draw.GlyphDrawer
	offset float64
}

// pathStyles are the paths' styles; a test checks that every one of
// runfile.Paths has one.
var pathStyles = map[runfile.Path]style{
	runfile.PathSyscall:  {colSyscall, draw.BoxGlyph{}, 0.25},
	runfile.PathVsyscall: {colVsyscall, draw.PyramidGlyph{}, 0},
	runfile.PathVDSO:     {colVDSO, draw.CircleGlyph{}, -0.25},
	runfile.PathRseq:     {colRseq, draw.RingGlyph{}, -0.4},
}

// pathStyle gives a path's colour, glyph and offset within its category;
// the floor's for a cell without a path.
func pathStyle(path runfile.Path) (color.Color, draw.GlyphDrawer, float64) {
	if s, ok := pathStyles[path]; ok {
		return s.col, s.glyph, s.offset
	}
	return colFloor, draw.CrossGlyph{}, 0
}

// Paths in the order they are drawn and listed: the one order
// (runfile.Paths).
var pathOrder = runfile.Paths

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

// logRange fits a log axis to data spanning [lo, hi]: a quarter more on
// each side, widened to whole decades only when fewer than two powers of
// ten would be inside to label. A legend never needs room on the axis:
// figures put theirs in a strip of their own (legendStrip).
func logRange(lo, hi float64) (float64, float64) {
	lo, hi = pos(lo), pos(hi)
	if hi < lo {
		lo, hi = hi, lo
	}
	lo, hi = math.Max(lo/1.25, MinLog), hi*1.25
	if math.Floor(math.Log10(hi))-math.Ceil(math.Log10(lo)) < 1 {
		lo = math.Pow(10, math.Floor(math.Log10(lo)))
		hi = math.Pow(10, math.Ceil(math.Log10(hi)))
		if hi < lo*100 {
			hi = lo * 100
		}
	}
	return lo, hi
}

// legendTopRight puts the legend in the top right corner, inset from the
// right edge so that its symbols are not cut.
func legendTopRight(p *plot.Plot) {
	p.Legend.Top = true
	p.Legend.XOffs = -vg.Points(22)
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

// legendItem is one entry of a legend strip: a thumbnail and its label.
type legendItem struct {
	label string
	thumb plot.Thumbnailer
}

// legendStrip lays legend entries out left to right, in as many centred
// rows as the width needs, below the data rather than over it.
type legendStrip struct {
	items []legendItem
}

const (
	stripRowHeight = 0.26 // inches per row of a legend strip
	stripFontSize  = 11
	stripThumb     = vg.Length(22) // points
	stripGap       = vg.Length(16)
)

func (l *legendStrip) style() draw.TextStyle {
	return draw.TextStyle{Color: color.Black, Font: font.From(plot.DefaultFont, vg.Points(stripFontSize)),
		XAlign: draw.XLeft, YAlign: draw.YCenter, Handler: plot.New().Title.TextStyle.Handler}
}

// rows splits the items into rows that fit width.
func (l *legendStrip) rows(width vg.Length) [][]legendItem {
	sty := l.style()
	var rows [][]legendItem
	var cur []legendItem
	var w vg.Length
	for _, it := range l.items {
		iw := stripThumb + 4 + sty.Width(it.label)
		if len(cur) > 0 && w+stripGap+iw > width {
			rows, cur, w = append(rows, cur), nil, 0
		}
		if len(cur) > 0 {
			w += stripGap
		}
		cur, w = append(cur, it), w+iw
	}
	if len(cur) > 0 {
		rows = append(rows, cur)
	}
	return rows
}

func (l *legendStrip) Plot(c draw.Canvas, p *plot.Plot) {
	sty := l.style()
	rows := l.rows(c.Max.X - c.Min.X)
	rowH := (c.Max.Y - c.Min.Y) / vg.Length(max(len(rows), 1))
	for r, row := range rows {
		var total vg.Length
		for i, it := range row {
			if i > 0 {
				total += stripGap
			}
			total += stripThumb + 4 + sty.Width(it.label)
		}
		x := c.Center().X - total/2
		y := c.Max.Y - rowH*(vg.Length(r)+0.5)
		h := vg.Points(stripFontSize) * 0.8
		for _, it := range row {
			tc := draw.Canvas{Canvas: c.Canvas, Rectangle: vg.Rectangle{Min: vg.Point{X: x, Y: y - h/2}, Max: vg.Point{X: x + stripThumb, Y: y + h/2}}}
			it.thumb.Thumbnail(&tc)
			c.FillText(sty, vg.Point{X: x + stripThumb + 4, Y: y}, it.label)
			x += stripThumb + 4 + sty.Width(it.label) + stripGap
		}
	}
}

// withLegend stacks ps (sharing f.Height: f.Heights if set, else
// equally) with the legend strip under them, growing f by the strip.
func (f *Figure) withLegend(items []legendItem, ps ...*plot.Plot) {
	if len(f.Heights) != len(ps) {
		f.Heights = nil
		for range ps {
			f.Heights = append(f.Heights, f.Height/float64(len(ps)))
		}
	}
	f.Plots = ps
	if len(items) == 0 {
		return
	}
	l := &legendStrip{items: items}
	n := len(l.rows(vg.Length(f.Width)*vg.Inch - 2*margin))
	h := stripRowHeight*float64(n) + 0.1
	strip := plot.New()
	strip.HideAxes()
	strip.Add(l)
	strip.X.Min, strip.X.Max, strip.Y.Min, strip.Y.Max = 0, 1, 0, 1
	f.Plots = append(f.Plots, strip)
	f.Heights = append(f.Heights, h)
	f.Height += h
}
