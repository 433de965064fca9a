package report

import (
	"fmt"
	"io"
	"math/bits"
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
// estimator (15 columns, about 185 characters of text: report.md, and
// `vbench aslr --wide`), or the narrow one a terminal shows by default
// (narrowCols, 98 characters wide with the fixtures of testdata/): the
// effective figure and what it rests on; the narrow view also wraps the
// pairs' sentences at narrowWidth.
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
		v.Regions.Width, v.Pairs.Width = narrowWidth, narrowWidth
	}
	return v
}

// regionTable is the estimators per region (wide), or the narrowCols of
// them, and the above-maximum sentences the conclusions lack.
func regionTable(a *runfile.ASLR, kern analysis.Kernel, wide bool) (*Table, []string) {
	t := &Table{Cols: cols("region", "distinct>", "varying>", "bits>", "quality>", "bit-H sum>", "range>",
		"birthday [95%] (pairs)>", "Shannon (ceil)>", "min-H [95%]>", "chi² p>", "effective [95%]*", "entropy", "rule", "kernel max>")}
	var above []string
	sources := map[string][]string{} // kernel maximum's source -> regions
	var order []string
	for _, g := range a.Regions {
		if g.Present == 0 {
			t.Rows = append(t.Rows, []string{g.Name, "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "-", "absent", ""})
			continue
		}
		kmax := "?"
		if m := analysis.MaxIn(a, g.Name, kern); m.Known {
			kmax = fmt.Sprintf("%.0f", m.Bits)
			if sources[m.Source] == nil {
				order = append(order, m.Source)
			}
			sources[m.Source] = append(sources[m.Source], g.Name)
			if analysis.Above(g, m) {
				kmax += " ABOVE"
				if !g.AboveKernelMax { // else analysis.Conclusions says it
					above = append(above, "ABOVE THE KERNEL MAXIMUM: "+analysis.AboveWords(g, m))
				}
			}
		}
		t.Rows = append(t.Rows, []string{g.Name, fmt.Sprint(g.Distinct), fmt.Sprint(g.VaryingBits), bitSpan(g.VaryingMask),
			fmt.Sprint(g.QualityBits), fmt.Sprintf("%.2f", g.BitEntropySum), fmt.Sprintf("%.2f", g.RangeBits),
			birthday(g), fmt.Sprintf("%.2f (%.1f)", g.Shannon, g.ShannonCeiling), minH(g), chiP(g), effective(g),
			entropyWord(g.Entropy), dash(g.Rule), kmax})
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
	if !wide {
		t = t.project(narrowCols)
		t.Notes = []string{
			"bits: the lowest and highest address bits that differ between samples; range: log2(range/alignment + 1); " +
				"bit-H sum: the sum of per-bit entropies; both bound every entropy from above.",
			effectiveNote, kmaxNote,
			"The wide table (--wide) adds the varying and quality bits, the birthday, Shannon and min-entropy estimates and the chi² test.",
		}
		return t, above
	}
	t.Notes = []string{
		"varying: bits that differ between samples, spanning 'bits'; quality: paxtest's, varying minus those set in <=35% or >=65% of samples.",
		"bit-H sum: the sum of per-bit entropies; range: log2(range/alignment + 1); birthday: log2(pairs of samples/equal pairs), the collision entropy, with the number of equal pairs ('> x' with none); " +
			"Shannon is the plug-in, capped at (ceil) = log2 N; min-H: plug-in min-entropy (biased low), with bounds; chi² p: the uniformity test over the range.",
		effectiveNote, kmaxNote,
	}
	return t, above
}

// narrowWidth is the widest line of the narrow view's tables: the pairs'
// sentences are wrapped to fit it.
const narrowWidth = 110

// narrowCols are the columns of the narrow region table, taken from the
// wide one: which bits move, the two upper bounds of every entropy (range,
// bit-H sum), and the effective figure with its kind, the rule that chose
// it and the kernel's maximum.
var narrowCols = []string{"region", "distinct", "bits", "range", "bit-H sum", "effective [95%]", "entropy", "rule", "kernel max"}

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
	ew.printf("\n%s:\n", strings.ToLower(pairsHead[:1])+pairsHead[1:])
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

// birthday is the collision estimate with its interval and the number of
// equal pairs it comes from, "17.9 [17.5, 18.4] (50)"; with no equal
// pair, the lower bound alone: "> 21.7 (0)".
func birthday(g runfile.Region) string {
	if g.CollisionBits < 0 || g.Collisions == 0 {
		return fmt.Sprintf("> %.1f (%d)", g.CollisionLo, g.Collisions)
	}
	hi := "inf"
	if g.CollisionHi >= 0 {
		hi = fmt.Sprintf("%.1f", g.CollisionHi)
	}
	return fmt.Sprintf("%.1f [%.1f, %s] (%d)", g.CollisionBits, g.CollisionLo, hi, g.Collisions)
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

func minH(g runfile.Region) string {
	if g.Rule == "" || g.Distinct <= 1 {
		return fmt.Sprintf("%.2f", g.MinEntropy)
	}
	return fmt.Sprintf("%.2f [%.1f, %.1f]", g.MinEntropy, g.MinEntropyLo, g.MinEntropyHi)
}
