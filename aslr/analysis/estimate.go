package analysis

import (
	"fmt"
	"math"
	"math/bits"
	"slices"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/vbench-dev/vbench/runfile"
)

// The estimators work on a sorted histogram of the values seen (dist:
// distinct values ascending, with their counts), built by sorting one
// column of samples; each estimator is then one O(distinct) pass.
//
// What each figure estimates, for a distribution p over addresses:
//   - range bits: log2 of the lattice points between the smallest and the
//     largest value, the Hartley entropy (log2 of the support) when every
//     point can occur; an upper bound of every entropy below.
//   - bit-entropy sum: sum of the binary entropies of the address bits; an
//     upper bound of the Shannon entropy (subadditivity).
//   - Shannon H = -sum p log2 p, plug-in: biased low, and capped at
//     log2(samples), so only useful when well sampled.
//   - collision (Renyi order 2) H2 = -log2 sum p^2: the chance that two
//     spawns share a base is 2^-H2. Equal pairs / all pairs is an unbiased
//     estimate of sum p^2 at any sample size (the birthday estimate).
//   - min-entropy Hmin = -log2 max p: the chance that an attacker's best
//     single guess is right is 2^-Hmin. Hmin <= H2 <= H <= range, and
//     H2 <= 2 Hmin.

// Rules for Region.Effective.
const (
	// minCollisions: from this many colliding pairs on, the birthday
	// estimate is the figure whatever the upper bounds say (Poisson
	// relative error 1/sqrt(20) = 22%, +-0.3 bits).
	minCollisions = 20
	// histBins is the length of Region.Histogram.
	histBins = 64
	// level is the two-sided confidence level of every interval.
	level = 0.95
)

// BitFreqBits is the length of Region.BitFreq: the address bits a run
// records the frequency of (user-space x86-64 addresses have 47 bits with
// 4-level paging, arm64 48 with a 48-bit VA).
const BitFreqBits = 48

// WeakBit reports whether a varying bit set in a fraction p of samples is
// "weak" as paxtest counts it: set in at most 35% or at least 65% of them.
func WeakBit(p float64) bool { return p > 0 && p < 1 && (p <= 0.35 || p >= 0.65) }

// dist is a histogram sorted by value.
type dist struct {
	vals   []uint64
	counts []int32
	n      int
}

// distOf sorts vals in place and compacts it into a dist that shares its
// backing array; the counts go into counts[:0] when it is large enough
// (a buffer reused from one column to the next).
func distOf(vals []uint64, counts []int32) dist {
	slices.Sort(vals)
	d := dist{n: len(vals), vals: vals[:0], counts: counts[:0]}
	for i := 0; i < len(vals); {
		j := i + 1
		for j < len(vals) && vals[j] == vals[i] {
			j++
		}
		d.vals = append(d.vals, vals[i]) // d.vals aliases vals, behind i
		d.counts = append(d.counts, int32(j-i))
		i = j
	}
	return d
}

// distOfCounts builds a dist from a value -> count map.
func distOfCounts(m map[uint64]int) dist {
	d := dist{vals: make([]uint64, 0, len(m))}
	for v := range m {
		d.vals = append(d.vals, v)
	}
	slices.Sort(d.vals)
	for _, v := range d.vals {
		d.counts = append(d.counts, int32(m[v]))
		d.n += m[v]
	}
	return d
}

// estimate computes every estimator of one region.
func estimate(name string, d dist) runfile.Region {
	n := d.n
	r := runfile.Region{Name: name, Present: n, Distinct: len(d.vals), BitFreq: make([]float64, BitFreqBits)}
	if n == 0 || len(d.vals) == 0 {
		r.Rule, r.EffectiveRule = runfile.RuleAbsent, "absent in every sample"
		r.CollisionBits, r.CollisionHi = -1, -1
		return r
	}
	var (
		or, and  uint64 = 0, ^uint64(0)
		lo, hi          = d.vals[0], d.vals[len(d.vals)-1]
		bitCount [64]int
		maxCount int
		s2, s3   float64 // sum of c(c-1) and c(c-1)(c-2)
		shannon  float64
		step     uint64 // gcd of v - lo
		nf       = float64(n)
	)
	for i, v := range d.vals {
		c := int(d.counts[i])
		cf := float64(c)
		or |= v
		and &= v
		step = gcd(step, v-lo)
		maxCount = max(maxCount, c)
		s2 += cf * (cf - 1)
		s3 += cf * (cf - 1) * (cf - 2)
		p := cf / nf
		shannon -= p * math.Log2(p)
		for w := v; w != 0; w &= w - 1 {
			bitCount[bits.TrailingZeros64(w)] += c
		}
	}
	r.Min, r.Max, r.Step = lo, hi, step
	if or != 0 {
		r.Alignment = 1 << bits.TrailingZeros64(or)
	}
	r.VaryingMask = or &^ and
	r.VaryingBits = bits.OnesCount64(r.VaryingMask)
	r.QualityBits = r.VaryingBits
	for i := range 64 {
		p := float64(bitCount[i]) / nf
		if i < BitFreqBits {
			r.BitFreq[i] = p
		}
		r.BitEntropySum += binaryEntropy(p)
		if r.VaryingMask&(1<<i) != 0 && WeakBit(p) {
			r.QualityBits-- // paxtest's "weak" bit
		}
	}
	span := uint64(0) // lattice points - 1
	if step != 0 {
		span = (hi - lo) / step
	}
	r.RangeBits = math.Log2(float64(span) + 1)

	r.Collisions = int(s2 / 2)
	r.CollisionBits, r.CollisionLo, r.CollisionHi = collisionBits(n, s2, s3)

	r.Shannon = shannon
	r.ShannonCeiling = math.Log2(nf)
	r.MinEntropy = -math.Log2(float64(maxCount) / nf)
	if r.MinEntropy == 0 {
		r.MinEntropy = 0 // not -0
	}

	r.ChiSquare, r.ChiSquareDF, r.ChiSquareP = chiSquareUniform(d, lo, step, span)
	r.Histogram = histogram(d, lo, hi)
	effective(&r, maxCount)
	r.EffectiveRule = RuleWords(r)
	return r
}

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// upperBounds are min(range, bit-entropy sum) and, for interval ends, the
// same bound widened by what n samples may not have seen: the range's two
// unseen ends (on a uniform lattice together a fraction ~ Gamma(2)/n of
// it; 5.57 is Gamma(2)'s 97.5% point) and the plug-in per-bit entropies'
// low bias (sum over k bits of chi2(1)/(2 n ln 2)).
func upperBounds(r runfile.Region) (u, uHi float64, rule runfile.Rule) {
	nf := float64(r.Present)
	rangeHi := r.RangeBits
	if nf > 6 {
		rangeHi += math.Log2(nf / (nf - 5.57))
	}
	bitHi := r.BitEntropySum
	if k := float64(r.VaryingBits); k > 0 {
		bitHi += chiSquareQuantile(1-(1-level)/2, k) / (2 * nf * math.Ln2)
	}
	u, rule = r.RangeBits, runfile.RuleRange
	if r.BitEntropySum < u {
		u, rule = r.BitEntropySum, runfile.RuleBitSum
	}
	return u, math.Min(rangeHi, bitHi), rule
}

// effective picks the figure a security reader wants, names the entropy it
// estimates, and gives its 95% interval. The order:
//
//  1. min: when the most common value is provably more likely than 2^-H2
//     (its lower bound, simultaneous over all values, beats H2's lower
//     end), the attacker's best guess is the figure: min-entropy.
//  2. birthday: with minCollisions or more equal pairs, or when fewer pairs
//     already show fewer bits than the upper bounds, the collision
//     entropy H2, capped by min(range, bit sum).
//  3. range / bitsum: too few collisions to estimate H2, and the samples do
//     not contradict the upper bound min(range, bit sum): the figure is
//     that bound, and the interval says what the samples prove (H2 above
//     its lower end).
func effective(r *runfile.Region, maxCount int) {
	if r.Distinct == 1 {
		r.Rule = runfile.RuleConstant
		r.Effective, r.EffectiveLo, r.EffectiveHi = 0, 0, 0
		r.MinEntropyLo, r.MinEntropyHi = 0, 0
		return
	}
	u, uHi, boundRule := upperBounds(*r)
	lo2, hi2 := r.CollisionLo, r.CollisionHi
	if hi2 < 0 || hi2 > uHi {
		hi2 = uHi
	}
	lo2 = math.Min(lo2, math.Min(hi2, u))

	// The top value's probability, bounded simultaneously (Bonferroni)
	// over every value the lattice holds, seen or not: the top value is
	// chosen after looking, among all of them.
	support := math.Max(float64(r.Distinct), math.Exp2(math.Min(r.RangeBits, 64)))
	pLo, pHi := clopperPearson(maxCount, r.Present, (1-level)/2/support)
	minHi := math.Min(-math.Log2(pLo), hi2)   // Hmin <= H2
	minLo := math.Max(-math.Log2(pHi), lo2/2) // H2 <= 2 Hmin
	r.MinEntropyLo, r.MinEntropyHi = math.Min(minLo, minHi), minHi
	if r.MinEntropyLo < 0 {
		r.MinEntropyLo = 0
	}

	switch {
	case -math.Log2(pLo) < lo2:
		r.Rule, r.Entropy = runfile.RuleMin, runfile.EntropyMin
		r.Effective, r.EffectiveLo, r.EffectiveHi = r.MinEntropy, r.MinEntropyLo, r.MinEntropyHi
	case r.Collisions >= minCollisions || (r.Collisions > 0 && r.CollisionHi >= 0 && r.CollisionHi < u):
		r.Rule, r.Entropy = runfile.RuleBirthday, runfile.EntropyCollision
		r.Effective, r.EffectiveLo, r.EffectiveHi = math.Min(r.CollisionBits, u), lo2, hi2
	default:
		r.Rule, r.Entropy = boundRule, runfile.EntropyUpperBound
		r.Effective, r.EffectiveLo, r.EffectiveHi = u, lo2, hi2
	}
	r.Effective = math.Max(r.EffectiveLo, math.Min(r.Effective, r.EffectiveHi))
}

// RuleWords is the sentence for a region's rule, rendered from its fields
// (Region.Rule); a run file written before the rule was a field keeps its
// stored sentence.
func RuleWords(r runfile.Region) string {
	iv := fmt.Sprintf("95%% interval [%.2f, %.2f]", r.EffectiveLo, r.EffectiveHi)
	switch r.Rule {
	case "":
		return r.EffectiveRule
	case runfile.RuleAbsent:
		return "absent in every sample"
	case runfile.RuleConstant:
		return "constant: one value in every sample"
	case runfile.RuleMin:
		return fmt.Sprintf("min-entropy: the most common value is seen in %.1f%% of samples, provably more often than the collision entropy allows, so an attacker's best guess succeeds with probability 2^-%.2f; %s (plug-in, which is biased low)",
			100*math.Exp2(-r.MinEntropy), r.MinEntropy, iv)
	case runfile.RuleBirthday:
		return fmt.Sprintf("collision (Renyi-2) entropy from %d equal pairs among %d samples: two spawns share a base with probability 2^-%.2f; %s; at most min(range %.2f, bit-entropy sum %.2f)",
			r.Collisions, r.Present, r.Effective, iv, r.RangeBits, r.BitEntropySum)
	case runfile.RuleRange, runfile.RuleBitSum:
		bound := "range"
		if r.Rule == runfile.RuleBitSum {
			bound = "bit-entropy sum"
		}
		return fmt.Sprintf("upper bound (the %s, %.2f bits), not an estimate: %d equal pairs are too few to estimate the collision entropy, and do not contradict the bound; the samples prove only that it lies in the %s; more samples narrow it",
			bound, r.Effective, r.Collisions, iv)
	}
	return string(r.Rule)
}

// EntropyWords names the entropy kind of Region.Entropy.
func EntropyWords(kind runfile.EntropyKind) string {
	switch kind {
	case runfile.EntropyCollision:
		return "collision entropy (Renyi-2)"
	case runfile.EntropyMin:
		return "min-entropy"
	case runfile.EntropyUpperBound:
		return "upper bound (range or bit sum)"
	}
	return string(kind)
}

// binaryEntropy is H(p) in bits.
func binaryEntropy(p float64) float64 {
	if p <= 0 || p >= 1 {
		return 0
	}
	return -p*math.Log2(p) - (1-p)*math.Log2(1-p)
}

// collisionBits is the birthday estimate of the collision entropy H2 and
// its 95% interval. With c the counts, Q = sum c(c-1) / (n(n-1)) is an
// unbiased estimate of sum p^2 (a U-statistic of order 2), and its
// variance is (Hoeffding)
//
//	Var Q = 4(n-2)/(n(n-1)) (sum p^3 - (sum p^2)^2) + 2/(n(n-1)) (sum p^2 - (sum p^2)^2)
//
// estimated with sum p^3 ~ sum c(c-1)(c-2) / (n(n-1)(n-2)). For a uniform
// distribution the first term is 0 and the number of equal pairs is nearly
// Poisson; a non-uniform one adds the first term, which a Poisson interval
// leaves out (its coverage fell to 4% with one heavy value). The interval is
// the exact Poisson one, (chi2(0.025; 2m)/2, chi2(0.975; 2m+2)/2), for the
// effective count m = Q^2/Var Q (= the equal pairs when uniform), scaled
// back to Q: gamma-shaped, right for few pairs, normal for many. With no
// equal pair the estimate and the upper end are infinite, written -1.
func collisionBits(n int, s2, s3 float64) (est, lo, hi float64) {
	nf := float64(n)
	if n < 2 {
		return -1, 0, -1
	}
	pairs := nf * (nf - 1) / 2
	c := s2 / 2
	if c == 0 {
		muHi := chiSquareQuantile(1-(1-level)/2, 2) / 2
		return -1, max(0, math.Log2(pairs/muHi)), -1
	}
	q2 := s2 / (nf * (nf - 1))
	q3 := 0.0
	if n > 2 {
		q3 = s3 / (nf * (nf - 1) * (nf - 2))
	}
	v := 4*(nf-2)/(nf*(nf-1))*max(0, q3-q2*q2) + 2/(nf*(nf-1))*max(0, q2-q2*q2)
	m := c
	if v > 0 {
		m = min(c, q2*q2/v)
	}
	scale := q2 / m
	qLo := chiSquareQuantile((1-level)/2, 2*m) / 2 * scale
	qHi := min(1, chiSquareQuantile(1-(1-level)/2, 2*m+2)/2*scale)
	est = -math.Log2(q2)
	lo = max(0, -math.Log2(qHi))
	hi = -math.Log2(qLo)
	if qLo <= 0 {
		hi = -1
	}
	return max(est, 0), lo, hi
}

// clopperPearson is the exact (Clopper-Pearson) interval of a proportion
// k/n, each tail of probability alpha; valid for any count, where a normal
// approximation is not (a count of 1 with a Bonferroni alpha).
func clopperPearson(k, n int, alpha float64) (lo, hi float64) {
	lo, hi = 0, 1
	if k > 0 {
		lo = distuv.Beta{Alpha: float64(k), Beta: float64(n - k + 1)}.Quantile(alpha)
	}
	if k < n {
		hi = distuv.Beta{Alpha: float64(k + 1), Beta: float64(n - k)}.Quantile(1 - alpha)
	}
	return max(lo, math.SmallestNonzeroFloat64), hi
}

// chiSquareUniform tests the values against the uniform distribution over
// the lattice lo, lo+step, ..., lo+span*step: the lattice is cut into k
// bins of (nearly) equal numbers of points, k = min(span+1, n/10, 4096) so
// that a bin expects 10 samples on average and at least 5 (widths differ by
// at most one point, so the narrowest holds at least half the mean), and
// the expected count of a bin is proportional to its points. Returns the
// statistic, its degrees of freedom (k-1) and the p-value (1 when there is
// a single value). With at most n/10 bins it cannot see holes finer than
// a bin: "does not reject" says nothing about the lattice inside a bin.
func chiSquareUniform(d dist, lo, step, span uint64) (x2 float64, df int, p float64) {
	points := span + 1
	if step == 0 || span == ^uint64(0) || points < 2 {
		return 0, 0, 1
	}
	k := min(points, uint64(d.n/10), 4096)
	if k < 2 {
		return 0, 0, 1 // too few samples to test
	}
	obs := make([]float64, k)
	for i, v := range d.vals {
		idx := (v - lo) / step
		h, l := bits.Mul64(idx, k)
		j, _ := bits.Div64(h, l, points) // floor(idx*k/points) < k
		obs[j] += float64(d.counts[i])
	}
	// bin j holds the indexes idx with floor(idx*k/points) = j:
	// ceil(j*points/k) <= idx < ceil((j+1)*points/k).
	first := func(j uint64) uint64 {
		h, l := bits.Mul64(j, points)
		q, rem := bits.Div64(h, l, k)
		if rem != 0 {
			q++
		}
		return q
	}
	nf := float64(d.n)
	for j := uint64(0); j < k; j++ {
		width := float64(first(j+1) - first(j))
		e := nf * width / float64(points)
		dd := obs[j] - e
		x2 += dd * dd / e
	}
	df = int(k - 1)
	return x2, df, chiSquareSurvival(x2, float64(df))
}

// histogram counts the values in histBins equal bins over [lo, hi].
func histogram(d dist, lo, hi uint64) []int {
	if hi == lo {
		return []int{d.n}
	}
	h := make([]int, histBins)
	width := hi - lo // bins of (width+1)/histBins values; computed in 128 bits
	for i, v := range d.vals {
		hh, l := bits.Mul64(v-lo, histBins)
		j, _ := bits.Div64(hh, l, width)
		h[min(j, histBins-1)] += int(d.counts[i])
	}
	return h
}

// chiSquareSurvival is P(X > x) for X chi-square with df degrees of
// freedom.
func chiSquareSurvival(x, df float64) float64 {
	if x <= 0 {
		return 1
	}
	return distuv.ChiSquared{K: df}.Survival(x)
}

// chiSquareQuantile is the x with P(X <= x) = q.
func chiSquareQuantile(q, df float64) float64 {
	if df <= 0 {
		return 0
	}
	return distuv.ChiSquared{K: df}.Quantile(q)
}
