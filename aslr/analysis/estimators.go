package analysis

import (
	"fmt"
	"math"

	"github.com/vbench-dev/vbench/runfile"
)

// The estimators vbench has had from the start, in table order. What
// each figure estimates, for a distribution p over addresses:
//   - bitsum: sum of the binary entropies of the address bits; an upper
//     bound of the Shannon entropy (subadditivity).
//   - range: log2 of the lattice points between the smallest and the
//     largest value, the Hartley entropy (log2 of the support) when every
//     point can occur; an upper bound of every entropy below.
//   - collision (Renyi order 2) H2 = -log2 sum p^2: the chance that two
//     spawns share a base is 2^-H2. Equal pairs / all pairs is an unbiased
//     estimate of sum p^2 at any sample size (the birthday estimate).
//   - shannon: H = -sum p log2 p, plug-in: biased low, and capped at
//     log2(samples), so only useful when well sampled (chaoshen.go
//     corrects it).
//   - min: min-entropy Hmin = -log2 max p: the chance that an attacker's
//     best single guess is right is 2^-Hmin. Hmin <= H2 <= H <= range, and
//     H2 <= 2 Hmin.
func init() {
	Register(Estimator{Name: "bitsum", Kind: runfile.EntropyUpperBound, Order: 10, Narrow: 2, Label: "bit-entropy sum",
		Head: "bit-H sum", Legend: "bit-H sum: the sum of per-bit entropies", Estimate: bitSum, Cell: twoDigits})
	Register(Estimator{Name: "range", Kind: runfile.EntropyUpperBound, Order: 20, Narrow: 1, Label: "range",
		Head: "range", Legend: "range: log2(range/alignment + 1)", Estimate: rangeBits, Cell: twoDigits})
	Register(Estimator{Name: "collision", Kind: runfile.EntropyCollision, Order: 30, Label: "birthday",
		Head:   "birthday [95%] (pairs)",
		Legend: "birthday: log2(pairs of samples/equal pairs), the collision entropy, with the number of equal pairs ('> x' with none)",
		Estimate: func(s *Stats) runfile.Estimate {
			b, lo, hi := collisionBits(s.N, s.S2, s.S3)
			return runfile.Estimate{Bits: b, Lo: lo, Hi: hi}
		},
		Cell: birthdayCell})
	Register(Estimator{Name: "shannon", Kind: runfile.EntropyShannon, Order: 40, Label: "Shannon",
		Head: "Shannon (ceil)", Legend: "Shannon is the plug-in, capped at (ceil) = log2 N", Estimate: plugInShannon,
		Cell: func(e runfile.Estimate, g *runfile.Region) string {
			return fmt.Sprintf("%.2f (%.1f)", e.Bits, math.Log2(float64(g.Present)))
		}})
	Register(Estimator{Name: "min", Kind: runfile.EntropyMin, Order: 50, Label: "min-entropy",
		Head: "min-H [95%]", Legend: "min-H: plug-in min-entropy (biased low), with bounds", Estimate: minEntropy,
		Cell: func(e runfile.Estimate, g *runfile.Region) string {
			if g.Rule == "" || g.Distinct <= 1 {
				return fmt.Sprintf("%.2f", e.Bits)
			}
			return fmt.Sprintf("%.2f [%.1f, %.1f]", e.Bits, e.Lo, e.Hi)
		}})
}

func twoDigits(e runfile.Estimate, _ *runfile.Region) string { return fmt.Sprintf("%.2f", e.Bits) }

// birthdayCell is the collision estimate with its interval and the number
// of equal pairs it comes from, "17.9 [17.5, 18.4] (50)"; with no equal
// pair, the lower bound alone: "> 21.7 (0)".
func birthdayCell(e runfile.Estimate, g *runfile.Region) string {
	if e.Bits < 0 || g.Collisions == 0 {
		return fmt.Sprintf("> %.1f (%d)", e.Lo, g.Collisions)
	}
	hi := "inf"
	if e.Hi >= 0 {
		hi = fmt.Sprintf("%.1f", e.Hi)
	}
	return fmt.Sprintf("%.1f [%.1f, %s] (%d)", e.Bits, e.Lo, hi, g.Collisions)
}

// bitSum is the sum of the bits' plug-in binary entropies. Its upper end
// adds what the plug-ins may hide: their low bias, over k varying bits
// chi2(k)/(2 n ln 2) at 97.5%, and their first-order spread where a bit
// is skewed (delta method: a bit set with probability p has plug-in
// standard deviation sqrt(p(1-p)/n) |log2((1-p)/p)|), summed over the bits
// as standard deviations (not variances: the bits are not independent,
// and the deviation of a sum is at most the sum of the deviations), times
// 1.96. A bit set in half the samples has no first-order spread, so on
// uniform ASLR bits only the bias term remains. No lower end is claimed.
func bitSum(s *Stats) runfile.Estimate {
	nf := float64(s.N)
	sum, sd := 0.0, 0.0
	for i := range 64 {
		p := float64(s.BitCount[i]) / nf
		sum += binaryEntropy(p)
		if p > 0 && p < 1 {
			sd += math.Sqrt(p*(1-p)/nf) * math.Abs(math.Log2((1-p)/p))
		}
	}
	hi := sum + 1.96*sd
	if k := float64(s.VaryingBits); k > 0 {
		hi += chiSquareQuantile(1-(1-level)/2, k) / (2 * nf * math.Ln2)
	}
	return runfile.Estimate{Bits: sum, Lo: 0, Hi: hi}
}

// rangeBits is log2 of the lattice points spanned. The true span is at
// least the one seen; its upper end widens it by the two unseen ends (on
// a uniform lattice together a fraction ~ Gamma(2)/n of it; 5.57 is
// Gamma(2)'s 97.5% point); with 6 samples or fewer no upper end.
func rangeBits(s *Stats) runfile.Estimate {
	b := math.Log2(float64(s.Span) + 1)
	nf := float64(s.N)
	hi := -1.0
	if nf > 6 {
		hi = b + math.Log2(nf/(nf-5.57))
	}
	return runfile.Estimate{Bits: b, Lo: b, Hi: hi}
}

// plugInShannon is -sum (c/n) log2 (c/n), summed over the profile (one
// logarithm per distinct count, not per value); it claims no interval.
func plugInShannon(s *Stats) runfile.Estimate {
	nf := float64(s.N)
	h := 0.0
	s.Profile(func(k, values int) {
		p := float64(k) / nf
		h -= float64(values) * p * math.Log2(p)
	})
	return runfile.Estimate{Bits: math.Max(h, 0), Lo: 0, Hi: -1}
}

// minEntropy is the plug-in -log2(top count / n), biased low when many
// values are about equally likely, and 95% bounds of the true
// min-entropy: the Clopper-Pearson bounds of the top value's probability,
// simultaneous (Bonferroni) over every value the lattice holds, seen or
// not (the top value is chosen after looking, among all of them), within
// H2/2 <= Hmin <= H2 (the collision interval, capped by the upper bounds).
func minEntropy(s *Stats) runfile.Estimate {
	nf := float64(s.N)
	b := -math.Log2(float64(s.MaxCount) / nf)
	if b == 0 {
		b = 0 // not -0
	}
	if len(s.Vals) == 1 {
		return runfile.Estimate{Bits: 0, Lo: 0, Hi: 0}
	}
	lo2, hi2 := collisionInterval(s.prior)
	rg := s.Prior("range")
	support := math.Max(float64(len(s.Vals)), math.Exp2(math.Min(rg.Bits, 64)))
	pLo, pHi := clopperPearson(s.MaxCount, s.N, (1-level)/2/support)
	hi := math.Min(-math.Log2(pLo), hi2)   // Hmin <= H2
	lo := math.Max(-math.Log2(pHi), lo2/2) // H2 <= 2 Hmin
	return runfile.Estimate{Bits: b, Lo: math.Max(0, math.Min(lo, hi)), Hi: hi}
}
