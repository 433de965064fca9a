package report

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/vbench-dev/vbench/internal/atomicfile"
	"github.com/vbench-dev/vbench/plots"
	"github.com/vbench-dev/vbench/runfile"
)

// The fleet view: what `vbench compare` and `vbench report` show for more
// than a handful of runs (FleetMin or more), where a column per run cannot
// be read. Runs are grouped by what can move a cost (GroupFacts); for each
// group and headline cell the fleet view gives the number of runs, the
// median of their medians and the spread (the quartiles); then the runs
// whose vDSO fell back where others' did not, the lowest ASLR entropy per
// region, and the runs far from their group. It fits in FleetWidth
// columns; FleetMatrix is the full matrix, one row per run, for CSV.
//
// A Fleet is filled one run at a time (Add) and keeps only what the
// summary needs, a few hundred bytes a run: callers read run files one by
// one and drop each after Add, so that 2,000 runs fit in a small memory.

// FleetMin is the number of runs from which compare and report show the
// fleet view instead of one column per run.
const FleetMin = 9

// FleetWidth is the widest line of the fleet view's text.
const FleetWidth = 120

// GroupFacts are the facts a fleet is grouped by: those that move a cost.
type GroupFacts struct {
	Kernel, Clocksource, CPU, Virtualization, Vsyscall string
	// Mitigations: "pti on"/"pti off", with mitigations= from the kernel
	// command line when given.
	Mitigations string
}

func (g GroupFacts) key() string {
	return strings.Join([]string{g.Kernel, g.Clocksource, g.CPU, g.Virtualization, g.Vsyscall, g.Mitigations}, "\x00")
}

// groupFacts reads a run's facts.
func groupFacts(e runfile.Env) GroupFacts {
	virt := "unknown"
	switch v, ok := e.CPUFlags["hypervisor"]; {
	case e.Guest:
		virt = "qemu " + orDefault(e.Accel, "guest")
	case ok && v:
		virt = "guest"
	case ok:
		virt = "none"
	}
	mit := "pti " + flagFact("pti")(e)
	if m := cmdlineParam(e.Cmdline, "mitigations"); m != "" {
		mit += ", mitigations=" + m
	}
	return GroupFacts{
		Kernel:         orDefault(e.KernelRelease, "unknown"),
		Clocksource:    orDefault(e.Clocksource, "unknown"),
		CPU:            orDefault(strings.TrimSpace(e.CPUModel), "unknown"),
		Virtualization: virt,
		Vsyscall:       orDefault(e.VsyscallMode, "unknown"),
		Mitigations:    mit,
	}
}

// FleetGroup is one group of runs with the same facts.
type FleetGroup struct {
	Name  string // G1, G2, ... in order of first appearance
	Facts GroupFacts
	Runs  []int // indexes into Fleet.Runs
}

// FleetRun is what the fleet view keeps of one run.
type FleetRun struct {
	Label, File string
	Group       int
	Release     string
	// Median[i] is the median ns/call of Fleet.Cells[i]; NaN where the run
	// lacks it or could not measure it.
	Median []float64
	// FellBack are the indexes of the cells whose vDSO call entered the
	// kernel (one syscall per call counted, or the bench's note).
	FellBack []int
	// Bits, Lo, Hi, Entropy by index of Fleet.Regions; NaN where absent.
	Bits, Lo, Hi []float64
	Entropy      []string
	VerifyFailed int
	HasVerify    bool
}

// FleetCell is a timing cell of the fleet; Name is runfile.Cell.Name,
// with "/context=X" after it outside the plain context.
type FleetCell struct{ Name, Function, Clock, Path, Context string }

func (c FleetCell) label() string {
	s := c.Function
	if c.Path == "" {
		s = "floor"
	}
	if c.Clock != "" {
		s += " " + c.Clock
	}
	if c.Path != "" {
		s += " " + c.Path
	}
	if c.Context != string(runfile.ContextPlain) {
		s += " (" + c.Context + ")"
	}
	return s
}

// fleetCellName is the fleet's name of a cell: Cell.Name, which ends in
// "/context=X" outside the plain context.
func fleetCellName(c *runfile.Cell) string { return c.Name() }

// Fleet is the fleet view's data, filled by Add.
type Fleet struct {
	Runs    []FleetRun
	Groups  []FleetGroup
	Cells   []FleetCell
	Regions []string

	groupIdx, cellIdx, regionIdx, seen map[string]int
}

// NewFleet returns an empty fleet.
func NewFleet() *Fleet {
	return &Fleet{groupIdx: map[string]int{}, cellIdx: map[string]int{}, regionIdx: map[string]int{}, seen: map[string]int{}}
}

// Add keeps what the fleet view needs of r: label (given, else
// DefaultLabel, made unique as Labels does) and file name are its names
// in the lists.
func (f *Fleet) Add(r *runfile.Run, label, file string) {
	l := strings.TrimSpace(label)
	if l == "" {
		l = r.DefaultLabel()
	}
	if f.seen[l]++; f.seen[l] > 1 {
		l = fmt.Sprintf("%s #%d", l, f.seen[l])
	}
	facts := groupFacts(r.Env)
	g, ok := f.groupIdx[facts.key()]
	if !ok {
		g = len(f.Groups)
		f.groupIdx[facts.key()] = g
		f.Groups = append(f.Groups, FleetGroup{Name: fmt.Sprintf("G%d", g+1), Facts: facts})
	}
	ri := len(f.Runs)
	f.Groups[g].Runs = append(f.Groups[g].Runs, ri)
	fr := FleetRun{Label: l, File: file, Group: g, Release: r.Env.VbenchRelease}
	if b := r.Bench; b != nil {
		fr.Median = nans(len(f.Cells))
		for k := range b.Cells {
			c := &b.Cells[k]
			name := fleetCellName(c)
			i, ok := f.cellIdx[name]
			if !ok {
				i = len(f.Cells)
				f.cellIdx[name] = i
				f.Cells = append(f.Cells, FleetCell{name, string(c.Function), string(c.Clock), string(c.Path), string(c.Context.Or())})
			}
			for len(fr.Median) <= i {
				fr.Median = append(fr.Median, math.NaN())
			}
			if measured(c) {
				fr.Median[i] = c.Summary.Median
				if cellFellBack(c) {
					fr.FellBack = append(fr.FellBack, i)
				}
			}
		}
	}
	if a := r.ASLR; a != nil {
		for k := range a.Regions {
			g := &a.Regions[k]
			i, ok := f.regionIdx[g.Name]
			if !ok {
				i = len(f.Regions)
				f.regionIdx[g.Name] = i
				f.Regions = append(f.Regions, g.Name)
			}
			for len(fr.Bits) <= i {
				fr.Bits, fr.Lo, fr.Hi = append(fr.Bits, math.NaN()), append(fr.Lo, math.NaN()), append(fr.Hi, math.NaN())
				fr.Entropy = append(fr.Entropy, "")
			}
			if g.Present > 0 {
				fr.Bits[i], fr.Lo[i], fr.Hi[i], fr.Entropy[i] = g.Effective, g.EffectiveLo, g.EffectiveHi, string(g.Entropy)
			}
		}
	}
	if v := r.Verify; v != nil {
		fr.HasVerify = true
		n, _ := v.Counts()
		fr.VerifyFailed = n[runfile.StatusFail]
	}
	f.Runs = append(f.Runs, fr)
}

// cellFellBack: a vDSO cell whose calls entered the kernel.
func cellFellBack(c *runfile.Cell) bool {
	if c.Path != "vdso" {
		return false
	}
	if c.PerCall != nil && c.PerCall.Syscalls != nil {
		return *c.PerCall.Syscalls >= 0.5
	}
	for _, n := range c.Notes {
		if strings.HasPrefix(n, "vDSO fell back") || strings.HasPrefix(n, "vDSO falls back") {
			return true
		}
	}
	return false
}

func (f *Fleet) median(ri, ci int) float64 {
	m := f.Runs[ri].Median
	if ci < len(m) {
		return m[ci]
	}
	return math.NaN()
}

func (f *Fleet) bits(ri, gi int) (v, lo, hi float64, entropy string) {
	r := &f.Runs[ri]
	if gi < len(r.Bits) {
		return r.Bits[gi], r.Lo[gi], r.Hi[gi], r.Entropy[gi]
	}
	return math.NaN(), math.NaN(), math.NaN(), ""
}

// KeyCells are the fleet's headline cells, in plots.CompareCells order:
// every path of each call on its headline clock, and the counter floor.
func (f *Fleet) KeyCells() []int {
	var out []int
	for _, c := range plots.CompareCells {
		name := runfile.Cell{Function: c.Function, Clock: c.Clock, Path: c.Path}.Name()
		if i, ok := f.cellIdx[name]; ok {
			out = append(out, i)
		}
	}
	return out
}

// quartiles of the values that are not NaN: q1, median, q3, and how many.
func quartiles(vs []float64) (q1, med, q3 float64, n int) {
	var xs []float64
	for _, v := range vs {
		if !math.IsNaN(v) {
			xs = append(xs, v)
		}
	}
	if len(xs) == 0 {
		return math.NaN(), math.NaN(), math.NaN(), 0
	}
	sort.Float64s(xs)
	q := func(p float64) float64 { // linear interpolation between closest ranks
		h := p * float64(len(xs)-1)
		lo := math.Floor(h)
		if int(lo)+1 >= len(xs) {
			return xs[len(xs)-1]
		}
		return xs[int(lo)] + (h-lo)*(xs[int(lo)+1]-xs[int(lo)])
	}
	return q(0.25), q(0.5), q(0.75), len(xs)
}

func (f *Fleet) groupValues(g, ci int) []float64 {
	var vs []float64
	for _, ri := range f.Groups[g].Runs {
		vs = append(vs, f.median(ri, ci))
	}
	return vs
}

// clip shortens s to n runes, marking the cut with "~".
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "~"
}

// GroupsTable lists the groups and their facts.
func (f *Fleet) GroupsTable() *Table {
	t := &Table{Cols: keyed(cols("group", "runs>", "kernel", "clocksource", "vsyscall", "mitigations", "virt", "CPU model"),
		map[string]string{"group": "group", "runs": "runs", "kernel": "kernel", "clocksource": "clocksource", "vsyscall": "vsyscall_mode",
			"mitigations": "mitigations", "virt": "virtualization", "CPU model": "cpu_model"}), Width: FleetWidth}
	for _, g := range f.Groups {
		x := g.Facts
		t.Rows = append(t.Rows, []string{g.Name, strconv.Itoa(len(g.Runs)), clip(x.Kernel, 26), clip(x.Clocksource, 12), x.Vsyscall,
			clip(x.Mitigations, 20), clip(x.Virtualization, 9), clip(x.CPU, 20)})
	}
	t.Notes = []string{"Runs are grouped by what can move a cost: kernel, clocksource, vsyscall mode, PTI and mitigations= " +
		"(kernel command line), virtualization (cpu flag hypervisor, or vbench's QEMU guest) and CPU model."}
	return t
}

// CellTables are the headline cells across groups, ns/call: each group's
// column gives the median of its runs' medians and, in brackets, the
// first and third quartiles; n= is the number of runs with that cell.
// Groups are split into tables of as many columns as fit in FleetWidth.
func (f *Fleet) CellTables() []*Table {
	keys := f.KeyCells()
	if len(keys) == 0 {
		return nil
	}
	type colData struct {
		head string
		vals []string
	}
	var cs []colData
	for gi, g := range f.Groups {
		cd := colData{head: g.Name}
		n := 0
		for _, ci := range keys {
			q1, med, q3, k := quartiles(f.groupValues(gi, ci))
			n = max(n, k)
			switch {
			case k == 0:
				cd.vals = append(cd.vals, "-")
			case k == 1:
				cd.vals = append(cd.vals, FormatNS(med))
			default:
				cd.vals = append(cd.vals, fmt.Sprintf("%s [%s-%s]", FormatNS(med), FormatNS(q1), FormatNS(q3)))
			}
		}
		cd.head = fmt.Sprintf("%s n=%d", g.Name, n)
		cs = append(cs, cd)
	}
	first := 0
	for _, ci := range keys {
		first = max(first, utf8.RuneCountInString(f.Cells[ci].label()))
	}
	var out []*Table
	for start := 0; start < len(cs); {
		width := first
		end := start
		for end < len(cs) {
			w := utf8.RuneCountInString(cs[end].head)
			for _, v := range cs[end].vals {
				w = max(w, utf8.RuneCountInString(v))
			}
			if end > start && width+2+w > FleetWidth {
				break
			}
			width += 2 + w
			end++
		}
		t := &Table{Width: FleetWidth}
		t.Cols = append(t.Cols, Col{Head: "ns/call"})
		for _, c := range cs[start:end] {
			t.Cols = append(t.Cols, Col{Head: c.head, Right: true})
		}
		for k, ci := range keys {
			row := []string{f.Cells[ci].label()}
			for _, c := range cs[start:end] {
				row = append(row, c.vals[k])
			}
			t.Rows = append(t.Rows, row)
		}
		out = append(out, t)
		start = end
	}
	out[len(out)-1].Notes = []string{fmt.Sprintf("Per group (G1...; n= its runs with the cell): the median over its runs of each run's median "+
		"ns/call, [first-third quartile] across the runs. %d cells are headlines here (every path of each call on its headline clock, and "+
		"the counter floor); the full matrix, every cell of every run, is written by --csv FILE.", len(keys))}
	return out
}

// FellBackRuns lists the runs whose vDSO fell back on a cell where other
// runs' did not (the cells that fall back in every run, the CPUTIME
// clocks, are said once), with the group and cells; at most limit runs
// are listed (0: all), the rest counted.
func (f *Fleet) FellBackText(w io.Writer, limit int) {
	measuredRuns := make([]int, len(f.Cells))
	fell := make([]int, len(f.Cells))
	for ri := range f.Runs {
		for ci := range f.Cells {
			if !math.IsNaN(f.median(ri, ci)) && f.Cells[ci].Path == "vdso" {
				measuredRuns[ci]++
			}
		}
		for _, ci := range f.Runs[ri].FellBack {
			fell[ci]++
		}
	}
	var always []string
	for ci, c := range f.Cells {
		if fell[ci] > 0 && fell[ci] == measuredRuns[ci] {
			always = append(always, strings.TrimSuffix(c.label(), " vdso"))
		}
	}
	type hit struct {
		run   int
		cells []string
	}
	var hits []hit
	for ri, r := range f.Runs {
		var cs []string
		for _, ci := range r.FellBack {
			if fell[ci] < measuredRuns[ci] {
				cs = append(cs, strings.TrimSuffix(f.Cells[ci].label(), " vdso"))
			}
		}
		if len(cs) > 0 {
			hits = append(hits, hit{ri, cs})
		}
	}
	if len(hits) == 0 {
		fmt.Fprintln(w, wrap("vDSO fallbacks: none beyond the cells that fall back in every run.", FleetWidth))
	} else {
		fmt.Fprintln(w, wrap(fmt.Sprintf("vDSO fell back to the syscall in %d of %d runs, on calls other runs answer in user space "+
			"(a clocksource without a vDSO clock mode: xen, Hyper-V without its TSC page, hpet, acpi_pm):", len(hits), len(f.Runs)), FleetWidth))
		// Runs with the same cells in the same group on one line.
		type key struct {
			g     int
			cells string
		}
		var order []key
		who := map[key][]string{}
		for _, h := range hits {
			k := key{f.Runs[h.run].Group, strings.Join(h.cells, ", ")}
			if _, ok := who[k]; !ok {
				order = append(order, k)
			}
			who[k] = append(who[k], f.Runs[h.run].Label)
		}
		listed := 0
		for _, k := range order {
			ls := who[k]
			more := 0
			if limit > 0 && listed+len(ls) > limit {
				more = len(ls) - max(0, limit-listed)
				ls = ls[:max(0, limit-listed)]
			}
			listed += len(ls)
			g := f.Groups[k.g]
			line := fmt.Sprintf("- %s (%s, %s), %s, on %s: %s", g.Name, g.Facts.Clocksource, g.Facts.Kernel, plural(len(who[k]), "run"), k.cells, strings.Join(ls, ", "))
			if more > 0 {
				line += fmt.Sprintf(" and %d more (--csv lists every run)", more)
			}
			fmt.Fprintln(w, wrapIndent(line, FleetWidth, "  "))
		}
	}
	if len(always) > 0 {
		fmt.Fprintln(w, wrap("Falling back in every run, as lib/vdso hands them to the kernel: "+strings.Join(always, ", ")+".", FleetWidth))
	}
}

// ASLRTable gives, per region, the lowest effective entropy of the fleet
// with its interval, entropy kind and run, the number of runs within half
// a bit of it, and the fleet's median.
func (f *Fleet) ASLRTable() *Table {
	t := &Table{Cols: cols("region", "lowest*", "95%", "entropy", "run", "group", "near it>", "median>", "runs>"), Width: FleetWidth}
	for gi, name := range f.Regions {
		best := -1
		var vals []float64
		for ri := range f.Runs {
			v, _, _, _ := f.bits(ri, gi)
			if math.IsNaN(v) {
				continue
			}
			vals = append(vals, v)
			if bv, _, _, _ := f.bits(max(best, 0), gi); best < 0 || v < bv {
				best = ri
			}
		}
		if best < 0 {
			continue
		}
		v, lo, hi, ent := f.bits(best, gi)
		near := 0
		for _, x := range vals {
			if x <= v+0.5 {
				near++
			}
		}
		_, med, _, n := quartiles(vals)
		t.Rows = append(t.Rows, []string{name, fmt.Sprintf("%.1f", v), fmt.Sprintf("[%.1f, %s]", lo, hiBits(hi)), orDefault(ent, "-"),
			clip(f.Runs[best].Label, 24), f.Groups[f.Runs[best].Group].Name, strconv.Itoa(near), fmt.Sprintf("%.1f", med), strconv.Itoa(n)})
	}
	t.Notes = []string{"lowest: the run with the fewest effective bits for the region, its 95% interval and which entropy the figure is; " +
		"near it: the runs within half a bit of it; median: over the runs with the region."}
	return t
}

func hiBits(hi float64) string {
	if hi < 0 || math.IsInf(hi, 1) {
		return "inf"
	}
	return fmt.Sprintf("%.1f", hi)
}

// Outlier is a run whose headline cell lies far from its group.
type Outlier struct {
	Run, Cell  int
	Value, Med float64
}

// Outliers are the runs whose median on a headline cell lies beyond
// three interquartile ranges from its group's quartiles and at least 25%
// from the group's median (groups of 4 runs or more), the worst cell per
// run, worst first.
func (f *Fleet) Outliers() []Outlier {
	worst := map[int]Outlier{}
	for gi, g := range f.Groups {
		if len(g.Runs) < 4 {
			continue
		}
		for _, ci := range f.KeyCells() {
			if f.Cells[ci].Path == "" {
				continue // a floor: the machine's noise, not a cost
			}
			q1, med, q3, n := quartiles(f.groupValues(gi, ci))
			if n < 4 || med <= 0 {
				continue
			}
			iqr := q3 - q1
			for _, ri := range g.Runs {
				v := f.median(ri, ci)
				if math.IsNaN(v) || (v <= q3+3*iqr && v >= q1-3*iqr) || math.Abs(math.Log(v/med)) < math.Log(1.25) {
					continue
				}
				o := Outlier{ri, ci, v, med}
				if p, ok := worst[ri]; !ok || math.Abs(math.Log(v/med)) > math.Abs(math.Log(p.Value/p.Med)) {
					worst[ri] = o
				}
			}
		}
	}
	var out []Outlier
	for _, o := range worst {
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := math.Abs(math.Log(out[i].Value/out[i].Med)), math.Abs(math.Log(out[j].Value/out[j].Med))
		if a != b {
			return a > b
		}
		return out[i].Run < out[j].Run
	})
	return out
}

// OutlierTable shows at most limit outliers (0: all).
func (f *Fleet) OutlierTable(limit int) *Table {
	os := f.Outliers()
	t := &Table{Cols: cols("run", "group", "cell", "ns/call>", "group median>", "ratio*"), Width: FleetWidth}
	shown := os
	if limit > 0 && len(shown) > limit {
		shown = shown[:limit]
	}
	for _, o := range shown {
		r := f.Runs[o.Run]
		t.Rows = append(t.Rows, []string{clip(r.Label, 30), f.Groups[r.Group].Name, f.Cells[o.Cell].label(), FormatNS(o.Value), FormatNS(o.Med), fmtRatio(o.Value / o.Med)})
	}
	note := "Outliers: runs whose median on a headline cell lies more than three interquartile ranges outside their group's quartiles " +
		"and at least 25% from the group's median (groups of 4 runs or more), with the cell where it is furthest."
	if len(shown) < len(os) {
		note += fmt.Sprintf(" %d of %d shown, furthest first; --csv FILE marks every one.", len(shown), len(os))
	}
	t.Notes = []string{note}
	return t
}

// WriteText writes the fleet view to w, every line at most FleetWidth
// columns.
func (f *Fleet) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	timed := 0
	for _, r := range f.Runs {
		if len(r.Median) > 0 {
			timed++
		}
	}
	ew.printf("%s\n\n", wrap(fmt.Sprintf("fleet: %s (%d with timings) in %s.", plural(len(f.Runs), "run"), timed, plural(len(f.Groups), "group")), FleetWidth))
	if err := f.GroupsTable().Text(w); err != nil {
		return err
	}
	for _, t := range f.CellTables() {
		ew.printf("\n")
		if err := t.Text(w); err != nil {
			return err
		}
	}
	ew.printf("\n")
	if timed > 0 {
		f.FellBackText(w, 60)
	}
	if len(f.Regions) > 0 {
		ew.printf("\nlowest ASLR entropy per region:\n")
		if err := f.ASLRTable().Text(w); err != nil {
			return err
		}
	}
	ew.printf("\n")
	if os := f.Outliers(); len(os) == 0 {
		ew.printf("%s\n", wrap("Outliers: none (no run's headline cell lies more than three interquartile ranges outside its group's quartiles and 25% from its median).", FleetWidth))
	} else if err := f.OutlierTable(20).Text(w); err != nil {
		return err
	}
	failed := 0
	for _, r := range f.Runs {
		if r.VerifyFailed > 0 {
			failed++
		}
	}
	if failed > 0 {
		var ls []string
		for _, r := range f.Runs {
			if r.VerifyFailed > 0 && len(ls) < 30 {
				ls = append(ls, fmt.Sprintf("%s (%d)", r.Label, r.VerifyFailed))
			}
		}
		ew.printf("\n%s\n", wrapIndent(fmt.Sprintf("verify: %d runs with failed checks: %s", failed, strings.Join(ls, ", ")), FleetWidth, "  "))
	}
	return ew.err
}

// WriteMarkdown writes the fleet view as Markdown (report.md).
func (f *Fleet) WriteMarkdown(w io.Writer) error {
	ew := &errWriter{w: w}
	ew.printf("%s in %s.\n\n", plural(len(f.Runs), "run"), plural(len(f.Groups), "group"))
	if err := f.GroupsTable().Markdown(w); err != nil {
		return err
	}
	for _, t := range f.CellTables() {
		ew.printf("\n")
		if err := t.Markdown(w); err != nil {
			return err
		}
	}
	ew.printf("\n")
	var b strings.Builder
	f.FellBackText(&b, 60)
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		ew.printf("%s\n", mdEscape(strings.TrimSpace(line)))
	}
	if len(f.Regions) > 0 {
		ew.printf("\nLowest ASLR entropy per region:\n\n")
		if err := f.ASLRTable().Markdown(w); err != nil {
			return err
		}
	}
	if os := f.Outliers(); len(os) > 0 {
		ew.printf("\n")
		if err := f.OutlierTable(20).Markdown(w); err != nil {
			return err
		}
	}
	return ew.err
}

// Matrix is the full matrix for CSV: one row per run, with its group's
// facts, its verify failures, every cell's median ns/call, every region's
// effective bits, the cells where its vDSO fell back and whether it is an
// outlier.
func (f *Fleet) Matrix() *Table {
	heads := []string{"run", "file", "group", "release", "kernel", "clocksource", "cpu_model", "virtualization", "vsyscall_mode", "mitigations", "verify_failed"}
	for _, c := range f.Cells {
		heads = append(heads, c.Name+" ns")
	}
	for _, g := range f.Regions {
		heads = append(heads, g+" bits")
	}
	heads = append(heads, "vdso_fell_back", "outlier")
	t := &Table{}
	for _, h := range heads {
		t.Cols = append(t.Cols, Col{Head: h, Key: h})
	}
	out := map[int]Outlier{}
	for _, o := range f.Outliers() {
		out[o.Run] = o
	}
	for ri, r := range f.Runs {
		g := f.Groups[r.Group].Facts
		vf := "-"
		if r.HasVerify {
			vf = strconv.Itoa(r.VerifyFailed)
		}
		row := []string{r.Label, r.File, f.Groups[r.Group].Name, r.Release, g.Kernel, g.Clocksource, g.CPU, g.Virtualization, g.Vsyscall, g.Mitigations, vf}
		for ci := range f.Cells {
			row = append(row, csvNum(f.median(ri, ci)))
		}
		for gi := range f.Regions {
			v, _, _, _ := f.bits(ri, gi)
			row = append(row, csvNum(v))
		}
		var fb []string
		for _, ci := range r.FellBack {
			fb = append(fb, f.Cells[ci].Name)
		}
		row = append(row, strings.Join(fb, " "))
		if o, ok := out[ri]; ok {
			row = append(row, fmt.Sprintf("%s %s", f.Cells[o.Cell].Name, fmtRatio(o.Value/o.Med)))
		} else {
			row = append(row, "")
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

func csvNum(v float64) string {
	if math.IsNaN(v) {
		return ""
	}
	return strconv.FormatFloat(v, 'g', 6, 64)
}

func plural(n int, one string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %ss", n, one)
}

// Figures draws the fleet's figures, one per kind however many runs: the
// distribution of the runs' medians per headline cell, and of the runs'
// effective ASLR bits per region.
func (f *Fleet) Figures() []*plots.Figure {
	// The groups marked by colour: the largest first.
	order := make([]int, len(f.Groups))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return len(f.Groups[order[a]].Runs) > len(f.Groups[order[b]].Runs) })
	var names []string
	for _, g := range order {
		names = append(names, fmt.Sprintf("%s (%s)", f.Groups[g].Name, plural(len(f.Groups[g].Runs), "run")))
	}
	var cost []plots.FleetRow
	for _, ci := range f.KeyCells() {
		row := plots.FleetRow{Name: f.Cells[ci].label()}
		for ri := range f.Runs {
			row.Values = append(row.Values, f.median(ri, ci))
		}
		for _, g := range order {
			_, med, _, _ := quartiles(f.groupValues(g, ci))
			row.GroupMedians = append(row.GroupMedians, med)
		}
		cost = append(cost, row)
	}
	var bits []plots.FleetRow
	for gi, name := range f.Regions {
		row := plots.FleetRow{Name: name}
		for ri := range f.Runs {
			v, _, _, _ := f.bits(ri, gi)
			row.Values = append(row.Values, v)
		}
		for _, g := range order {
			var vs []float64
			for _, ri := range f.Groups[g].Runs {
				v, _, _, _ := f.bits(ri, gi)
				vs = append(vs, v)
			}
			_, med, _, _ := quartiles(vs)
			row.GroupMedians = append(row.GroupMedians, med)
		}
		bits = append(bits, row)
	}
	return []*plots.Figure{plots.FleetCost(cost, len(f.Runs), names), plots.FleetASLR(bits, len(f.Runs), names)}
}

// WriteFleet renders a fleet's report into dir, whole or not at all
// (ReplaceDir): report.md with the fleet view and its figures, one per
// kind. It returns the path of report.md.
func WriteFleet(ctx context.Context, dir string, f *Fleet, formats []string) (string, error) {
	if len(f.Runs) == 0 {
		return "", fmt.Errorf("no runs to report on")
	}
	if len(formats) == 0 {
		formats = []string{plots.PNG}
	}
	embed := formats[0]
	if slices.Contains(formats, plots.PNG) {
		embed = plots.PNG
	}
	err := ReplaceDir(dir, func(tmp string) error {
		figs := f.Figures()
		for _, fig := range figs {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := saveFigure(fig, tmp, formats); err != nil {
				return err
			}
		}
		var md bytes.Buffer
		fmt.Fprintf(&md, "# vbench report: a fleet of %d runs\n\n", len(f.Runs))
		showFigure(&md, figs, "fleet-cost.png", "cost per call across the fleet", embed)
		if err := f.WriteMarkdown(&md); err != nil {
			return err
		}
		fmt.Fprintln(&md)
		showFigure(&md, figs, "fleet-aslr.png", "effective ASLR entropy across the fleet", embed)
		if err := atomicfile.WriteBytes(filepath.Join(tmp, ReportFile), md.Bytes()); err != nil {
			return err
		}
		return ctx.Err()
	})
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, ReportFile), nil
}
