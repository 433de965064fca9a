package aslr

import (
	"fmt"
	"math"
	"math/bits"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/vbench-dev/vbench/runfile"
)

// The estimators work on a histogram of the values seen (value -> count),
// which is the only per-region state the sampler keeps: memory is
// O(distinct values), at most O(samples), and each estimator is computed
// once at the end in O(distinct). At 100,000 samples of 9 regions that is
// under a million map entries (tens of MB), whatever the address width.

// Rules for Region.Effective, in the order they are tried.
const (
	// wellSampledFactor: with samples >= 10 x distinct values every value is
	// seen ~10 times and the plug-in Shannon entropy is nearly unbiased
	// (bias about (distinct-1)/(2N ln 2) bits, under 0.08 bits).
	wellSampledFactor = 10
	// minCollisions: the birthday estimate is used from this many colliding
	// pairs on (Poisson relative error about 1/sqrt(20) = 22%, i.e. +-0.3
	// bits).
	minCollisions = 20
	// uniformP: the chi-square test rejects uniformity below this p-value.
	uniformP = 0.001
	// histBins is the length of Region.Histogram.
	histBins = 64
	// bitFreqBits is the length of Region.BitFreq (user-space x86-64
	// addresses have 47 bits, 56 with 5-level paging).
	bitFreqBits = 48
)

// estimate computes every estimator of one region from its value histogram.
// n is the number of samples the region was present in.
func estimate(name string, counts map[uint64]int, n int) runfile.Region {
	r := runfile.Region{Name: name, Present: n, Distinct: len(counts), BitFreq: make([]float64, bitFreqBits)}
	if n == 0 || len(counts) == 0 {
		r.EffectiveRule = "absent in every sample"
		r.CollisionBits, r.CollisionHi = -1, -1
		return r
	}
	var (
		or, and    uint64 = 0, ^uint64(0)
		lo, hi     uint64 = ^uint64(0), 0
		bitCount   [64]int
		maxCount   int
		collisions float64 // sum of c(c-1)/2: equal pairs
		shannon    float64
		nf         = float64(n)
	)
	for v, c := range counts {
		or |= v
		and &= v
		lo = min(lo, v)
		hi = max(hi, v)
		maxCount = max(maxCount, c)
		collisions += float64(c) * float64(c-1) / 2
		p := float64(c) / nf
		shannon -= p * math.Log2(p)
		for w := v; w != 0; w &= w - 1 {
			bitCount[bits.TrailingZeros64(w)] += c
		}
	}
	r.Min, r.Max = lo, hi
	if or != 0 {
		r.Alignment = 1 << bits.TrailingZeros64(or)
	}
	r.VaryingMask = or &^ and
	r.VaryingBits = bits.OnesCount64(r.VaryingMask)
	r.QualityBits = r.VaryingBits
	for i := range 64 {
		p := float64(bitCount[i]) / nf
		if i < bitFreqBits {
			r.BitFreq[i] = p
		}
		r.BitEntropySum += binaryEntropy(p)
		if r.VaryingMask&(1<<i) != 0 && (p <= 0.35 || p >= 0.65) {
			r.QualityBits-- // paxtest's "weak" bit
		}
	}
	// step: the spacing of the values, the lowest varying bit. It equals
	// Alignment unless the low aligned bits are constant but not zero.
	step := uint64(1)
	if r.VaryingMask != 0 {
		step = 1 << bits.TrailingZeros64(r.VaryingMask)
	}
	span := (hi - lo) / step // lattice points - 1
	r.RangeBits = math.Log2(float64(span) + 1)

	pairs := nf * (nf - 1) / 2
	r.Collisions = int(collisions)
	r.CollisionBits, r.CollisionLo, r.CollisionHi = collisionBits(collisions, pairs)

	r.Shannon = shannon
	r.ShannonCeiling = math.Log2(nf)
	r.MinEntropy = -math.Log2(float64(maxCount) / nf)
	if r.MinEntropy == 0 {
		r.MinEntropy = 0 // not -0
	}

	r.ChiSquare, r.ChiSquareDF, r.ChiSquareP = chiSquareUniform(counts, n, lo, step, span)
	r.Histogram = histogram(counts, lo, hi)
	r.Effective, r.EffectiveRule = effective(r)
	return r
}

// binaryEntropy is H(p) in bits.
func binaryEntropy(p float64) float64 {
	if p <= 0 || p >= 1 {
		return 0
	}
	return -p*math.Log2(p) - (1-p)*math.Log2(1-p)
}

// collisionBits is the birthday estimate: among P pairs of samples drawn
// uniformly from M values, C = P/M pairs are equal on average, so
// log2(P/C) estimates log2(M); for a non-uniform distribution it is the
// collision (Renyi order-2) entropy, a lower bound of the Shannon entropy.
// The interval treats C as Poisson and uses the exact 95% interval of its
// mean, (chi2(0.025; 2C)/2, chi2(0.975; 2C+2)/2). With C = 0 the estimate
// and the upper bound are infinite, written as -1.
func collisionBits(c, pairs float64) (est, lo, hi float64) {
	if pairs <= 0 {
		return -1, 0, -1
	}
	muHi := chiSquareQuantile(0.975, 2*c+2) / 2
	lo = max(0, math.Log2(pairs/muHi))
	if c == 0 {
		return -1, lo, -1
	}
	muLo := chiSquareQuantile(0.025, 2*c) / 2
	est = math.Log2(pairs / c)
	hi = math.Log2(pairs / muLo)
	return max(est, 0), lo, max(hi, 0)
}

// chiSquareUniform tests the values against the uniform distribution over
// the lattice lo, lo+step, ..., lo+span*step: the lattice is cut into k
// bins of (nearly) equal numbers of points, k = min(span+1, n/10, 4096) so
// that a bin expects 10 samples on average and at least 5 (widths differ by
// at most one point, so the narrowest holds at least half the mean), and
// the expected count of a bin is proportional to its points. Returns the statistic, its degrees of
// freedom (k-1) and the p-value (1 when there is a single value).
func chiSquareUniform(counts map[uint64]int, n int, lo, step, span uint64) (x2 float64, df int, p float64) {
	points := span + 1
	if span == ^uint64(0) || points < 2 {
		return 0, 0, 1
	}
	k := min(points, uint64(n/10), 4096)
	if k < 2 {
		return 0, 0, 1 // too few samples to test
	}
	obs := make([]float64, k)
	for v, c := range counts {
		idx := (v - lo) / step
		h, l := bits.Mul64(idx, k)
		j, _ := bits.Div64(h, l, points) // floor(idx*k/points) < k
		obs[j] += float64(c)
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
	nf := float64(n)
	for j := uint64(0); j < k; j++ {
		width := float64(first(j+1) - first(j))
		e := nf * width / float64(points)
		d := obs[j] - e
		x2 += d * d / e
	}
	df = int(k - 1)
	return x2, df, chiSquareSurvival(x2, float64(df))
}

// histogram counts the values in histBins equal bins over [lo, hi].
func histogram(counts map[uint64]int, lo, hi uint64) []int {
	if hi == lo {
		n := 0
		for _, c := range counts {
			n += c
		}
		return []int{n}
	}
	h := make([]int, histBins)
	width := hi - lo // bins of (width+1)/histBins values; computed in 128 bits
	for v, c := range counts {
		hh, l := bits.Mul64(v-lo, histBins)
		j, _ := bits.Div64(hh, l, width)
		h[min(j, histBins-1)] += c
	}
	return h
}

// effective picks the figure a reader wants and says why.
func effective(r runfile.Region) (float64, string) {
	switch {
	case r.Present == 0:
		return 0, "absent in every sample"
	case r.Distinct == 1:
		return 0, "constant: one value in every sample"
	case r.Present >= wellSampledFactor*r.Distinct:
		return r.Shannon, fmt.Sprintf("plug-in Shannon: well sampled (%d samples >= %dx %d distinct)", r.Present, wellSampledFactor, r.Distinct)
	case r.Collisions >= minCollisions:
		return r.CollisionBits, fmt.Sprintf("birthday estimate from %d collisions (plug-in Shannon is capped at log2 N = %.1f)", r.Collisions, r.ShannonCeiling)
	}
	upper := min(r.RangeBits, r.BitEntropySum)
	if r.ChiSquareDF > 0 && r.ChiSquareP < uniformP {
		return upper, fmt.Sprintf("upper bound min(range, bit-entropy sum): too few collisions (%d), and chi-square rejects uniformity (p=%.2g); birthday lower bound %.1f bits",
			r.Collisions, r.ChiSquareP, r.CollisionLo)
	}
	if r.ChiSquareDF == 0 {
		// n/10 < 2 bins: no test was made, so nothing is known about uniformity.
		return upper, fmt.Sprintf("upper bound min(range, bit-entropy sum): too few collisions (%d) for a birthday estimate and too few samples for a uniformity test", r.Collisions)
	}
	return upper, fmt.Sprintf("min(range, bit-entropy sum): too few collisions (%d) for a birthday estimate; chi-square does not reject uniformity over the range (p=%.2g)", r.Collisions, r.ChiSquareP)
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
