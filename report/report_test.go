package report

import (
	"bytes"
	"flag"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vbench-dev/vbench/plots"
	"github.com/vbench-dev/vbench/runfile"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden/")

func loadFixture(t *testing.T, mode string) *runfile.Run {
	t.Helper()
	r, err := runfile.ReadFile(filepath.Join("testdata", mode+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func fixtures(t *testing.T) []*runfile.Run {
	return []*runfile.Run{loadFixture(t, "emulate"), loadFixture(t, "xonly"), loadFixture(t, "none")}
}

// golden compares got with testdata/golden/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./report -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := range max(len(gl), len(wl)) {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Errorf("%s differs from the golden file at line %d:\n got: %q\nwant: %q\n(go test ./report -update rewrites it)", name, i+1, g, w)
				return
			}
		}
	}
}

// checkPNG decodes a PNG and checks its size and that it shows something:
// more than one colour, and a fair part of it not white.
func checkPNG(t *testing.T, path string, wantW, wantH int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	checkImage(t, path, img, wantW, wantH)
}

func checkImage(t *testing.T, name string, img image.Image, wantW, wantH int) {
	t.Helper()
	b := img.Bounds()
	if b.Dx() != wantW || b.Dy() != wantH {
		t.Errorf("%s: %dx%d pixels, want %dx%d", name, b.Dx(), b.Dy(), wantW, wantH)
	}
	colours := map[color.RGBA]bool{}
	nonWhite := 0
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, a := img.At(x, y).RGBA()
			c := color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(bl >> 8), uint8(a >> 8)}
			colours[c] = true
			if c != (color.RGBA{255, 255, 255, 255}) {
				nonWhite++
			}
		}
	}
	frac := float64(nonWhite) / float64((b.Dx()/2)*(b.Dy()/2))
	if len(colours) < 3 || frac < 0.005 {
		t.Errorf("%s looks blank: %d colours, %.2f%% not white", name, len(colours), 100*frac)
	}
}

func TestReportOneRun(t *testing.T) {
	r := loadFixture(t, "xonly")
	dir := filepath.Join(t.TempDir(), "out")
	path, err := Write(dir, []*runfile.Run{r}, nil)
	if err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "report-xonly.md", md)
	figs := Figures(r, "")
	if len(figs) != 6 {
		t.Errorf("%d figures, want 6 (3 timing, 3 ASLR)", len(figs))
	}
	for _, f := range figs {
		if !strings.Contains(string(md), "]("+f.Name+")") {
			t.Errorf("report.md does not show %s", f.Name)
		}
		w, h := f.Pixels()
		checkPNG(t, filepath.Join(dir, f.Name), w, h)
	}
	// Nothing else: no temporary files left behind.
	ents, _ := os.ReadDir(dir)
	if len(ents) != len(figs)+1 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want the %d figures and report.md", names, len(figs))
	}
}

func TestReportThreeRuns(t *testing.T) {
	runs := fixtures(t)
	dir := t.TempDir()
	path, err := Write(dir, runs, []string{"emulate", "xonly", "none"})
	if err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "report-three.md", md)
	for _, name := range []string{"compare.png", "run1-cost.png", "run3-aslr-bits.png"} {
		if !strings.Contains(string(md), "]("+name+")") {
			t.Errorf("report.md does not show %s", name)
		}
	}
	cf := plots.Compare(runs, []string{"emulate", "xonly", "none"})
	w, h := cf.Pixels()
	checkPNG(t, filepath.Join(dir, "compare.png"), w, h)
}

func TestCompareText(t *testing.T) {
	c := Compare(fixtures(t), nil)
	var b bytes.Buffer
	if err := c.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	golden(t, "compare.txt", b.Bytes())
}

func row(t *testing.T, c *Comparison, name string) Row {
	t.Helper()
	for _, r := range c.Rows {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("no row %s", name)
	return Row{}
}

func TestCompareMismatched(t *testing.T) {
	runs := fixtures(t)
	runs[2].Schema = runfile.SchemaVersion + 1 // as if read by a tolerant reader
	c := Compare(runs, []string{"emulate", "xonly", "none"})
	notes := strings.Join(c.Notes, "\n")
	for _, want := range []string{
		"schema versions differ: emulate has schema 1, none has 2",
		"Getcpu/path=vdso (not in emulate)",
		"Gettimeofday/path=vsyscall (in none)",
	} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
	// The missing cell has no comparison; the unavailable ones neither.
	if r := row(t, c, "Getcpu/path=vdso"); r.Cells[0] != nil || r.Vs[1] != "" {
		t.Errorf("Getcpu/path=vdso: %+v", r)
	}
	if r := row(t, c, "Time/path=vsyscall"); r.Cells[2] == nil || r.Cells[2].Unavailable == "" || r.Vs[2] != "" {
		t.Errorf("Time/path=vsyscall under none: %+v", r)
	}
}

func TestCompareSignificance(t *testing.T) {
	runs := fixtures(t)
	c := Compare(runs[:2], nil)
	// The fixtures' vsyscall costs differ by 1.4% with 0.6% noise: the U
	// test on 10+10 samples must find that; the vDSO cells are drawn
	// from the same distribution.
	if v := row(t, c, "Gettimeofday/path=vsyscall").Vs[1]; !strings.HasPrefix(v, "1.01x (p=0.0") {
		t.Errorf("vsyscall 6900 vs 7000 ns: %q, want a significant 1.01x", v)
	}
	if v := row(t, c, "Gettimeofday/path=vdso").Vs[1]; !strings.HasPrefix(v, "~ (p=") {
		t.Errorf("vdso 25.3 vs 25.3 ns: %q, want ~", v)
	}
	// A run compared with itself is never significantly different.
	self := Compare([]*runfile.Run{runs[1], runs[1]}, nil)
	for _, r := range self.Rows {
		if measured(r.Cells[0]) && !strings.HasPrefix(r.Vs[1], "~") {
			t.Errorf("%s against itself: %q", r.Name, r.Vs[1])
		}
	}
	if self.Labels[0] == self.Labels[1] {
		t.Errorf("duplicate labels not told apart: %q", self.Labels)
	}
}

func TestLabels(t *testing.T) {
	runs := fixtures(t)
	got := Labels(runs, []string{"a", ""})
	want := []string{"a", "vsyscall=xonly 6.18.0-fixture fixture-vm", "vsyscall=none 6.18.0-fixture fixture-vm"}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("label %d = %q, want %q", i, got[i], want[i])
		}
	}
}

// A run with only ASLR results, and one with only timings, still report.
func TestReportPartialRuns(t *testing.T) {
	r := loadFixture(t, "xonly")
	onlyASLR := *r
	onlyASLR.Bench, onlyASLR.Verify = nil, nil
	onlyASLR.Errors = []string{"bench: not implemented"}
	onlyBench := *r
	onlyBench.ASLR = nil
	for name, run := range map[string]*runfile.Run{"aslr": &onlyASLR, "bench": &onlyBench} {
		dir := t.TempDir()
		path, err := Write(dir, []*runfile.Run{run}, nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		md, _ := os.ReadFile(path)
		switch name {
		case "aslr":
			if !strings.Contains(string(md), "No timing results") || !strings.Contains(string(md), "bench: not implemented") {
				t.Errorf("ASLR-only report does not say what is missing and why")
			}
		case "bench":
			if !strings.Contains(string(md), "No ASLR results") {
				t.Errorf("bench-only report does not say ASLR is missing")
			}
		}
		for _, f := range Figures(run, "") {
			w, h := f.Pixels()
			checkPNG(t, filepath.Join(dir, f.Name), w, h)
		}
	}
}
