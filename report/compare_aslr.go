package report

import (
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/vbench-dev/vbench/aslr/analysis"
	"github.com/vbench-dev/vbench/runfile"
)

// The ASLR comparison: per region, each run's effective bits with their
// 95% interval, the rule that chose the figure and the entropy it names
// (package aslr, estimate.go), and whether a run differs from the base.
//
// The test is whether the two 95% intervals are disjoint. Package aslr's
// intervals are of different shapes (an exact Poisson interval on an
// effective collision count for the birthday rule, Clopper-Pearson bounds
// for min-entropy, a range bound widened for unseen ends), asymmetric, and
// not normal for few collisions, so a z-test on half-widths would not be
// valid; disjointness needs nothing but the intervals' coverage. If both
// runs had the same entropy, disjoint intervals mean that at least one of
// them misses it, which happens with probability at most 1 - 0.95^2 =
// 0.0975 for independent runs (at most 0.10 by the union bound): a test of
// level 0.0975 at most, conservative (for two normal estimates of equal
// spread, disjoint 95% intervals mean p < 0.006). The regions are not
// corrected for as a family: vdso, vvar and mmap often carry one and the
// same randomization, so they are not separate tests.
//
// Only intervals of the same entropy are compared: min-entropy is at most
// the collision entropy, so a min-entropy interval below a collision one
// says nothing about either. Rules "birthday", "range" and "bitsum" all
// bound the collision entropy (range and bitsum give an upper bound as the
// figure and the collision entropy's interval); rule "min" the
// min-entropy. Run files written before the intervals were fields have
// none, and get no test.

// aslrLevel is the most the interval test rejects a true null.
const aslrLevel = 0.0975

// ASLRRow is one region across the runs (indexed like Comparison.Runs).
type ASLRRow struct {
	Region  string
	Regions []*runfile.Region // nil where the run has no such region
	// Vs[i] compares run i with the ASLR base: the difference in bits
	// when the intervals are disjoint ("-6.6 bits"), "~" when they
	// overlap, or why there is no test.
	Vs          []string
	Significant []bool
}

// compareASLR fills ASLR and ASLRRuns.
func (c *Comparison) compareASLR() {
	index := map[string]int{}
	for ri, r := range c.Runs {
		if r.ASLR == nil {
			continue
		}
		c.ASLRRuns = append(c.ASLRRuns, ri)
		for i := range r.ASLR.Regions {
			g := &r.ASLR.Regions[i]
			k, ok := index[g.Name]
			if !ok {
				k = len(c.ASLR)
				index[g.Name] = k
				n := len(c.Runs)
				c.ASLR = append(c.ASLR, ASLRRow{Region: g.Name, Regions: make([]*runfile.Region, n), Vs: make([]string, n),
					Significant: make([]bool, n)})
			}
			c.ASLR[k].Regions[ri] = g
		}
	}
	if len(c.ASLRRuns) < 2 {
		return
	}
	base := c.ASLRRuns[0]
	for k := range c.ASLR {
		row := &c.ASLR[k]
		for _, ri := range c.ASLRRuns[1:] {
			row.Vs[ri], row.Significant[ri] = c.aslrVs(row.Regions[base], row.Regions[ri])
		}
	}
}

// entropyOf is the entropy a region's interval bounds: the kind of the
// estimator whose interval the rule took (analysis.IntervalFrom: the
// min-entropy's for rule min, the collision entropy's for the others,
// upper-bound rules included); "" when the run file has no interval.
func entropyOf(g *runfile.Region) runfile.EntropyKind {
	if g.Rule == "" {
		return ""
	}
	e, _ := analysis.Lookup(analysis.IntervalFrom(g.Rule))
	return e.Kind
}

// present is true when the region was seen in the run's samples.
func present(g *runfile.Region) bool {
	return g != nil && g.Present > 0 && g.Rule != runfile.RuleAbsent
}

func (c *Comparison) aslrVs(a, b *runfile.Region) (string, bool) {
	switch {
	case !present(a) || !present(b):
		return "", false
	case a.Rule == "" || b.Rule == "":
		return "no interval", false
	}
	ea, eb := entropyOf(a), entropyOf(b)
	if a.Rule != runfile.RuleConstant && b.Rule != runfile.RuleConstant && ea != eb {
		return fmt.Sprintf("not comparable (%s vs %s)", analysis.EntropyWords(ea), analysis.EntropyWords(eb)), false
	}
	diff := math.Round(10*(b.Effective-a.Effective)) / 10
	d := fmt.Sprintf("%+.1f bits", diff)
	if diff == 0 {
		d = "0.0 bits"
	}
	if b.EffectiveLo > a.EffectiveHi || a.EffectiveLo > b.EffectiveHi {
		return d, true
	}
	return "~ (" + d + ")", false
}

// aslrCell is one run's figure for a region: "28.0 [27.9, 28.1] birthday".
func aslrCell(g *runfile.Region) string {
	switch {
	case g == nil:
		return "missing"
	case !present(g):
		return "absent"
	case g.Rule == "":
		return fmt.Sprintf("%.1f (no interval)", g.Effective)
	case g.Rule == runfile.RuleConstant:
		return "0 constant"
	}
	return fmt.Sprintf("%.1f [%.1f, %.1f] %s", g.Effective, g.EffectiveLo, g.EffectiveHi, g.Rule)
}

// aslrTable is the region-by-region table, its legend as the note.
func (c *Comparison) aslrTable() *Table {
	t := c.vsBaseTable(cols("region (bits)"), c.ASLRRuns, c.aslrLegend())
	for _, row := range c.ASLR {
		t.Rows = append(t.Rows, vsBaseRow([]string{row.Region}, c.ASLRRuns,
			func(ri int) string { return aslrCell(row.Regions[ri]) }, row.Vs))
	}
	return t
}

func (c *Comparison) aslrLegend() string {
	base := c.Labels[c.ASLRRuns[0]]
	s := fmt.Sprintf("bits: effective bits per region [95%% interval] and the rule that chose them (aslr: birthday = collision "+
		"entropy from equal pairs; range, bitsum = an upper bound, the interval being what the samples prove; min = min-entropy). "+
		"vs base (%s): the difference in bits when the two intervals are disjoint, ~ when they overlap; no interval: a run file "+
		"from before intervals were recorded. Disjoint 95%% intervals "+
		"reject equal entropies at a level of at most %.4f (1 - 0.95^2), whatever the intervals' shape; only intervals of the "+
		"same entropy are compared; regions are not corrected for as a family (several share one randomization).", base, aslrLevel)
	var kinds []string
	for _, ri := range c.ASLRRuns {
		a := c.Runs[ri].ASLR
		kinds = append(kinds, fmt.Sprintf("%s %d samples%s", c.Labels[ri], a.Samples, map[bool]string{true: " (ADDR_NO_RANDOMIZE)"}[a.NoRandomize]))
	}
	return s + " Samples: " + strings.Join(kinds, ", ") + "."
}

func (c *Comparison) writeASLR(w io.Writer, md bool) error {
	if len(c.ASLRRuns) < 2 {
		if len(c.ASLRRuns) == 1 || len(c.Timed) < 2 {
			line := "ASLR: " + c.noneToCompare(c.ASLRRuns, "ASLR results")
			if md {
				fmt.Fprintf(w, "%s\n\n", mdEscape(line))
			} else {
				fmt.Fprintf(w, "%s\n\n", line)
			}
		}
		return nil
	}
	fmt.Fprintln(w, "ASLR:")
	if md {
		fmt.Fprintln(w)
		c.aslrTable().Markdown(w)
		fmt.Fprintln(w)
		return nil
	}
	if err := c.aslrTable().Text(w); err != nil {
		return err
	}
	fmt.Fprintln(w)
	return nil
}

// VerifyRow is one check whose status is not the same in every run with
// verify results: Status[i] is its status in run i, or "" where run i has
// no such check.
type VerifyRow struct {
	Name   string
	Status []runfile.Status
}

func (c *Comparison) compareVerify() {
	index := map[string]int{}
	var all []VerifyRow
	for ri, r := range c.Runs {
		if r.Verify == nil {
			continue
		}
		c.VerifyRuns = append(c.VerifyRuns, ri)
		for _, ch := range r.Verify.Checks {
			k, ok := index[ch.Name]
			if !ok {
				k = len(all)
				index[ch.Name] = k
				all = append(all, VerifyRow{Name: ch.Name, Status: make([]runfile.Status, len(c.Runs))})
			}
			all[k].Status[ri] = ch.Status
		}
	}
	c.VerifyChecks = len(all)
	for _, row := range all {
		first := row.Status[c.VerifyRuns[0]]
		for _, ri := range c.VerifyRuns[1:] {
			if row.Status[ri] != first {
				c.Verify = append(c.Verify, row)
				break
			}
		}
	}
}

func (c *Comparison) writeVerify(w io.Writer, md bool) error {
	say := func(s string) {
		if md {
			s = mdEscape(s)
		}
		fmt.Fprintf(w, "%s\n\n", s)
	}
	if len(c.VerifyRuns) < 2 {
		if len(c.VerifyRuns) == 1 {
			say("verify: " + c.noneToCompare(c.VerifyRuns, "verify results"))
		}
		return nil
	}
	if len(c.Verify) == 0 {
		say(fmt.Sprintf("verify: every one of the %d checks has the same status in every run.", c.VerifyChecks))
		return nil
	}
	t := &Table{Cols: cols("check")}
	for _, ri := range c.VerifyRuns {
		t.Cols = append(t.Cols, Col{Head: c.Labels[ri]})
	}
	for _, row := range c.Verify {
		r := []string{row.Name}
		for _, ri := range c.VerifyRuns {
			st := strings.ToUpper(string(row.Status[ri])) // as VerifyTable shows it
			if st == "" {
				st = "missing"
			}
			r = append(r, st)
		}
		t.Rows = append(t.Rows, r)
	}
	fmt.Fprintf(w, "verify: %d of %d checks changed status:\n", len(c.Verify), c.VerifyChecks)
	if md {
		fmt.Fprintln(w)
		t.Markdown(w)
		fmt.Fprintln(w)
		return nil
	}
	if err := t.Text(w); err != nil {
		return err
	}
	fmt.Fprintln(w)
	return nil
}
