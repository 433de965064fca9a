package plots

import (
	"bytes"
	"errors"
	"image/color"
	"image/png"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vbench-dev/vbench/runfile"
)

// The real runs package report keeps as fixtures (report/testdata/README.md):
// a host run with per-call latencies, and a QEMU guest run without.
func load(t *testing.T, name string) *runfile.Run {
	t.Helper()
	r, err := runfile.ReadFile(filepath.Join("..", "report", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// decode renders f as PNG and SVG and checks the PNG has f's size and is
// not blank, and that the SVG is an SVG document.
func decode(t *testing.T, f *Figure) {
	t.Helper()
	b, err := f.PNG()
	if err != nil {
		t.Fatalf("%s: %v", f.Name, err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", f.Name, err)
	}
	w, h := f.Pixels()
	if img.Bounds().Dx() != w || img.Bounds().Dy() != h {
		t.Errorf("%s: %v, want %dx%d", f.Name, img.Bounds(), w, h)
	}
	dark := 0
	for y := 0; y < h; y += 3 {
		for x := 0; x < w; x += 3 {
			if r, g, b, _ := img.At(x, y).RGBA(); r+g+b < 3*0xc000 {
				dark++
			}
		}
	}
	if dark == 0 {
		t.Errorf("%s: nothing drawn", f.Name)
	}
	var svg bytes.Buffer
	if err := f.WriteSVG(&svg); err != nil {
		t.Fatalf("%s as SVG: %v", f.Name, err)
	}
	if !strings.Contains(svg.String(), "<svg") || !strings.Contains(svg.String(), "</svg>") {
		t.Errorf("%s: SVG output is not an SVG document: %.100q", f.Name, svg.String())
	}
}

// Empty, nil and degenerate inputs give a figure that says why it is
// empty, draws nothing and refuses to render: never a placeholder image.
func TestEmptyInputs(t *testing.T) {
	oneValue := &runfile.ASLR{Samples: 10, Regions: []runfile.Region{{Name: "vdso", Present: 10, Distinct: 1,
		Min: 0x7fff0000, Max: 0x7fff0000, BitFreq: make([]float64, AddrBits)}}}
	noLatency := &runfile.Bench{Cells: []runfile.Cell{{Function: "time", Path: "vdso", Summary: &runfile.Summary{Median: 2}}}}
	for _, f := range []*Figure{
		Cost(nil, ""), Cost(&runfile.Bench{}, ""),
		Latency(nil, ""), Latency(&runfile.Bench{}, ""), Latency(noLatency, ""),
		LatencyCDF(nil, ""), LatencyCDF(noLatency, ""),
		BitStrip(nil, ""), VDSOHistogram(nil, ""), VDSOHistogram(oneValue, ""),
		Effective(nil, runfile.Env{}, ""),
		Compare(nil, nil, nil), Compare([]*runfile.Run{{}, {}}, []string{"a", "b"}, nil),
	} {
		if f.Empty == "" || f.Points != 0 || len(f.Plots) != 0 {
			t.Errorf("%s: Empty %q, %d points, %d plots; want a reason and nothing drawn", f.Name, f.Empty, f.Points, len(f.Plots))
		}
		if _, err := f.PNG(); !errors.Is(err, ErrEmpty) {
			t.Errorf("%s: rendering an empty figure: %v, want ErrEmpty", f.Name, err)
		}
		files, err := f.SaveIn(t.TempDir(), []string{PNG, SVG})
		if err != nil || len(files) != 0 {
			t.Errorf("%s: SaveIn wrote %v (%v), want nothing", f.Name, files, err)
		}
	}
	// A constant region still has a row in the bit strip and a bar.
	for _, f := range []*Figure{BitStrip(oneValue, ""), Effective(oneValue, runfile.Env{KernelRelease: "6.18.0"}, "")} {
		if f.Empty != "" || f.Points == 0 {
			t.Errorf("%s of a constant region: Empty %q, %d points", f.Name, f.Empty, f.Points)
		}
		decode(t, f)
	}
}

// measuredCells counts the cells a cost figure must show: measured, not
// floors; and the floors drawn as lines.
func measuredCells(b *runfile.Bench) (cells, floors int) {
	for _, c := range b.Cells {
		switch {
		case c.Summary == nil:
		case c.Function != "floor":
			cells++
		case c.Clock == "rdtsc" || c.Clock == "rdtscp":
			floors++
		}
	}
	return
}

func latencyCells(b *runfile.Bench) int {
	n := 0
	for _, c := range b.Cells {
		if c.Latency != nil && c.Function != "floor" {
			n++
		}
	}
	return n
}

// Each figure of a real run draws every data item the run has.
func TestFiguresDrawTheData(t *testing.T) {
	for _, name := range []string{"host.json", "xonly.json", "none.json"} {
		r := load(t, name)
		cells, floors := measuredCells(r.Bench)
		if cells == 0 {
			t.Fatalf("%s: fixture has no measured cells", name)
		}
		f := Cost(r.Bench, name)
		if f.Points != cells+floors {
			t.Errorf("%s: cost draws %d points, want %d cells and %d floors", name, f.Points, cells, floors)
		}
		decode(t, f)
		lat := latencyCells(r.Bench)
		for _, f := range []*Figure{Latency(r.Bench, name), LatencyCDF(r.Bench, name)} {
			switch {
			case lat == 0 && f.Empty == "":
				t.Errorf("%s: %s has no latencies to draw but is not empty", name, f.Name)
			case lat > 0 && f.Points == 0:
				t.Errorf("%s: %s draws nothing of %d latency cells", name, f.Name, lat)
			case lat > 0:
				decode(t, f)
			}
		}
		if lf := Latency(r.Bench, ""); lat > 0 && lf.Points != lat {
			t.Errorf("%s: latency draws %d boxes, want %d", name, lf.Points, lat)
		}
		present := 0
		for _, g := range r.ASLR.Regions {
			if g.Present > 0 {
				present++
			}
		}
		for _, f := range []*Figure{BitStrip(r.ASLR, name), Effective(r.ASLR, r.Env, name)} {
			if f.Points != present {
				t.Errorf("%s: %s draws %d regions, want %d", name, f.Name, f.Points, present)
			}
			decode(t, f)
		}
		if f := VDSOHistogram(r.ASLR, name); f.Points == 0 {
			t.Errorf("%s: the vDSO histogram draws no bins (%q)", name, f.Empty)
		} else {
			decode(t, f)
		}
	}
}

// A latency box shorter than one TSC step is not drawn as a box: it is
// below the timer's resolution, and the axis says so.
func TestLatencyBelowTimer(t *testing.T) {
	r := load(t, "host.json")
	step := r.Bench.TSCStepNs
	if step <= 0 {
		t.Fatal("host fixture has no TSC step")
	}
	bx := &boxes{step: step}
	var below, above int
	for _, c := range r.Bench.Cells {
		s, ok := statsOf(c.Latency, latencyFloor(r.Bench))
		if !ok {
			continue
		}
		if bx.unresolved(s) {
			below++
			if p75 := quantile(c.Latency.Quantiles, 0.75); p75 > step*1.001 {
				t.Errorf("%s: p75 %.1f ns is above the step %.1f ns but the box is called unresolved", c.Name(), p75, step)
			}
		} else {
			above++
		}
	}
	if below == 0 || above == 0 {
		t.Errorf("host run: %d boxes below the timer step and %d above; the fixture has both", below, above)
	}
	if !strings.Contains(latencyAxis(r.Bench), "below the timer's resolution") {
		t.Errorf("axis label %q does not say where the timer's resolution ends", latencyAxis(r.Bench))
	}
}

func TestSameBitsAs(t *testing.T) {
	r := load(t, "host.json")
	regs := bitRegions(r.ASLR)
	found := 0
	for i := range regs {
		same := sameBitsAs(r.ASLR, regs, i)
		if same == "" {
			continue
		}
		found++
		if other, ok := strings.CutPrefix(same, "same bits as "); ok {
			for _, g := range regs {
				if g.Name == other && g.VaryingMask != regs[i].VaryingMask {
					t.Errorf("%s said to have the same bits as %s, but the masks differ", regs[i].Name, other)
				}
			}
		}
	}
	// The pairs the run recorded with one difference in every sample.
	want := 0
	for i := range regs {
		for j := range i {
			if pairFixed(r.ASLR, regs[i].Name, regs[j].Name) {
				want++
				break
			}
		}
	}
	if want == 0 || found < want {
		t.Errorf("%d rows named as repeating one above, want at least %d (pairs with a fixed offset)", found, want)
	}
	if got := sameBitsAs(r.ASLR, regs, 0); got != "" {
		t.Errorf("the first row repeats %q", got)
	}
}

func pairFixed(a *runfile.ASLR, x, y string) bool {
	for _, p := range a.Pairs {
		if p.DistinctDiffs == 1 && (p.A == x && p.B == y || p.A == y && p.B == x) {
			return true
		}
	}
	return false
}

// The comparison figure says how many cells it shows, and draws a run
// that differs filled with its ratio.
func TestCompareFigure(t *testing.T) {
	runs := []*runfile.Run{load(t, "emulate.json"), load(t, "xonly.json"), load(t, "none.json")}
	calls := map[string]int{}
	f := Compare(runs, []string{"emulate", "xonly", "none"}, func(name string, run int) (string, bool) {
		calls[name]++
		return "2.00x", name == "Gettimeofday/path=syscall"
	})
	title := f.Plots[0].Title.Text
	if !strings.Contains(title, "headline cells of the") {
		t.Errorf("title %q does not say how many cells are shown", title)
	}
	if f.Points == 0 || len(calls) == 0 {
		t.Errorf("%d points drawn, verdict asked for %d cells", f.Points, len(calls))
	}
	decode(t, f)
}

func TestQuantile(t *testing.T) {
	// Element i is the (i+0.5)/n quantile of 0..99.
	qs := make([]float64, 100)
	for i := range qs {
		qs[i] = float64(i)
	}
	for _, tt := range []struct{ q, want float64 }{{0.5, 49.5}, {0.005, 0}, {0.995, 99}, {0, 0}, {1, 99}, {0.25, 24.5}} {
		if got := quantile(qs, tt.q); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("quantile(%v) = %v, want %v", tt.q, got, tt.want)
		}
	}
	if !math.IsNaN(quantile(nil, 0.5)) {
		t.Error("quantile of nothing should be NaN")
	}
}

// logRange holds the data, stays positive, labels at least two powers of
// ten, and does not run decades past the data.
func TestLogRange(t *testing.T) {
	for _, tt := range [][2]float64{{0, 0}, {-5, 10}, {2.2, 7000}, {math.NaN(), 3}, {900, 1100}, {0.3, 60000}} {
		lo, hi := logRange(tt[0], tt[1])
		dlo, dhi := pos(tt[0]), pos(tt[1])
		if !(lo > 0 && lo <= dlo && hi >= dhi) {
			t.Errorf("logRange(%v) = %v, %v: does not hold the data", tt, lo, hi)
		}
		if n := math.Floor(math.Log10(hi)) - math.Ceil(math.Log10(lo)) + 1; n < 2 {
			t.Errorf("logRange(%v) = %v, %v: %v powers of ten inside", tt, lo, hi, n)
		}
		if hi > 100*dhi || lo < dlo/100 {
			t.Errorf("logRange(%v) = %v, %v: runs two decades past the data", tt, lo, hi)
		}
	}
	if lo, hi := logRange(2.2, 7000); lo < 1 || hi > 10000 {
		t.Errorf("logRange(2.2, 7000) = %v, %v, want within [1, 10000]", lo, hi)
	}
}

func TestParseFormats(t *testing.T) {
	if got, err := ParseFormats([]string{"png", " SVG", "png"}); err != nil || strings.Join(got, ",") != "png,svg" {
		t.Errorf("ParseFormats = %v, %v", got, err)
	}
	for _, bad := range [][]string{nil, {"jpeg"}, {""}} {
		if _, err := ParseFormats(bad); !errors.Is(err, ErrFormat) {
			t.Errorf("ParseFormats(%q) = %v, want ErrFormat", bad, err)
		}
	}
	f := &Figure{Name: "run1-cost.png"}
	if f.File(SVG) != "run1-cost.svg" || f.File(PNG) != "run1-cost.png" {
		t.Errorf("File: %s, %s", f.File(SVG), f.File(PNG))
	}
}

func TestHexTicks(t *testing.T) {
	ts := hexTicks{}.Ticks(float64(0x7f0000000000), float64(0x7fffffffffff))
	labelled := 0
	for _, tk := range ts {
		if tk.Label != "" {
			labelled++
			if tk.Label[:2] != "0x" {
				t.Errorf("label %q is not hex", tk.Label)
			}
		}
	}
	if labelled < 3 || labelled > 9 {
		t.Errorf("%d labelled ticks, want 3 to 9", labelled)
	}
}

// TestEveryPathHasAStyle: every path of the vocabulary is drawn in a
// colour of its own, none in the floor's.
func TestEveryPathHasAStyle(t *testing.T) {
	seen := map[color.Color]bool{colFloor: true}
	for _, p := range runfile.Paths {
		s, ok := pathStyles[p]
		if !ok || seen[s.col] {
			t.Errorf("path %s: style %v, %v (a colour of its own wanted)", p, s, ok)
		}
		seen[s.col] = true
	}
}
