package analysis

import (
	"math"

	"github.com/vbench-dev/vbench/runfile"
)

// The Chao-Shen estimator of the Shannon entropy (A. Chao and T.-J. Shen,
// "Nonparametric estimation of Shannon's index of diversity when there
// are unseen species in sample", Environmental and Ecological Statistics
// 10, 2003): the plug-in -sum p log p is biased low when many values are
// seen once or never, and cannot exceed log2 N. Chao-Shen shrinks each
// frequency by the sample coverage C = 1 - f1/N (f1 values seen once:
// Good-Turing's estimate of the probability mass of the values seen), and
// weights each term by the inverse of its chance of being seen at all
// (Horvitz-Thompson):
//
//	H = - sum over seen values of  C p log C p / (1 - (1 - C p)^N),   p = c/N
//
// with f1 = N - 1 when every value was seen once (else C = 0). The
// estimate depends on the counts only through how many values were seen
// k times (the profile), so it is one pass over the distinct counts.
//
// The interval is not a bootstrap of the estimate: it is what the samples
// prove about the Shannon entropy, whatever the distribution. H >= H2, so
// the collision entropy's lower end (estimators.go: an exact Poisson
// bound that holds for non-uniform data, 97.5% one-sided) is a lower end
// of H; H <= the range and the bit-entropy sum, so the smaller of their
// upper ends (97.5% each) is an upper end. The estimate is clamped into
// it. A basic bootstrap (the estimate minus the 97.5% and 2.5% points of
// 200 replicates' errors against their population's own entropy), drawn
// from the coverage-adjusted population (seen
// values at C c/N, Chao1's unseen values sharing 1 - C), as Chao and Shen
// suggest, was tried and measured over 100 seeded trials each: it held
// the truth in 92-94 of 100 for uniform 2^12 to 2^16, but in 80 for
// uniform 2^10 at N = 1000 and in 1 to 29 of 100 for a geometric, a Zipf
// and a half-on-one-value distribution, where Chao-Shen's own low bias
// (too little weight on the unseen tail) is not reproduced by resampling.
// So the estimate is the correction and the interval the guarantee: on a
// nearly uniform distribution (the ASLR case) the two ends meet the
// estimate within a fraction of a bit; on a skewed one they are wide, as
// they should be.
func init() {
	Register(Estimator{Name: "chao-shen", Kind: runfile.EntropyShannon, Order: 45, Label: "Chao-Shen",
		Head:     "Chao-Shen [95%]",
		Legend:   "Chao-Shen: the coverage-adjusted Shannon estimate, which corrects the plug-in's low bias, in what the samples prove of H (collision's lower end, the bounds' upper ends)",
		Estimate: chaoShenEstimate})
}

// class is count k seen in m values.
type class struct {
	k int
	m float64
}

func chaoShenEstimate(s *Stats) runfile.Estimate {
	var prof []class
	s.Profile(func(k, values int) { prof = append(prof, class{k, float64(values)}) })
	h, ok := chaoShen(prof)
	switch {
	case !ok:
		return runfile.Estimate{Bits: 0, Lo: 0, Hi: -1}
	case len(s.Vals) == 1:
		return runfile.Estimate{Bits: 0, Lo: 0, Hi: 0}
	}
	lo := math.Max(0, s.Prior("collision").Lo)
	_, hi, _ := upperBounds(s.prior)
	if math.IsInf(hi, 1) {
		return runfile.Estimate{Bits: math.Max(h, lo), Lo: lo, Hi: -1}
	}
	lo = math.Min(lo, hi)
	return runfile.Estimate{Bits: math.Max(lo, math.Min(h, hi)), Lo: lo, Hi: hi}
}

// chaoShen is the estimate in bits from a profile; false for no samples.
func chaoShen(prof []class) (float64, bool) {
	var n, f1 float64
	for _, c := range prof {
		n += float64(c.k) * c.m
		if c.k == 1 {
			f1 = c.m
		}
	}
	if n < 1 {
		return 0, false
	}
	if f1 >= n {
		f1 = n - 1
	}
	cov := 1 - f1/n
	h := 0.0
	for _, c := range prof {
		p := cov * float64(c.k) / n
		if p <= 0 || p >= 1 {
			continue // a single value: no entropy
		}
		seen := -math.Expm1(n * math.Log1p(-p)) // 1 - (1-p)^n
		h -= c.m * p * math.Log(p) / seen
	}
	return math.Max(h, 0) / math.Ln2, true
}
