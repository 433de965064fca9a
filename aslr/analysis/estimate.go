package analysis

import (
	"fmt"
	"math"
	"math/bits"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/vbench-dev/vbench/runfile"
)

// The estimators (the registry, registry.go; each estimator's file says
// what it estimates) work on a region's Stats: a sorted histogram of the
// values seen (distinct values ascending, with their counts), built by
// sorting one column of samples (radix.go), and what one pass over it
// gives. Each estimator is then one pass over the distinct values, or
// less. The effective figure (effective, below) is chosen from the
// estimates by a rule.

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
// (a buffer reused from one column to the next). buf, if at least as long
// as vals, is the radix sort's other half (radix.go); else it allocates.
func distOf(vals []uint64, counts []int32, buf ...[]uint64) dist {
	var b []uint64
	if len(buf) > 0 {
		b = buf[0]
	}
	sortUint64(vals, b)
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
	vals := make([]uint64, 0, len(m))
	for v := range m {
		vals = append(vals, v)
	}
	sortUint64(vals, nil)
	d := dist{vals: vals}
	for _, v := range d.vals {
		d.counts = append(d.counts, int32(m[v]))
		d.n += m[v]
	}
	return d
}

// Stats is what an estimator reads: one region's sorted histogram and
// what one pass over it gives, and the estimates of the estimators before
// it in the registry (Prior).
type Stats struct {
	// Vals are the distinct values ascending, Counts how often each was
	// seen, N the samples (the sum of Counts).
	Vals   []uint64
	Counts []int32
	N      int
	// Min, Max and Step: the values lie on the lattice Min + i Step, i in
	// [0, Span] (Step 0 and Span 0 with one value).
	Min, Max, Step, Span uint64
	// MaxCount is the count of the most common value.
	MaxCount int
	// S2 and S3 are sum c(c-1) and sum c(c-1)(c-2) over the counts c.
	S2, S3 float64
	// BitCount[i] is the number of samples with address bit i set;
	// VaryingBits the number of bits that differ between samples.
	BitCount    [64]int
	VaryingBits int

	prior   []runfile.Estimate
	profile [][2]int // count, values seen that often
}

// Prior is the estimate of an estimator earlier in the registry; it
// panics for one not computed yet (an estimator registered before the
// one it reads: a programming error the registry's test catches).
func (s *Stats) Prior(name string) runfile.Estimate {
	for _, e := range s.prior {
		if e.Name == name {
			return e
		}
	}
	panic("analysis: estimator " + name + " read before it was computed")
}

// Profile calls f once per distinct count k > 0 with the number of values
// seen exactly k times (the frequencies of frequencies), k ascending.
func (s *Stats) Profile(f func(k int, values int)) {
	if s.profile == nil {
		s.profile = s.makeProfile()
	}
	for _, c := range s.profile {
		f(c[0], c[1])
	}
}

func (s *Stats) makeProfile() [][2]int {
	var small [256]int // most counts are small: no map operation for them
	m := map[int32]int{}
	for _, c := range s.Counts {
		if c < int32(len(small)) {
			small[c]++
		} else {
			m[c]++
		}
	}
	for k, v := range small {
		if v > 0 {
			m[int32(k)] = v
		}
	}
	ks := make([]int, 0, len(m))
	for k := range m {
		ks = append(ks, int(k))
	}
	sortInts(ks)
	out := make([][2]int, 0, len(ks))
	for _, k := range ks {
		out = append(out, [2]int{k, m[int32(k)]})
	}
	return out
}

// stats makes one pass over d: the lattice, the top count, the collision
// sums and the bit counts (through one 256-entry table per byte, 8 adds a
// distinct value instead of one per set bit).
func stats(d dist) *Stats {
	s := &Stats{Vals: d.vals, Counts: d.counts, N: d.n}
	if len(d.vals) == 0 {
		return s
	}
	var (
		or, and uint64 = 0, ^uint64(0)
		lo             = d.vals[0]
		step    uint64 // gcd of v - lo
		byByte  [8][256]int
	)
	for i, v := range d.vals {
		c := int(d.counts[i])
		cf := float64(c)
		or |= v
		and &= v
		if step != 1 {
			step = gcd(step, v-lo)
		}
		s.MaxCount = max(s.MaxCount, c)
		s.S2 += cf * (cf - 1)
		s.S3 += cf * (cf - 1) * (cf - 2)
		for b := range 8 {
			byByte[b][byte(v>>(8*b))] += c
		}
	}
	for b := range 8 {
		for x, c := range byByte[b] {
			for w := x; w != 0; w &= w - 1 {
				s.BitCount[8*b+bits.TrailingZeros(uint(w))] += c
			}
		}
	}
	s.Min, s.Max, s.Step = lo, d.vals[len(d.vals)-1], step
	if step != 0 {
		s.Span = (s.Max - lo) / step
	}
	s.VaryingBits = bits.OnesCount64(or &^ and)
	return s
}

// estimate computes every estimator of one region, and the effective
// figure.
func estimate(name string, d dist) runfile.Region {
	n := d.n
	r := runfile.Region{Name: name, Present: n, Distinct: len(d.vals), BitFreq: make([]float64, BitFreqBits), Estimates: []runfile.Estimate{}}
	if n == 0 || len(d.vals) == 0 {
		r.Rule = runfile.RuleAbsent
		return r
	}
	s := stats(d)
	var or, and uint64 = 0, ^uint64(0) // over every sample, from the bit counts
	for i := range 64 {
		if s.BitCount[i] > 0 {
			or |= 1 << i
		}
		if s.BitCount[i] < n {
			and &^= 1 << i
		}
	}
	r.Min, r.Max, r.Step = s.Min, s.Max, s.Step
	if or != 0 {
		r.Alignment = 1 << bits.TrailingZeros64(or)
	}
	r.VaryingMask = or &^ and
	r.VaryingBits = bits.OnesCount64(r.VaryingMask)
	r.QualityBits = r.VaryingBits
	nf := float64(n)
	for i := range 64 {
		p := float64(s.BitCount[i]) / nf
		if i < BitFreqBits {
			r.BitFreq[i] = p
		}
		if r.VaryingMask&(1<<i) != 0 && WeakBit(p) {
			r.QualityBits-- // paxtest's "weak" bit
		}
	}
	r.Collisions = int(s.S2 / 2)
	for _, e := range Estimators() {
		x := e.Estimate(s)
		x.Name, x.Kind = e.Name, e.Kind
		s.prior = append(s.prior, x)
	}
	r.Estimates = s.prior
	r.ChiSquare, r.ChiSquareDF, r.ChiSquareP = chiSquareUniform(d, s.Min, s.Step, s.Span)
	r.Histogram = histogram(d, s.Min, s.Max)
	effective(&r)
	return r
}

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// inf reads -1 as infinity (an interval's open end, as run files write it).
func inf(x float64) float64 {
	if x < 0 {
		return math.Inf(1)
	}
	return x
}

// upperBounds are min(range, bit-entropy sum) and, for interval ends, the
// smaller of the two bounds' upper ends (what n samples may not have
// seen), from a region's estimates.
func upperBounds(es []runfile.Estimate) (u, uHi float64, rule runfile.Rule) {
	rg, bs := find(es, "range"), find(es, "bitsum")
	u, rule = rg.Bits, runfile.RuleRange
	if bs.Bits < u {
		u, rule = bs.Bits, runfile.RuleBitSum
	}
	return u, math.Min(inf(rg.Hi), inf(bs.Hi)), rule
}

// collisionInterval is the collision entropy's interval, capped by the
// upper bounds: [lo2, hi2] with hi2 finite.
func collisionInterval(es []runfile.Estimate) (lo2, hi2 float64) {
	u, uHi, _ := upperBounds(es)
	c := find(es, "collision")
	lo2, hi2 = c.Lo, c.Hi
	if hi2 < 0 || hi2 > uHi {
		hi2 = uHi
	}
	return math.Min(lo2, math.Min(hi2, u)), hi2
}

func find(es []runfile.Estimate, name string) runfile.Estimate {
	for _, e := range es {
		if e.Name == name {
			return e
		}
	}
	return runfile.Estimate{Name: name, Bits: -1, Hi: -1}
}

// effective picks the figure a security reader wants, names the entropy it
// estimates, and gives its 95% interval, from the estimates. The order:
//
//  1. min: when the most common value is provably more likely than 2^-H2
//     (the min-entropy's upper end, simultaneous over all values, is below
//     H2's lower end), the attacker's best guess is the figure:
//     min-entropy.
//  2. birthday: with minCollisions or more equal pairs, or when fewer pairs
//     already show fewer bits than the upper bounds, the collision
//     entropy H2, capped by min(range, bit sum).
//  3. range / bitsum: too few collisions to estimate H2, and the samples do
//     not contradict the upper bound min(range, bit sum): the figure is
//     that bound, and the interval says what the samples prove (H2 above
//     its lower end).
func effective(r *runfile.Region) {
	if r.Distinct == 1 {
		r.Rule = runfile.RuleConstant
		r.Effective, r.EffectiveLo, r.EffectiveHi = 0, 0, 0
		return
	}
	es := r.Estimates
	u, _, boundRule := upperBounds(es)
	lo2, hi2 := collisionInterval(es)
	mn, c := find(es, "min"), find(es, "collision")
	switch {
	case mn.Hi < lo2:
		r.Rule, r.Entropy = runfile.RuleMin, runfile.EntropyMin
		r.Effective, r.EffectiveLo, r.EffectiveHi = mn.Bits, mn.Lo, mn.Hi
	case r.Collisions >= minCollisions || (r.Collisions > 0 && c.Hi >= 0 && c.Hi < u):
		r.Rule, r.Entropy = runfile.RuleBirthday, runfile.EntropyCollision
		r.Effective, r.EffectiveLo, r.EffectiveHi = math.Min(c.Bits, u), lo2, hi2
	default:
		r.Rule, r.Entropy = boundRule, runfile.EntropyUpperBound
		r.Effective, r.EffectiveLo, r.EffectiveHi = u, lo2, hi2
	}
	r.Effective = math.Max(r.EffectiveLo, math.Min(r.Effective, r.EffectiveHi))
}

// IntervalFrom names the estimator whose interval a rule gives the
// effective figure: the min-entropy's for runfile.RuleMin, the collision
// entropy's (capped by the upper bounds) for the others, the upper-bound
// rules included.
func IntervalFrom(rule runfile.Rule) string {
	if rule == runfile.RuleMin {
		return "min"
	}
	return "collision"
}

// RuleWords is the sentence for a region's rule, rendered from its fields
// (Region.Rule and the estimates); for a run file from before the rule was
// a field, from what it recorded.
func RuleWords(r runfile.Region) string {
	iv := fmt.Sprintf("95%% interval [%.2f, %.2f]", r.EffectiveLo, r.EffectiveHi)
	es := r.Estimates
	rg, bs, mn := find(es, "range"), find(es, "bitsum"), find(es, "min")
	switch r.Rule {
	case "":
		return legacyWords(r)
	case runfile.RuleAbsent:
		return "absent in every sample"
	case runfile.RuleConstant:
		return "constant: one value in every sample"
	case runfile.RuleMin:
		return fmt.Sprintf("min-entropy: the most common value is seen in %.1f%% of samples, provably more often than the collision entropy allows, so an attacker's best guess succeeds with probability 2^-%.2f; %s (plug-in, which is biased low)",
			100*math.Exp2(-mn.Bits), mn.Bits, iv)
	case runfile.RuleBirthday:
		return fmt.Sprintf("collision (Renyi-2) entropy from %d equal pairs among %d samples: two spawns share a base with probability 2^-%.2f; %s; at most min(range %.2f, bit-entropy sum %.2f)",
			r.Collisions, r.Present, r.Effective, iv, rg.Bits, bs.Bits)
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

// legacyWords says how the effective figure of a run file from before
// rules and intervals were recorded came about, from its figures.
func legacyWords(r runfile.Region) string {
	es := r.Estimates
	c, rg, bs := find(es, "collision"), find(es, "range"), find(es, "bitsum")
	switch {
	case r.Present == 0:
		return "absent in every sample"
	case r.Distinct <= 1:
		return "constant: one value in every sample"
	case r.Collisions > 0 && math.Abs(r.Effective-c.Bits) < 1e-9:
		return fmt.Sprintf("birthday estimate from %d equal pairs among %d samples: collision (Renyi-2) entropy; no interval (the run file predates them)",
			r.Collisions, r.Present)
	}
	chi := ""
	if r.ChiSquareDF > 0 {
		chi = fmt.Sprintf("; uniformity test over the range p=%.2g", r.ChiSquareP)
	}
	return fmt.Sprintf("min(range %.2f, bit-entropy sum %.2f): %d equal pairs, too few for a birthday estimate; an upper bound, no interval (the run file predates them)%s",
		rg.Bits, bs.Bits, r.Collisions, chi)
}

// EntropyWords names an entropy kind.
func EntropyWords(kind runfile.EntropyKind) string {
	switch kind {
	case runfile.EntropyShannon:
		return "Shannon entropy"
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
