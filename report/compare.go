package report

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"golang.org/x/perf/benchmath"

	"github.com/vbench-dev/vbench/runfile"
)

// Alpha is the significance level of the comparison's Mann-Whitney U test,
// as benchstat uses it.
const Alpha = 0.05

// Comparison lines up the cells of two or more runs against the first.
type Comparison struct {
	Labels []string
	Runs   []*runfile.Run
	Rows   []Row
	// Notes are remarks on the whole comparison: schema or configuration
	// differences, cells some runs lack, duplicate labels.
	Notes []string
}

// Row is one cell across the runs.
type Row struct {
	Name  string          // runfile.Cell.Name(), e.g. "Time/path=vdso"
	Cells []*runfile.Cell // one per run; nil where the run lacks the cell
	// Vs[i] compares run i with the first run (Vs[0] is empty): a ratio
	// of medians such as "0.91x", or "~" when the U test finds no
	// significant difference, then "(p=0.000 n=10)".
	Vs []string
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

// Compare lines the runs up, cell by cell, in the order cells first
// appear (first run first).
func Compare(runs []*runfile.Run, labels []string) *Comparison {
	c := &Comparison{Runs: runs, Labels: Labels(runs, labels)}
	index := map[string]int{}
	for ri, r := range runs {
		if r.Bench == nil {
			c.Notes = append(c.Notes, fmt.Sprintf("%s has no timing results", c.Labels[ri]))
			continue
		}
		for i := range r.Bench.Cells {
			cell := &r.Bench.Cells[i]
			name := cell.Name()
			k, ok := index[name]
			if !ok {
				k = len(c.Rows)
				index[name] = k
				c.Rows = append(c.Rows, Row{Name: name, Cells: make([]*runfile.Cell, len(runs)), Vs: make([]string, len(runs))})
			}
			c.Rows[k].Cells[ri] = cell
		}
	}
	for k := range c.Rows {
		row := &c.Rows[k]
		for ri := 1; ri < len(runs); ri++ {
			row.Vs[ri] = vs(row.Cells[0], row.Cells[ri])
		}
	}
	c.Notes = append(c.Notes, c.mismatches()...)
	return c
}

// measured is true when the cell has a summary to compare.
func measured(c *runfile.Cell) bool {
	return c != nil && c.Unavailable == "" && c.Summary != nil
}

// vs compares cell b with the base cell a.
func vs(a, b *runfile.Cell) string {
	if !measured(a) || !measured(b) {
		return ""
	}
	ratio := fmtRatio(b.Summary.Median / a.Summary.Median)
	if len(a.Samples) == 0 || len(b.Samples) == 0 {
		return ratio + " (no samples to test)"
	}
	th := benchmath.DefaultThresholds
	th.CompareAlpha = Alpha
	cmp := benchmath.AssumeNothing.Compare(benchmath.NewSample(a.Samples, &th), benchmath.NewSample(b.Samples, &th))
	if cmp.P > cmp.Alpha {
		ratio = "~"
	}
	return fmt.Sprintf("%s (%s)", ratio, cmp)
}

func fmtRatio(r float64) string {
	switch {
	case r >= 100:
		return fmt.Sprintf("%.0fx", r)
	case r >= 10:
		return fmt.Sprintf("%.1fx", r)
	}
	return fmt.Sprintf("%.2fx", r)
}

// mismatches are the notes on what differs between the runs besides
// their numbers.
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
		if r.Env.CPUModel != base.Env.CPUModel {
			notes = append(notes, fmt.Sprintf("different CPUs: %q (%s) and %q (%s)", base.Env.CPUModel, c.Labels[0], r.Env.CPUModel, l))
		}
		if r.Env.Clocksource != base.Env.Clocksource {
			notes = append(notes, fmt.Sprintf("different clocksources: %s (%s) and %s (%s)", base.Env.Clocksource, c.Labels[0], r.Env.Clocksource, l))
		}
	}
	// Cells not in every run, and cells unavailable in some.
	var missing, unavailable []string
	for _, row := range c.Rows {
		var lack, unav []string
		for ri, cell := range row.Cells {
			switch {
			case cell == nil:
				lack = append(lack, c.Labels[ri])
			case cell.Unavailable != "":
				unav = append(unav, c.Labels[ri])
			}
		}
		if len(lack) > 0 {
			missing = append(missing, fmt.Sprintf("%s (not in %s)", row.Name, strings.Join(lack, ", ")))
		}
		if len(unav) > 0 && len(unav) < len(row.Cells) {
			unavailable = append(unavailable, fmt.Sprintf("%s (in %s)", row.Name, strings.Join(unav, ", ")))
		}
	}
	if len(missing) > 0 {
		notes = append(notes, fmt.Sprintf("%s missing from some runs: %s", cells(len(missing)), strings.Join(missing, "; ")))
	}
	if len(unavailable) > 0 {
		notes = append(notes, fmt.Sprintf("%s not measured in some runs: %s", cells(len(unavailable)), strings.Join(unavailable, "; ")))
	}
	return notes
}

// median formats a cell's median with the half-width of its interval as a
// percentage, as benchstat does, or why there is none.
func median(c *runfile.Cell) string {
	switch {
	case c == nil:
		return "missing"
	case c.Unavailable != "":
		return "n/a"
	case c.Summary == nil:
		return "-"
	}
	s := c.Summary
	out := FormatNS(s.Median)
	if s.Median > 0 {
		out += fmt.Sprintf(" ±%.0f%%", max(s.Hi-s.Median, s.Median-s.Lo)/s.Median*100)
	}
	return out
}

// WriteText prints the comparison as an aligned table: per cell, each
// run's median ns/call and, for the runs after the first, the ratio to
// the first with the U test's p-value ("~": not significant at Alpha).
func (c *Comparison) WriteText(w io.Writer) error {
	for i, l := range c.Labels {
		fmt.Fprintf(w, "#%d: %s\n", i+1, l)
	}
	fmt.Fprintln(w)
	var tb bytes.Buffer
	tw := tabwriter.NewWriter(&tb, 0, 4, 2, ' ', 0)
	fmt.Fprint(tw, "cell")
	for i := range c.Labels {
		fmt.Fprintf(tw, "\t#%d ns/call", i+1)
		if i > 0 {
			fmt.Fprintf(tw, "\t#%d vs #1", i+1)
		}
	}
	fmt.Fprintln(tw)
	for _, row := range c.Rows {
		fmt.Fprint(tw, row.Name)
		for i, cell := range row.Cells {
			fmt.Fprintf(tw, "\t%s", median(cell))
			if i > 0 {
				fmt.Fprintf(tw, "\t%s", row.Vs[i])
			}
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, line := range strings.Split(strings.TrimSuffix(tb.String(), "\n"), "\n") {
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
	fmt.Fprintf(w, "\nns/call: median ± half-width of its 95%% confidence interval. vs #1: ratio of medians to run #1;\n")
	fmt.Fprintf(w, "~: no significant difference (Mann-Whitney U test, alpha %.2f); n/a: unavailable in that run.\n", Alpha)
	if len(c.Notes) > 0 {
		fmt.Fprintln(w, "\nNotes:")
		for _, n := range c.Notes {
			fmt.Fprintf(w, "- %s\n", n)
		}
	}
	return nil
}

// WriteMarkdown writes the same table in Markdown.
func (c *Comparison) WriteMarkdown(w io.Writer) {
	fmt.Fprint(w, "| cell |")
	for i, l := range c.Labels {
		fmt.Fprintf(w, " %s ns/call |", mdEscape(l))
		if i > 0 {
			fmt.Fprintf(w, " vs %s |", mdEscape(c.Labels[0]))
		}
	}
	fmt.Fprint(w, "\n|---|")
	for i := range c.Labels {
		fmt.Fprint(w, "---:|")
		if i > 0 {
			fmt.Fprint(w, "---|")
		}
	}
	fmt.Fprintln(w)
	for _, row := range c.Rows {
		fmt.Fprintf(w, "| %s |", row.Name)
		for i, cell := range row.Cells {
			fmt.Fprintf(w, " %s |", median(cell))
			if i > 0 {
				fmt.Fprintf(w, " %s |", row.Vs[i])
			}
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "\nns/call: median ± half-width of its 95%% confidence interval. vs: ratio of medians to %s; "+
		"~: no significant difference (Mann-Whitney U test, alpha %.2f); n/a: unavailable in that run.\n",
		mdEscape(c.Labels[0]), Alpha)
	if len(c.Notes) > 0 {
		fmt.Fprintln(w)
		for _, n := range c.Notes {
			fmt.Fprintf(w, "- %s\n", mdEscape(n))
		}
	}
}

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
