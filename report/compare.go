package report

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"

	"golang.org/x/perf/benchmath"

	"github.com/vbench-dev/vbench/internal/console"
	"github.com/vbench-dev/vbench/runfile"
)

// Alpha is the family-wise significance level of the timing comparison:
// the Mann-Whitney U test per cell, as benchstat uses it, with Holm's
// step-down correction over the cells of one run against the base.
const Alpha = 0.05

// DefaultMinChange is the smallest change of a median counted as a
// difference, whatever the test says: 5%. Two runs of the same binary a
// minute apart on a shared VM differ by more than chance allows in many
// cells (the machine's speed drifts); a practical threshold keeps those
// small drifts from being read as effects. An A/A comparison (the same
// binary twice) measures a machine's drift: set the threshold above it.
const DefaultMinChange = 0.05

// Config sets how Compare decides that a cell differs.
type Config struct {
	// MinChange is the smallest relative change of the median that counts
	// (0.05: 5%); negative means none.
	MinChange float64
}

// DefaultConfig is Compare's configuration.
var DefaultConfig = Config{MinChange: DefaultMinChange}

// Comparison lines up two or more runs against the first (the base): the
// timing cells, the ASLR regions, the verify checks whose status changed
// and the environment facts that can move a cost.
type Comparison struct {
	Labels []string
	Runs   []*runfile.Run
	Config Config
	// Rows are the timing cells, in the order they first appear (first run
	// first), over the runs that have timings (Timed).
	Rows []Row
	// Timed are the indexes of the runs with timing results; the timing
	// table has a column for each. The base of the timing comparison is
	// Timed[0].
	Timed []int
	// Tests[i] is the number of cells in run i's family: the U tests the
	// Holm correction runs over (run i against the base).
	Tests []int
	// ASLR compares effective bits per region (see aslrCompare).
	ASLR []ASLRRow
	// ASLRRuns are the indexes of the runs with ASLR results.
	ASLRRuns []int
	// Verify lists the checks whose status is not the same in every run
	// with verify results (VerifyRuns); VerifyChecks counts all checks.
	Verify       []VerifyRow
	VerifyRuns   []int
	VerifyChecks int
	// Env lists the environment facts that differ and can move a cost.
	Env []EnvDiff
	// Notes are remarks on the whole comparison: schema or configuration
	// differences, cells some runs lack, duplicate labels.
	Notes []string
}

// Row is one timing cell across the runs (indexed like Comparison.Runs).
type Row struct {
	Name  string          // runfile.Cell.Name(), e.g. "Time/path=vdso"
	Cells []*runfile.Cell // one per run; nil where the run lacks the cell
	// Vs[i] compares run i with the base: the ratio of medians, such as
	// "0.91x", when the difference is significant (Holm-adjusted U test
	// below Alpha and a change of at least MinChange), else "~"; then
	// "(p=0.000 n=10+10)" with the Holm-adjusted p-value. Empty for the
	// base and where there is nothing to compare.
	Vs []string
	// Ratio[i] is run i's median over the base's; P[i] the U test's
	// p-value, PAdj[i] the Holm-adjusted one (NaN where not tested).
	Ratio, P, PAdj []float64
	// Significant[i]: run i differs from the base on this cell.
	Significant []bool
}

// Labels returns each run's label: the ones given, else DefaultLabel,
// made unique by appending " #2", " #3".
func Labels(runs []*runfile.Run, given []string) []string {
	out := make([]string, len(runs))
	seen := map[string]int{}
	for i, r := range runs {
		l := r.DefaultLabel()
		if i < len(given) && strings.TrimSpace(given[i]) != "" {
			l = strings.TrimSpace(given[i])
		}
		seen[l]++
		if seen[l] > 1 {
			l = fmt.Sprintf("%s #%d", l, seen[l])
		}
		out[i] = l
	}
	return out
}

// Compare lines the runs up (cfg: DefaultConfig unless a caller wants
// another): timing cells in the order they first appear (first run
// first), ASLR regions, verify checks, environment.
func Compare(runs []*runfile.Run, labels []string, cfg Config) *Comparison {
	c := &Comparison{Runs: runs, Labels: Labels(runs, labels), Config: cfg, Tests: make([]int, len(runs))}
	index := map[string]int{}
	var untimed []string
	for ri, r := range runs {
		if r.Bench == nil {
			untimed = append(untimed, c.Labels[ri])
			continue
		}
		c.Timed = append(c.Timed, ri)
		for i := range r.Bench.Cells {
			cell := &r.Bench.Cells[i]
			name := cell.Name()
			k, ok := index[name]
			if !ok {
				k = len(c.Rows)
				index[name] = k
				n := len(runs)
				c.Rows = append(c.Rows, Row{Name: name, Cells: make([]*runfile.Cell, n), Vs: make([]string, n),
					Ratio: nans(n), P: nans(n), PAdj: nans(n), Significant: make([]bool, n)})
			}
			c.Rows[k].Cells[ri] = cell
		}
	}
	if len(untimed) > 0 && len(c.Timed) > 0 {
		c.Notes = append(c.Notes, fmt.Sprintf("no timing results in %s: left out of the timing table", strings.Join(untimed, ", ")))
	}
	if len(c.Timed) > 1 {
		base := c.Timed[0]
		for _, ri := range c.Timed[1:] {
			c.test(base, ri)
		}
	}
	c.compareASLR()
	c.compareVerify()
	c.Env = envDiffs(runs, c.Labels)
	c.Notes = append(c.Notes, c.mismatches()...)
	return c
}

func nans(n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = math.NaN()
	}
	return out
}

// measured is true when the cell has a summary to compare.
func measured(c *runfile.Cell) bool {
	return c != nil && c.Unavailable == "" && c.Summary != nil
}

// test compares run ri with run base on every cell both measured: the U
// test per cell, then Holm's step-down correction over that family (the
// cells of run ri against the base), then the practical threshold.
//
// Holm (1979) controls the family-wise error rate at Alpha for any
// dependence between the tests: sort the m p-values, multiply the k-th
// smallest by m-k+1, and make the result non-decreasing.
func (c *Comparison) test(base, ri int) {
	th := benchmath.DefaultThresholds
	th.CompareAlpha = Alpha
	type tested struct {
		row int
		p   float64
	}
	var fam []tested
	for k := range c.Rows {
		row := &c.Rows[k]
		a, b := row.Cells[base], row.Cells[ri]
		if !measured(a) || !measured(b) {
			continue
		}
		if a.Summary.Median > 0 {
			row.Ratio[ri] = b.Summary.Median / a.Summary.Median
		}
		if len(a.Samples) == 0 || len(b.Samples) == 0 {
			row.Vs[ri] = fmtRatio(row.Ratio[ri]) + " (no samples to test)"
			continue
		}
		cmp := benchmath.AssumeNothing.Compare(benchmath.NewSample(a.Samples, &th), benchmath.NewSample(b.Samples, &th))
		row.P[ri] = cmp.P
		fam = append(fam, tested{k, cmp.P})
	}
	c.Tests[ri] = len(fam)
	if m := len(fam); m > 0 {
		// The U test on n1+n2 samples cannot give a p-value below that of
		// two samples that do not overlap at all; Holm's first step needs
		// p < Alpha/m. When the one is above the other, no cell can differ.
		n1, n2 := 0, 0
		for _, t := range fam {
			n1, n2 = max(n1, len(c.Rows[t.row].Cells[base].Samples)), max(n2, len(c.Rows[t.row].Cells[ri].Samples))
		}
		if pmin := minUTestP(n1, n2, &th); pmin >= Alpha/float64(m) {
			c.Notes = append(c.Notes, fmt.Sprintf("%s against the base: with %d+%d samples per cell the U test's smallest p-value is %.4f, "+
				"and the Holm correction over %d cells needs below %.5f: no cell can show a difference; take more samples (bench --count)",
				c.Labels[ri], n1, n2, pmin, m, Alpha/float64(m)))
		}
	}
	sort.SliceStable(fam, func(i, j int) bool { return fam[i].p < fam[j].p })
	m := len(fam)
	running := 0.0
	for k, t := range fam {
		adj := math.Min(1, float64(m-k)*t.p)
		running = math.Max(running, adj)
		row := &c.Rows[t.row]
		row.PAdj[ri] = running
		a, b := row.Cells[base], row.Cells[ri]
		big := c.Config.MinChange < 0 || math.Abs(math.Log(row.Ratio[ri])) >= math.Log1p(c.Config.MinChange)
		row.Significant[ri] = running < Alpha && big
		n := fmt.Sprintf("n=%d+%d", len(a.Samples), len(b.Samples))
		switch {
		case row.Significant[ri]:
			row.Vs[ri] = fmt.Sprintf("%s (p=%.3f %s)", fmtRatio(row.Ratio[ri]), running, n)
		case running < Alpha:
			// Significant, but smaller than the practical threshold.
			row.Vs[ri] = fmt.Sprintf("~ (%s, p=%.3f %s)", fmtRatio(row.Ratio[ri]), running, n)
		default:
			row.Vs[ri] = fmt.Sprintf("~ (p=%.3f %s)", running, n)
		}
	}
}

// minUTestP is the U test's p-value for n1 and n2 samples that do not
// overlap: the smallest it can give.
func minUTestP(n1, n2 int, th *benchmath.Thresholds) float64 {
	a, b := make([]float64, n1), make([]float64, n2)
	for i := range a {
		a[i] = float64(i)
	}
	for i := range b {
		b[i] = float64(n1 + i)
	}
	return benchmath.AssumeNothing.Compare(benchmath.NewSample(a, th), benchmath.NewSample(b, th)).P
}

// Verdict is the comparison's word on run ri against the base for the
// cell named name, for the figure (plots.Verdict): the ratio when
// significant, else "~".
func (c *Comparison) Verdict(name string, ri int) (string, bool) {
	for _, row := range c.Rows {
		if row.Name == name && ri < len(row.Significant) {
			if row.Significant[ri] {
				return fmtRatio(row.Ratio[ri]), true
			}
			return "~", false
		}
	}
	return "", false
}

// Flagged counts the cells in which run ri differs significantly from the
// base, and the cells significant by the U test alone before correction
// and threshold (what benchstat would flag).
func (c *Comparison) Flagged(ri int) (after, uncorrected int) {
	for _, row := range c.Rows {
		if ri >= len(row.P) {
			continue
		}
		if row.Significant[ri] {
			after++
		}
		if row.P[ri] < Alpha {
			uncorrected++
		}
	}
	return after, uncorrected
}

func fmtRatio(r float64) string {
	switch {
	case math.IsNaN(r):
		return "-"
	case r >= 100:
		return fmt.Sprintf("%.0fx", r)
	case r >= 10:
		return fmt.Sprintf("%.1fx", r)
	}
	return fmt.Sprintf("%.2fx", r)
}

// maxListed is how many names a note lists before it says "and N more".
const maxListed = 6

// listSome joins up to maxListed items and says how many more there are.
func listSome(items []string) string {
	if len(items) <= maxListed {
		return strings.Join(items, "; ")
	}
	return fmt.Sprintf("%s; and %d more", strings.Join(items[:maxListed], "; "), len(items)-maxListed)
}

// mismatches are the notes on what differs between the runs besides
// their numbers and their environment (Env).
func (c *Comparison) mismatches() []string {
	var notes []string
	if len(c.Runs) == 0 {
		return nil
	}
	base := c.Runs[0]
	for i, r := range c.Runs[1:] {
		l := c.Labels[i+1]
		if r.Schema != base.Schema {
			notes = append(notes, fmt.Sprintf("schema versions differ: %s has schema %d, %s has %d; fields added since may be missing",
				c.Labels[0], base.Schema, l, r.Schema))
		}
		if base.Bench != nil && r.Bench != nil && (r.Bench.Count != base.Bench.Count || r.Bench.Benchtime != base.Bench.Benchtime) {
			notes = append(notes, fmt.Sprintf("%s took %d samples of %v per cell, %s %d of %v",
				c.Labels[0], base.Bench.Count, base.Bench.Benchtime, l, r.Bench.Count, r.Bench.Benchtime))
		}
	}
	// Cells not in every timed run, and cells unavailable in some.
	var missing, unavailable []string
	for _, row := range c.Rows {
		var lack, unav []string
		for _, ri := range c.Timed {
			switch cell := row.Cells[ri]; {
			case cell == nil:
				lack = append(lack, c.Labels[ri])
			case cell.Unavailable != "":
				unav = append(unav, c.Labels[ri])
			}
		}
		if len(lack) > 0 {
			missing = append(missing, fmt.Sprintf("%s (not in %s)", row.Name, strings.Join(lack, ", ")))
		}
		if len(unav) > 0 && len(unav) < len(c.Timed) {
			unavailable = append(unavailable, fmt.Sprintf("%s (in %s)", row.Name, strings.Join(unav, ", ")))
		}
	}
	if len(missing) > 0 {
		notes = append(notes, fmt.Sprintf("%s missing from some runs: %s", cells(len(missing)), listSome(missing)))
	}
	if len(unavailable) > 0 {
		notes = append(notes, fmt.Sprintf("%s not measured in some runs: %s", cells(len(unavailable)), listSome(unavailable)))
	}
	return notes
}

// median formats a cell's median with the half-width of its interval as a
// percentage (ciPct, as in BenchTable), or why there is none.
func median(c *runfile.Cell) string {
	switch {
	case c == nil:
		return "missing"
	case c.Unavailable != "":
		return "n/a"
	case c.Summary == nil:
		return "-"
	}
	if c.Summary.Median <= 0 {
		return FormatNS(c.Summary.Median)
	}
	return FormatNS(c.Summary.Median) + " ±" + ciPct(c.Summary)
}

// timingTable is the cell-by-cell table: the cell named as in BenchTable
// (function, clock, path), each timed run's median, and for the runs after
// the base the verdict against it. Columns are headed by the runs' labels;
// the legend is its note.
func (c *Comparison) timingTable() *Table {
	t := c.vsBaseTable(cols("function", "clock", "path"), c.Timed, c.timingLegend())
	for _, row := range c.Rows {
		var id *runfile.Cell
		for _, cell := range row.Cells {
			if cell != nil {
				id = cell
				break
			}
		}
		t.Rows = append(t.Rows, vsBaseRow([]string{string(id.Function), dash(id.Clock), pathIn(id)}, c.Timed,
			func(ri int) string { return median(row.Cells[ri]) }, row.Vs))
	}
	return t
}

// vsBaseTable is a comparison table's head: the key columns, then per run
// (runs index c.Labels) its label and, after the base, "vs base".
func (c *Comparison) vsBaseTable(key []Col, runs []int, legend string) *Table {
	t := &Table{Cols: key, Notes: []string{legend}}
	for k, ri := range runs {
		t.Cols = append(t.Cols, Col{Head: c.Labels[ri], Right: true})
		if k > 0 {
			t.Cols = append(t.Cols, Col{Head: "vs base"})
		}
	}
	return t
}

// vsBaseRow is one row of such a table: the key cells, then per run its
// value and, after the base, its verdict against the base (vs[run]).
func vsBaseRow(key []string, runs []int, value func(run int) string, vs []string) []string {
	r := key
	for k, ri := range runs {
		r = append(r, value(ri))
		if k > 0 {
			r = append(r, vs[ri])
		}
	}
	return r
}

// timingLegend says what the timing table shows and how it decides.
func (c *Comparison) timingLegend() string {
	base := c.Labels[c.Timed[0]]
	tests := 0
	for _, ri := range c.Timed[1:] {
		tests = max(tests, c.Tests[ri])
	}
	s := fmt.Sprintf("ns/call: median ± half-width of its 95%% confidence interval; n/a: unavailable in that run. "+
		"vs base: ratio of medians to the base, %s, when the run differs from it, ~ when it does not. "+
		"A difference needs both: the Mann-Whitney U test per cell, Holm-Bonferroni corrected over the %d cells of each run "+
		"against the base (family-wise alpha %.2f; p is the adjusted p-value), and", base, tests, Alpha)
	if c.Config.MinChange >= 0 {
		s += fmt.Sprintf(" a change of the median of at least %.0f%% (smaller significant changes show as \"~ (ratio, p=...)\").", 100*c.Config.MinChange)
	} else {
		s += " no minimum change."
	}
	for _, ri := range c.Timed[1:] {
		after, unc := c.Flagged(ri)
		s += fmt.Sprintf(" %s: %d of %d cells differ (%d with p < %.2f before correction and threshold).", c.Labels[ri], after, c.Tests[ri], unc, Alpha)
	}
	return s
}

// WriteText prints the comparison: the runs, the environment differences,
// the timing table, the ASLR and verify comparisons and the notes.
func (c *Comparison) WriteText(w io.Writer) error {
	fmt.Fprintln(w, "runs (the first is the base):")
	for i, l := range c.Labels {
		fmt.Fprintf(w, "  %s: %s\n", l, machine(c.Runs[i], true))
	}
	fmt.Fprintln(w)
	c.writeEnv(w, false)
	if len(c.Timed) > 1 {
		fmt.Fprintln(w, "timing:")
		if err := c.timingTable().Text(w); err != nil {
			return err
		}
		fmt.Fprintln(w)
	} else {
		fmt.Fprintf(w, "timing: %s\n\n", c.noneToCompare(c.Timed, "timing results"))
	}
	if err := c.writeASLR(w, false); err != nil {
		return err
	}
	if err := c.writeVerify(w, false); err != nil {
		return err
	}
	if len(c.Notes) > 0 {
		fmt.Fprintln(w, "notes:")
		for _, n := range c.Notes {
			fmt.Fprintf(w, "- %s\n", n)
		}
	}
	return nil
}

// WriteMarkdown writes the same comparison in Markdown, from the same
// tables.
func (c *Comparison) WriteMarkdown(w io.Writer) {
	c.writeEnv(w, true)
	if len(c.Timed) > 1 {
		c.timingTable().Markdown(w)
		fmt.Fprintln(w)
	} else {
		fmt.Fprintf(w, "Timing: %s\n\n", mdEscape(c.noneToCompare(c.Timed, "timing results")))
	}
	c.writeASLR(w, true)
	c.writeVerify(w, true)
	if len(c.Notes) > 0 {
		for _, n := range c.Notes {
			fmt.Fprintf(w, "- %s\n", mdEscape(n))
		}
	}
}

// noneToCompare says why a part has no comparison: fewer than two runs
// have it.
func (c *Comparison) noneToCompare(have []int, what string) string {
	switch len(have) {
	case 0:
		return "no run has " + what
	case 1:
		return fmt.Sprintf("only %s has %s: nothing to compare", c.Labels[have[0]], what)
	}
	return ""
}

// wrap breaks s into lines of at most width characters at spaces.
func wrap(s string, width int) string { return wrapIndent(s, width, "") }

// wrapIndent is wrap with every line after the first indented.
func wrapIndent(s string, width int, indent string) string { return console.Wrap(s, width, indent) }

func cells(n int) string {
	if n == 1 {
		return "1 cell"
	}
	return fmt.Sprintf("%d cells", n)
}

// FormatNS prints ns with about three significant digits.
func FormatNS(ns float64) string {
	switch {
	case ns < 10:
		return fmt.Sprintf("%.2f", ns)
	case ns < 100:
		return fmt.Sprintf("%.1f", ns)
	}
	return fmt.Sprintf("%.0f", ns)
}
