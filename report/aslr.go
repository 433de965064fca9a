package report

import (
	"fmt"
	"io"
	"math/bits"
	"slices"
	"strings"

	"github.com/vbench-dev/vbench/aslr/analysis"
	"github.com/vbench-dev/vbench/runfile"
)

// ASLRView is what `vbench aslr` and report.md show of an ASLR study,
// computed once from the run (ASLRTables) and written by Text or Markdown.
// The conclusions and the rules' sentences are computed from the data when
// rendered (package aslr), so a run file of any age reads the same.
type ASLRView struct {
	// Conclusions are the sentences a reader wants first (analysis.Conclusions).
	Conclusions []string
	// Regions has one row per region: every estimator, the effective bits
	// with their interval, the rule that chose them and the kernel's
	// maximum.
	Regions *Table
	// Above are the figures above the kernel's maximum that the
	// conclusions do not already state (run files from before the maximum
	// was recorded).
	Above []string
	// Rules says, per randomized region, how its effective figure was chosen.
	Rules []string
	// Pairs lists the regions that move together or follow another; its
	// notes count the pairs left out and why.
	Pairs *Table
}

// ASLRTables computes the view of a; env is the environment of the run it
// came from, for the kernel's maxima (an empty Env, as for samples read
// from a CSV file, gives none). wide chooses the region table: every
// estimator of package analysis's registry, a column each (about 200
// characters of text: report.md, and `vbench aslr --wide`), or the narrow
// one a terminal shows by default (the estimators with a Narrow place, 98
// characters wide with the fixtures of testdata/): the effective figure
// and what it rests on; the narrow view also wraps the pairs' sentences at
// narrowWidth.
func ASLRTables(a *runfile.ASLR, env runfile.Env, wide bool) *ASLRView {
	v := &ASLRView{Conclusions: analysis.Conclusions(a)}
	v.Regions, v.Above = regionTable(a, analysis.KernelOf(env), wide)
	for _, g := range a.Regions {
		if g.Present > 0 && g.Distinct > 1 {
			v.Rules = append(v.Rules, g.Name+": "+analysis.RuleWords(g))
		}
	}
	v.Pairs = pairTable(a)
	if !wide {
		// No wider than the console's prose (100 columns off a terminal).
		v.Regions.Width, v.Pairs.Width = min(narrowWidth, noteWidth), min(narrowWidth, noteWidth)
	}
	return v
}

// regionTable is the estimators per region (wide), or the narrow columns
// of them, and the above-maximum sentences the conclusions lack. The
// estimators' columns, their order and their legend come from package
// analysis's registry; around them, what each region's samples show
// (distinct values, varying bits), the uniformity test, the effective
// figure and the kernel's maximum.
func regionTable(a *runfile.ASLR, kern analysis.Kernel, wide bool) (*Table, []string) {
	ests := analysis.Estimators()
	heads := []string{"region", "distinct>", "varying>", "bits>", "quality>"}
	for _, e := range ests {
		heads = append(heads, e.Head+">")
	}
	heads = append(heads, "chi² p>", "effective [95%]*", "entropy", "rule", "kernel max>")
	t := &Table{Cols: cols(heads...)}
	var above []string
	sources := map[string][]string{} // kernel maximum's source -> regions
	var order []string
	for i := range a.Regions {
		g := &a.Regions[i]
		if g.Present == 0 {
			row := []string{g.Name}
			for range len(heads) - 3 {
				row = append(row, "-")
			}
			t.Rows = append(t.Rows, append(row, "absent", ""))
			continue
		}
		kmax := "?"
		if m := analysis.MaxIn(a, g.Name, kern); m.Known {
			kmax = fmt.Sprintf("%.0f", m.Bits)
			if sources[m.Source] == nil {
				order = append(order, m.Source)
			}
			sources[m.Source] = append(sources[m.Source], g.Name)
			if analysis.Above(*g, m) {
				kmax += " ABOVE"
				if !g.AboveKernelMax { // else analysis.Conclusions says it
					above = append(above, "ABOVE THE KERNEL MAXIMUM: "+analysis.AboveWords(*g, m))
				}
			}
		}
		row := []string{g.Name, fmt.Sprint(g.Distinct), fmt.Sprint(g.VaryingBits), bitSpan(g.VaryingMask), fmt.Sprint(g.QualityBits)}
		for _, e := range ests {
			row = append(row, analysis.CellOf(e, g))
		}
		t.Rows = append(t.Rows, append(row, chiP(*g), effective(*g), entropyWord(g.Entropy), dash(g.Rule), kmax))
	}
	const effectiveNote = "effective: the conservative figure, in bits, chosen by 'rule' and named under 'entropy' (collision, min, or an upper bound); its interval holds that entropy."
	kmaxNote := "kernel max: ? where the kernel the samples came from is not known."
	if len(order) > 0 {
		var ks []string
		for _, s := range order {
			ks = append(ks, strings.Join(sources[s], ", ")+": "+s)
		}
		kmaxNote = "kernel max: the most this kernel allows, from its source: " + strings.Join(ks, "; ") + "."
	}
	var legends []string
	for _, e := range ests {
		legends = append(legends, e.Legend)
	}
	if !wide {
		narrow := narrowEstimators()
		keep := []string{"region", "distinct", "bits"}
		var said, wideOnly []string
		allBounds := true
		for _, e := range narrow {
			keep = append(keep, e.Head)
			said = append(said, e.Legend)
			allBounds = allBounds && e.Kind == runfile.EntropyUpperBound
		}
		for _, e := range ests {
			if e.Narrow == 0 {
				wideOnly = append(wideOnly, e.Label)
			}
		}
		keep = append(keep, "effective [95%]", "entropy", "rule", "kernel max")
		t = t.project(keep)
		first := "bits: the lowest and highest address bits that differ between samples"
		if len(said) > 0 {
			first += "; " + strings.Join(said, "; ")
			if allBounds {
				first += map[bool]string{true: "; both bound", false: "; each bounds"}[len(said) == 2] + " every entropy from above"
			}
		}
		t.Notes = []string{first + ".", effectiveNote, kmaxNote,
			"The wide table (--wide) adds the varying and quality bits, the " + andList(wideOnly) + " estimates and the chi² test."}
		return t, above
	}
	t.Notes = []string{
		"varying: bits that differ between samples, spanning 'bits'; quality: paxtest's, varying minus those set in <=35% or >=65% of samples.",
		strings.Join(legends, "; ") + "; chi² p: the uniformity test over the range.",
		effectiveNote, kmaxNote,
	}
	return t, above
}

// narrowEstimators are the estimators of the narrow region table, in
// their Narrow order.
func narrowEstimators() []analysis.Estimator {
	var out []analysis.Estimator
	for _, e := range analysis.Estimators() {
		if e.Narrow > 0 {
			out = append(out, e)
		}
	}
	slices.SortStableFunc(out, func(a, b analysis.Estimator) int { return a.Narrow - b.Narrow })
	return out
}

// andList is "a, b and c".
func andList(s []string) string {
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

// narrowWidth is the widest line of the narrow view's tables: the pairs'
// sentences are wrapped to fit it.
const narrowWidth = 110

// pairTable lists the pairs of regions worth reading: those that move
// together (one distinct difference) and those where one follows the
// other (fewer bits of difference than either has). Its notes count the
// pairs left out: offsets implied by earlier rows, pairs of fixed
// regions, and pairs that move apart.
func pairTable(a *runfile.ASLR) *Table {
	t := &Table{Cols: cols("regions", "distinct differences>", "own bits [95%]>", "what it means")}
	distinct := map[string]int{}
	for _, r := range a.Regions {
		distinct[r.Name] = r.Distinct
	}
	apart, fixed, same := 0, 0, 0
	placed := map[string]bool{} // regions already shown moving with an earlier one
	for _, p := range a.Pairs {
		if distinct[p.A] == 1 && distinct[p.B] == 1 {
			fixed++
			continue
		}
		if p.DistinctDiffs != 1 && !p.Related {
			apart++
			continue
		}
		if p.DistinctDiffs == 1 {
			if placed[p.B] || placed[p.A] {
				same++ // implied by the rows above
				continue
			}
			placed[p.B] = true
		}
		own := "-"
		if p.OwnFrom != "" {
			own = fmt.Sprintf("%.1f [%.1f, %.1f]", p.OwnBits, p.OwnLo, p.OwnHi)
		}
		t.Rows = append(t.Rows, []string{p.B + " - " + p.A, fmt.Sprint(p.DistinctDiffs), own, analysis.PairWords(p, a.Regions)})
	}
	if same > 0 {
		t.Notes = append(t.Notes, fmt.Sprintf("%d more fixed offsets between those regions, implied by the rows above.", same))
	}
	if fixed > 0 {
		t.Notes = append(t.Notes, fmt.Sprintf("%d pairs of regions that are both fixed: constant differences, nothing to learn.", fixed))
	}
	if apart > 0 {
		t.Notes = append(t.Notes, fmt.Sprintf("%d other pairs: the difference has no fewer bits than the regions themselves; knowing one leaves the other its own entropy.", apart))
	}
	return t
}

// pairsHead introduces the pairs table.
const pairsHead = "Regions that move together (one distinct difference) or follow another (fewer bits of difference than either has)"

// Text writes the view for a terminal: the region table and its legend,
// the rules, the pairs, and the conclusions last, where the eye lands.
func (v *ASLRView) Text(w io.Writer) error {
	ew := &errWriter{w: w}
	if err := v.Regions.Text(w); err != nil {
		return err
	}
	for _, x := range v.Above {
		ew.printf("%s\n", x)
	}
	if len(v.Rules) > 0 {
		ew.printf("rules:\n")
		for _, r := range v.Rules {
			ew.printf("  %s\n", wrapIndent(r, noteWidth-2, "    "))
		}
	}
	ew.printf("\n%s\n", wrap(strings.ToLower(pairsHead[:1])+pairsHead[1:]+":", noteWidth))
	if ew.err != nil {
		return ew.err
	}
	if len(v.Pairs.Rows) > 0 {
		if err := v.Pairs.Text(w); err != nil {
			return err
		}
	} else {
		for _, n := range v.Pairs.Notes {
			ew.printf("%s\n", n)
		}
	}
	ew.printf("\nconclusions:\n")
	for _, c := range v.Conclusions {
		ew.printf("  - %s\n", wrapIndent(c, noteWidth-4, "    "))
	}
	return ew.err
}

// Markdown writes the view for report.md: the conclusions first, as the
// section's lede, then the region table, the rules and the pairs.
func (v *ASLRView) Markdown(w io.Writer) error {
	ew := &errWriter{w: w}
	for _, c := range v.Conclusions {
		ew.printf("- %s\n", mdEscape(c))
	}
	if len(v.Conclusions) > 0 {
		ew.printf("\n")
	}
	if ew.err != nil {
		return ew.err
	}
	if err := v.Regions.Markdown(w); err != nil {
		return err
	}
	for _, x := range v.Above {
		ew.printf("\n**%s**\n", mdEscape(x))
	}
	if len(v.Rules) > 0 {
		ew.printf("\nHow each effective figure was chosen:\n\n")
		for _, r := range v.Rules {
			ew.printf("- %s\n", mdEscape(r))
		}
	}
	ew.printf("\n%s:\n\n", pairsHead)
	if ew.err != nil {
		return ew.err
	}
	if len(v.Pairs.Rows) > 0 {
		return v.Pairs.Markdown(w)
	}
	ew.printf("%s\n", mdEscape(strings.Join(v.Pairs.Notes, " ")))
	return ew.err
}

// bitSpan is "12-40": the lowest and highest varying bit.
func bitSpan(mask uint64) string {
	if mask == 0 {
		return "-"
	}
	return fmt.Sprintf("%d-%d", bits.TrailingZeros64(mask), 63-bits.LeadingZeros64(mask))
}

func chiP(g runfile.Region) string {
	if g.ChiSquareDF <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.2g", g.ChiSquareP)
}

// entropyWord names the entropy the effective figure is, in a word.
func entropyWord(kind runfile.EntropyKind) string {
	switch kind {
	case runfile.EntropyCollision:
		return "collision"
	case runfile.EntropyMin:
		return "min"
	case runfile.EntropyUpperBound:
		return "upper bound"
	case runfile.EntropyShannon:
		return "Shannon"
	}
	return "-"
}

// effective is "28.0 [17.0, 28.0]"; without the interval for a constant
// region or a run file from before intervals were recorded.
func effective(g runfile.Region) string {
	if g.Rule == "" || g.Rule == runfile.RuleConstant || g.Distinct <= 1 {
		return fmt.Sprintf("%.1f", g.Effective)
	}
	return fmt.Sprintf("%.1f [%.1f, %.1f]", g.Effective, g.EffectiveLo, g.EffectiveHi)
}
