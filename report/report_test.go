package report

import (
	"bytes"
	"context"
	"flag"
	"image"
	"image/color"
	"image/png"
	"math"
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

// fixtures are the three guest runs of the boot lab, in mode order.
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

// writeDir lists the files in dir.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// The host run has every part: six figures, each embedded, each drawing
// data, in PNG and SVG; nothing else in the directory.
func TestReportOneRun(t *testing.T) {
	r := loadFixture(t, "host")
	dir := filepath.Join(t.TempDir(), "out")
	path, err := Write(context.Background(), dir, []*runfile.Run{r}, Options{Formats: []string{plots.PNG, plots.SVG}})
	if err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "report-host.md", md)
	figs := Figures(r, "")
	if len(figs) != 6 {
		t.Errorf("%d figures, want 6 (3 timing, 3 ASLR)", len(figs))
	}
	for _, f := range figs {
		if f.Empty != "" || f.Points == 0 {
			t.Errorf("%s draws nothing (%q) from a run that has the data", f.Name, f.Empty)
		}
		if !strings.Contains(string(md), "]("+f.Name+")") {
			t.Errorf("report.md does not show %s", f.Name)
		}
		w, h := f.Pixels()
		checkPNG(t, filepath.Join(dir, f.Name), w, h)
		if st, err := os.Stat(filepath.Join(dir, f.File(plots.SVG))); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f.File(plots.SVG), err)
		}
	}
	// Nothing else: no temporary files left behind.
	if names := listDir(t, dir); len(names) != 2*len(figs)+1 {
		t.Errorf("directory holds %v, want the %d figures in two formats and report.md", names, len(figs))
	}
}

// A guest run has no per-call latencies: no latency figure is written or
// embedded, and the text says why.
func TestReportNoEmptyFigures(t *testing.T) {
	r := loadFixture(t, "xonly")
	dir := t.TempDir()
	path, err := Write(context.Background(), dir, []*runfile.Run{r}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	md, _ := os.ReadFile(path)
	golden(t, "report-xonly.md", md)
	for _, f := range Figures(r, "") {
		_, statErr := os.Stat(filepath.Join(dir, f.Name))
		shown := strings.Contains(string(md), "]("+f.Name+")")
		switch {
		case f.Empty != "" && (statErr == nil || shown):
			t.Errorf("%s has nothing to draw (%s) but was written or embedded", f.Name, f.Empty)
		case f.Empty == "" && (statErr != nil || !shown):
			t.Errorf("%s: written %v, shown %v", f.Name, statErr == nil, shown)
		}
	}
	if hasLatency(r.Bench) {
		t.Fatal("the guest fixture was expected to have no latencies")
	}
	if !strings.Contains(string(md), "The per-call latency mode did not run.") {
		t.Error("report.md does not say the latency mode did not run")
	}
}

func TestReportThreeRuns(t *testing.T) {
	runs := fixtures(t)
	labels := []string{"emulate", "xonly", "none"}
	dir := t.TempDir()
	path, err := Write(context.Background(), dir, runs, Options{Labels: labels})
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
	cf := plots.Compare(runs, labels, Compare(runs, labels, DefaultConfig).Verdict)
	w, h := cf.Pixels()
	checkPNG(t, filepath.Join(dir, "compare.png"), w, h)
}

func TestCompareText(t *testing.T) {
	c := Compare(fixtures(t), []string{"emulate", "xonly", "none"}, DefaultConfig)
	var b bytes.Buffer
	if err := c.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	golden(t, "compare.txt", b.Bytes())
	// Columns are headed by the labels, not by numbers.
	head := ""
	for _, line := range strings.Split(b.String(), "\n") {
		if strings.HasPrefix(line, "function ") {
			head = line
		}
	}
	for _, l := range c.Labels {
		if !strings.Contains(head, l) {
			t.Errorf("timing header %q lacks the label %q", head, l)
		}
	}
	if strings.Contains(head, "#1") {
		t.Errorf("timing header %q numbers the runs", head)
	}
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

// withoutCell is a copy of r without one cell, as an older vbench that
// did not time it would have written.
func withoutCell(r *runfile.Run, name string) *runfile.Run {
	cp := *r
	b := *r.Bench
	b.Cells = nil
	for _, c := range r.Bench.Cells {
		if c.Name() != name {
			b.Cells = append(b.Cells, c)
		}
	}
	cp.Bench = &b
	return &cp
}

func TestCompareMismatched(t *testing.T) {
	runs := fixtures(t)
	runs[0] = withoutCell(runs[0], "Getcpu/path=vdso")
	runs[2].Schema = runfile.SchemaVersion + 1 // as if read by a tolerant reader
	c := Compare(runs, []string{"emulate", "xonly", "none"}, DefaultConfig)
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

// scaled is a copy of r with the samples and summary of one cell
// multiplied by k.
func scaled(r *runfile.Run, name string, k float64) *runfile.Run {
	cp := *r
	b := *r.Bench
	b.Cells = append([]runfile.Cell(nil), r.Bench.Cells...)
	for i := range b.Cells {
		c := &b.Cells[i]
		if c.Name() != name || c.Summary == nil {
			continue
		}
		c.Samples = append([]float64(nil), c.Samples...)
		for j := range c.Samples {
			c.Samples[j] *= k
		}
		s := *c.Summary
		s.Median, s.Lo, s.Hi = s.Median*k, s.Lo*k, s.Hi*k
		c.Summary = &s
	}
	cp.Bench = &b
	return &cp
}

func TestCompareSignificance(t *testing.T) {
	host := loadFixture(t, "host")
	// A run against itself: nothing differs, whatever the treatment.
	self := Compare([]*runfile.Run{host, host}, nil, DefaultConfig)
	if after, unc := self.Flagged(1); after != 0 || unc != 0 {
		t.Errorf("a run against itself: %d cells flagged (%d before correction)", after, unc)
	}
	if self.Labels[0] == self.Labels[1] {
		t.Errorf("duplicate labels not told apart: %q", self.Labels)
	}
	// One cell 1.5x slower: the only one found, its ratio shown.
	const cell = "Gettimeofday/path=syscall"
	c := Compare([]*runfile.Run{host, scaled(host, cell, 1.5)}, nil, DefaultConfig)
	if after, _ := c.Flagged(1); after != 1 {
		t.Errorf("one cell changed: %d flagged", after)
	}
	if r := row(t, c, cell); !r.Significant[1] || !strings.HasPrefix(r.Vs[1], "1.50x (p=") {
		t.Errorf("%s 1.5x slower: %q", cell, r.Vs[1])
	}
	// 2% slower, the samples not overlapping: the U test finds it, but
	// it is under the 5% threshold; with no threshold it counts.
	tight := scaled(host, cell, 1)
	for i := range tight.Bench.Cells {
		if c := &tight.Bench.Cells[i]; c.Name() == cell {
			for j := range c.Samples {
				c.Samples[j] = c.Summary.Median * (1 + 0.001*float64(j-len(c.Samples)/2))
			}
		}
	}
	small := []*runfile.Run{tight, scaled(tight, cell, 1.02)}
	if r := row(t, Compare(small, nil, DefaultConfig), cell); r.Significant[1] || !strings.HasPrefix(r.Vs[1], "~ (1.02x, p=") {
		t.Errorf("%s 2%% slower, 5%% threshold: %q", cell, r.Vs[1])
	}
	if r := row(t, Compare(small, nil, Config{MinChange: -1}), cell); !r.Significant[1] {
		t.Errorf("%s 2%% slower, no threshold: %q", cell, r.Vs[1])
	}
	// Holm: adjusted p-values are at least the raw ones and keep their order.
	for _, r := range c.Rows {
		if !math.IsNaN(r.P[1]) && r.PAdj[1] < r.P[1] {
			t.Errorf("%s: adjusted p %v below raw %v", r.Name, r.PAdj[1], r.P[1])
		}
		for _, q := range c.Rows {
			if r.P[1] < q.P[1] && r.PAdj[1] > q.PAdj[1] {
				t.Errorf("Holm reordered %s and %s", r.Name, q.Name)
			}
		}
	}
}

// With 6+6 samples per cell over some fifty cells, no difference can pass
// the Holm correction: the comparison says so rather than look reassuring.
func TestCompareSaysWhenItCannotFind(t *testing.T) {
	runs := fixtures(t)
	c := Compare(runs[:2], []string{"emulate", "xonly"}, DefaultConfig)
	if !strings.Contains(strings.Join(c.Notes, "\n"), "no cell can show a difference") {
		t.Errorf("6+6 samples: notes do not say the test has no power:\n%s", strings.Join(c.Notes, "\n"))
	}
	host := loadFixture(t, "host")
	if strings.Contains(strings.Join(Compare([]*runfile.Run{host, host}, nil, DefaultConfig).Notes, "\n"), "no cell can show") {
		t.Error("10+10 samples can pass the correction, but the note says not")
	}
}

// An ASLR-only run is left out of the timing table (no "missing" rows);
// the ASLR regions are compared, with the interval test.
func TestCompareASLR(t *testing.T) {
	static, norand := loadFixture(t, "aslr-static"), loadFixture(t, "aslr-norandomize")
	host := loadFixture(t, "host")
	c := Compare([]*runfile.Run{host, static, norand}, []string{"host", "static", "norandomize"}, DefaultConfig)
	notes := strings.Join(c.Notes, "\n")
	if strings.Contains(notes, "missing from some runs") || !strings.Contains(notes, "no timing results in static, norandomize") {
		t.Errorf("ASLR-only runs in the timing comparison:\n%s", notes)
	}
	if len(c.ASLRRuns) != 3 || len(c.ASLR) == 0 {
		t.Fatalf("ASLR rows %d over runs %v", len(c.ASLR), c.ASLRRuns)
	}
	for _, r := range c.ASLR {
		a, s, n := r.Regions[0], r.Regions[1], r.Regions[2]
		if a == nil || s == nil || n == nil || !present(s) {
			continue
		}
		// The host run file predates intervals: no test against it.
		if r.Vs[1] != "no interval" || r.Significant[1] {
			t.Errorf("%s: host (no interval) vs static: %q", r.Region, r.Vs[1])
		}
		_ = a
		_ = n
	}
	// Two runs with intervals: randomized against ADDR_NO_RANDOMIZE.
	c = Compare([]*runfile.Run{static, norand}, nil, DefaultConfig)
	if len(c.Timed) != 0 || len(c.Rows) != 0 {
		t.Errorf("timing rows from ASLR-only runs: %d", len(c.Rows))
	}
	for _, r := range c.ASLR {
		s, n := r.Regions[0], r.Regions[1]
		if !present(s) || !present(n) {
			continue
		}
		disjoint := s.EffectiveLo > n.EffectiveHi || n.EffectiveLo > s.EffectiveHi
		if r.Significant[1] != disjoint {
			t.Errorf("%s: [%.1f, %.1f] vs [%.1f, %.1f]: significant %v", r.Region, s.EffectiveLo, s.EffectiveHi, n.EffectiveLo, n.EffectiveHi, r.Significant[1])
		}
		if s.Distinct > 1 && n.Distinct == 1 && s.EffectiveLo > 0 && !r.Significant[1] {
			t.Errorf("%s: randomized (%.1f bits) vs constant not told apart: %q", r.Region, s.Effective, r.Vs[1])
		}
	}
	// A run against itself: no region differs.
	for _, r := range Compare([]*runfile.Run{static, static}, nil, DefaultConfig).ASLR {
		if r.Significant[1] {
			t.Errorf("%s differs from itself: %q", r.Region, r.Vs[1])
		}
	}
	// Intervals of different entropies are not compared.
	minRun := *static
	a := *static.ASLR
	a.Regions = append([]runfile.Region(nil), a.Regions...)
	for i := range a.Regions {
		if a.Regions[i].Rule != runfile.RuleConstant && a.Regions[i].Rule != runfile.RuleAbsent {
			a.Regions[i].Rule = runfile.RuleMin
			a.Regions[i].EffectiveLo, a.Regions[i].EffectiveHi = 0, 1
		}
	}
	minRun.ASLR = &a
	for _, r := range Compare([]*runfile.Run{static, &minRun}, nil, DefaultConfig).ASLR {
		if r.Regions[1].Rule == runfile.RuleMin && (r.Significant[1] || !strings.HasPrefix(r.Vs[1], "not comparable")) {
			t.Errorf("%s: min-entropy against collision entropy: %q", r.Region, r.Vs[1])
		}
	}
	var b bytes.Buffer
	if err := c.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "ASLR:") || !strings.Contains(b.String(), "disjoint") {
		t.Errorf("ASLR comparison not written or not explained:\n%s", b.String())
	}
}

// Every environment difference that can move a cost is listed, with each
// run's value as the run file has it.
func TestCompareEnv(t *testing.T) {
	host, guest := loadFixture(t, "host"), loadFixture(t, "xonly")
	c := Compare([]*runfile.Run{host, guest}, []string{"host", "guest"}, DefaultConfig)
	got := map[string]EnvDiff{}
	for _, d := range c.Env {
		got[d.Fact] = d
	}
	check := func(fact, a, b string) {
		t.Helper()
		d, ok := got[fact]
		switch {
		case a == b && ok:
			t.Errorf("%s listed, but both runs have %q", fact, a)
		case a != b && !ok:
			t.Errorf("%s not listed: %q vs %q", fact, a, b)
		case ok && (d.Values[0] != a || d.Values[1] != b):
			t.Errorf("%s: %q, want %q and %q", fact, d.Values, a, b)
		}
	}
	check("page-table isolation (cpu flag pti)", onOff(host.Env.CPUFlags["pti"]), onOff(guest.Env.CPUFlags["pti"]))
	check("clocksource", host.Env.Clocksource, guest.Env.Clocksource)
	check("kernel", host.Env.KernelRelease, guest.Env.KernelRelease)
	check("vsyscall mode", host.Env.VsyscallMode, guest.Env.VsyscallMode)
	check("virtualization (cpu flag hypervisor)", onOff(host.Env.CPUFlags["hypervisor"]), onOff(guest.Env.CPUFlags["hypervisor"]))
	check("Meltdown mitigation (vulnerabilities/meltdown)", host.Env.Vulnerabilities["meltdown"], guest.Env.Vulnerabilities["meltdown"])
	if _, ok := got["QEMU guest and accelerator"]; !ok {
		t.Error("a QEMU guest against a host: not listed")
	}
	if _, ok := got["CPU model"]; !ok {
		t.Error("different CPU models not listed")
	}
	for k, v := range host.Env.Vulnerabilities {
		if k != "meltdown" && guest.Env.Vulnerabilities[k] != "" && guest.Env.Vulnerabilities[k] != v {
			if _, ok := got["vulnerabilities/"+k]; !ok {
				t.Errorf("vulnerabilities/%s differs (%q vs %q) but is not listed", k, v, guest.Env.Vulnerabilities[k])
			}
		}
	}
	if len(Compare([]*runfile.Run{host, host}, nil, DefaultConfig).Env) != 0 {
		t.Error("a run against itself has environment differences")
	}
}

// Verify: the checks whose status is not the same everywhere, and only those.
func TestCompareVerify(t *testing.T) {
	runs := fixtures(t)
	c := Compare(runs, []string{"emulate", "xonly", "none"}, DefaultConfig)
	if len(c.Verify) == 0 {
		t.Fatal("none against emulate: no check changed status")
	}
	for _, row := range c.Verify {
		same := true
		for _, ri := range c.VerifyRuns[1:] {
			same = same && row.Status[ri] == row.Status[c.VerifyRuns[0]]
		}
		if same {
			t.Errorf("%s listed, but its status is the same in every run", row.Name)
		}
	}
	if len(Compare(runs[:1:1], nil, DefaultConfig).Verify) != 0 {
		t.Error("one run: checks listed as changed")
	}
}

func TestLabels(t *testing.T) {
	runs := fixtures(t)
	got := Labels(runs, []string{"a", ""})
	want := []string{"a", runs[1].DefaultLabel(), runs[2].DefaultLabel()}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("label %d = %q, want %q", i, got[i], want[i])
		}
	}
}

// A run with only ASLR results, and one with only timings, still report;
// no figure is written for the part that is absent.
func TestReportPartialRuns(t *testing.T) {
	r := loadFixture(t, "host")
	onlyASLR := *r
	onlyASLR.Bench, onlyASLR.Verify = nil, nil
	onlyASLR.Errors = []string{"bench: not implemented"}
	onlyBench := *r
	onlyBench.ASLR = nil
	for name, run := range map[string]*runfile.Run{"aslr": &onlyASLR, "bench": &onlyBench} {
		dir := t.TempDir()
		path, err := Write(context.Background(), dir, []*runfile.Run{run}, Options{})
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
		figs := Figures(run, "")
		for _, f := range figs {
			w, h := f.Pixels()
			checkPNG(t, filepath.Join(dir, f.Name), w, h)
		}
		if names := listDir(t, dir); len(names) != len(figs)+1 {
			t.Errorf("%s: directory holds %v, want %d figures and report.md", name, names, len(figs))
		}
	}
}
