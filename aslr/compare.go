package aslr

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/vbench-dev/vbench/aslr/analysis"
	"github.com/vbench-dev/vbench/runfile"
)

// Comparing two sampling methods (`vbench aslr --method both`,
// TestChainSamplesWhatSpawnsSample): the same number of samples from each,
// taken in alternating rounds so that both see the same load, then per
// region two two-sample chi-square tests (homogeneity of two multinomial
// samples of sizes nA and nB: X2 = sum over bins of (sqrt(nB/nA) a -
// sqrt(nA/nB) b)^2 / (a + b), chi-square with bins-1 degrees of freedom
// under the hypothesis that both are drawn from one distribution):
//
//   - range: compareBins equal bins over the pooled [min, max], which sees
//     a shift or a part of the range under- or over-represented;
//   - low: the lattice index mod compareLow ((v - min) / step, step the
//     pooled values' lattice): the low varying bits, which see a sampler
//     that favours even pages, or sp offsets of another argv size.
//
// Both methods' samples are declared the same unless a test rejects at
// compareAlpha, Bonferroni-corrected over every test made.

const (
	compareBins  = 64
	compareLow   = 16
	compareAlpha = 0.001
	compareMinN  = 5 // expected count per bin below which bins are merged
)

// CompareMethods samples cfg.Samples with each of methods a and b, in
// compareRounds alternating rounds, and compares them region by region.
func CompareMethods(ctx context.Context, cfg Config, a, b string, progress func(done, total int)) ([]runfile.MethodComparison, []*runfile.ASLR, error) {
	if cfg.Samples <= 0 {
		return nil, nil, fmt.Errorf("%w: comparing methods needs a sample count", ErrConfig)
	}
	const rounds = 4
	cfg.Ceiling = 0
	cols := map[string][]*analysis.Columns{}
	runs := map[string]*runfile.ASLR{}
	done := 0
	for i := range 2 * rounds {
		m := a
		if i%2 == 1 {
			m = b
		}
		c := cfg
		c.Method = m
		c.Samples = cfg.Samples / rounds
		if i/2 == rounds-1 {
			c.Samples = cfg.Samples - (rounds-1)*(cfg.Samples/rounds)
		}
		var col *analysis.Columns
		c.keep = &col
		base := done
		res, err := Study(ctx, c, func(d, _ int) {
			if progress != nil {
				progress(base+d, 2*cfg.Samples)
			}
		})
		if err != nil {
			return nil, nil, err
		}
		done += res.Samples
		cols[m] = append(cols[m], col)
		if r := runs[m]; r == nil {
			runs[m] = res
		} else {
			// The rate over the rounds: samples over sampling time.
			r.Samples += res.Samples
			r.Duration += res.Duration
			r.Stalled += res.Stalled
			r.Rate = float64(r.Samples) / (r.Duration - r.Stalled).Seconds()
		}
		if res.Interrupted {
			break
		}
	}
	return compareColumns(a, b, cols[a], cols[b]), []*runfile.ASLR{runs[a], runs[b]}, nil
}

// compareColumns tests every region both hold.
func compareColumns(a, b string, ca, cb []*analysis.Columns) []runfile.MethodComparison {
	var out []runfile.MethodComparison
	values := func(cs []*analysis.Columns, r int) []uint64 {
		var v []uint64
		for _, c := range cs {
			v = c.AppendPresent(r, v)
		}
		return v
	}
	for r := range nRegions {
		va, vb := values(ca, r), values(cb, r)
		if len(va) == 0 && len(vb) == 0 {
			continue
		}
		out = append(out, twoSample(regionNames[r], a, b, va, vb))
	}
	// Bonferroni over the tests made.
	tests := 0
	for _, c := range out {
		if c.RangeDF > 0 {
			tests++
		}
		if c.LowDF > 0 {
			tests++
		}
	}
	level := compareAlpha / float64(max(tests, 1))
	for i := range out {
		c := &out[i]
		c.Same = c.NA > 0 && c.NB > 0 && (c.RangeDF == 0 || c.RangeP >= level) && (c.LowDF == 0 || c.LowP >= level)
	}
	return out
}

// twoSample compares two samples of one region.
func twoSample(region, a, b string, va, vb []uint64) runfile.MethodComparison {
	c := runfile.MethodComparison{Region: region, A: a, B: b, NA: len(va), NB: len(vb), RangeP: 1, LowP: 1}
	if len(va) == 0 || len(vb) == 0 {
		return c
	}
	lo := min(slices.Min(va), slices.Min(vb))
	hi := max(slices.Max(va), slices.Max(vb))
	if lo == hi {
		return c // one value in both: nothing to test
	}
	var step uint64
	for _, vs := range [][]uint64{va, vb} {
		for _, v := range vs {
			step = gcd64(step, v-lo)
		}
	}
	span := (hi - lo) / step // lattice points - 1
	bin := func(k uint64) func(uint64) int {
		if span+1 < k {
			k = span + 1
		}
		return func(v uint64) int {
			idx := (v - lo) / step
			return int(float64(idx) / float64(span+1) * float64(k))
		}
	}
	c.RangeX2, c.RangeDF, c.RangeP = chi2Homogeneity(va, vb, min(compareBins, span+1), bin(compareBins))
	if span+1 >= 2*compareLow {
		c.LowX2, c.LowDF, c.LowP = chi2Homogeneity(va, vb, compareLow, func(v uint64) int { return int((v - lo) / step % compareLow) })
	}
	return c
}

// chi2Homogeneity is the two-sample chi-square over k bins; bins whose
// pooled count is too small for the approximation are merged with the
// next.
func chi2Homogeneity(va, vb []uint64, k uint64, bin func(uint64) int) (x2 float64, df int, p float64) {
	oa := make([]float64, k)
	ob := make([]float64, k)
	for _, v := range va {
		oa[min(bin(v), int(k)-1)]++
	}
	for _, v := range vb {
		ob[min(bin(v), int(k)-1)]++
	}
	na, nb := float64(len(va)), float64(len(vb))
	ra, rb := math.Sqrt(nb/na), math.Sqrt(na/nb)
	// The smaller sample's expected count in a bin is about its share of
	// the pooled count.
	share := min(na, nb) / (na + nb)
	var ma, mb []float64 // merged bins
	var ca, cb float64
	for j := range oa {
		ca += oa[j]
		cb += ob[j]
		if (ca+cb)*share >= compareMinN {
			ma, mb = append(ma, ca), append(mb, cb)
			ca, cb = 0, 0
		}
	}
	if ca+cb > 0 && len(ma) > 0 { // too few for a bin of their own
		ma[len(ma)-1] += ca
		mb[len(mb)-1] += cb
	}
	bins := len(ma)
	for j := range ma {
		d := ra*ma[j] - rb*mb[j]
		x2 += d * d / (ma[j] + mb[j])
	}
	if bins < 2 {
		return 0, 0, 1
	}
	df = bins - 1
	return x2, df, distuv.ChiSquared{K: float64(df)}.Survival(x2)
}

// ComparisonLines renders a comparison as a small table and a verdict.
func ComparisonLines(cmp []runfile.MethodComparison) []string {
	if len(cmp) == 0 {
		return nil
	}
	a, b := cmp[0].A, cmp[0].B
	lines := []string{
		fmt.Sprintf("%-12s %9s %9s  %-22s %-22s %s", "region", "n "+a, "n "+b, "range: chi² (df) p", "low bits: chi² (df) p", "same?"),
	}
	test := func(x float64, df int, p float64) string {
		if df == 0 {
			return "-"
		}
		return fmt.Sprintf("%.1f (%d) %.3g", x, df, p)
	}
	for _, c := range cmp {
		same := "yes"
		if !c.Same {
			same = "NO"
		}
		lines = append(lines, fmt.Sprintf("%-12s %9d %9d  %-22s %-22s %s", c.Region, c.NA, c.NB,
			test(c.RangeX2, c.RangeDF, c.RangeP), test(c.LowX2, c.LowDF, c.LowP), same))
	}
	return append(lines, "", ComparisonWords(cmp))
}

// ComparisonWords is the verdict in a sentence.
func ComparisonWords(cmp []runfile.MethodComparison) string {
	var differ []string
	for _, c := range cmp {
		if !c.Same {
			differ = append(differ, c.Region)
		}
	}
	if len(cmp) == 0 {
		return ""
	}
	a, b := cmp[0].A, cmp[0].B
	if len(differ) == 0 {
		return fmt.Sprintf("%s and %s samples are not told apart in any region (two-sample chi-square over %d range bins and the lattice index mod %d; family-wise level %.3g)",
			a, b, compareBins, compareLow, compareAlpha)
	}
	return fmt.Sprintf("%s and %s samples DIFFER in %s (two-sample chi-square, family-wise level %.3g)", a, b, strings.Join(differ, ", "), compareAlpha)
}

func gcd64(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
