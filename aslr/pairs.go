package aslr

import (
	"fmt"
	"math"
	"math/bits"

	"github.com/vbench-dev/vbench/runfile"
)

// pairCap bounds the distinct differences remembered per pair of regions:
// independent regions have about as many distinct differences as samples,
// and 28 pairs x 100,000 samples would not keep memory flat. Past the cap
// only min, max and the varying bits of the difference are tracked.
const pairCap = 4096

// diffBias maps a signed difference to an unsigned key that keeps order, so
// the region estimators (min, max, range) apply to differences.
const diffBias = 1 << 63

type pairAcc struct {
	a, b     int
	n        int
	counts   map[uint64]int // biased difference -> count, until overflow
	overflow bool
	lo, hi   int64
	first    int64
	varying  uint64 // OR of (d XOR first)
}

func newPairs() []*pairAcc {
	var ps []*pairAcc
	for a := 0; a < nRegions; a++ {
		for b := a + 1; b < nRegions; b++ {
			ps = append(ps, &pairAcc{a: a, b: b, counts: map[uint64]int{}, lo: math.MaxInt64, hi: math.MinInt64})
		}
	}
	return ps
}

func (p *pairAcc) add(s *sample) {
	if !s.present[p.a] || !s.present[p.b] {
		return
	}
	d := int64(s.base[p.b] - s.base[p.a])
	if p.n == 0 {
		p.first = d
	}
	p.n++
	p.lo, p.hi = min(p.lo, d), max(p.hi, d)
	p.varying |= uint64(d ^ p.first)
	if p.overflow {
		return
	}
	p.counts[uint64(d)+diffBias]++
	if len(p.counts) > pairCap {
		p.overflow = true
		p.counts = nil
	}
}

// result turns the accumulator into a runfile.Pair with a conclusion.
// regs are the finished regions, for the sentences.
func (p *pairAcc) result(regs []runfile.Region) runfile.Pair {
	A, B := regionNames[p.a], regionNames[p.b]
	r := runfile.Pair{A: A, B: B}
	if p.n == 0 {
		r.Conclusion = fmt.Sprintf("%s and %s never present together", A, B)
		return r
	}
	ra, rb := regs[p.a], regs[p.b]
	r.MinDiff, r.MaxDiff = p.lo, p.hi
	if p.overflow {
		r.DistinctDiffs = pairCap + 1 // "more than pairCap"
		step := uint64(1)
		if p.varying != 0 {
			step = 1 << bits.TrailingZeros64(p.varying)
		}
		r.DiffBits = math.Log2(float64(uint64(p.hi-p.lo)/step) + 1)
		r.Conclusion = fmt.Sprintf("%s and %s do not move together: over %d distinct differences, %.1f bits of range (%s to %s); no common offset to exploit (not a test of independence)",
			A, B, pairCap, r.DiffBits, signedHex(p.lo), signedHex(p.hi))
		return r
	}
	r.DistinctDiffs = len(p.counts)
	d := estimate(A+"-"+B, p.counts, p.n)
	r.DiffBits = d.Effective
	if r.DistinctDiffs == 1 {
		r.Offset = p.lo
		switch {
		case ra.Distinct == 1 && rb.Distinct == 1:
			r.Conclusion = fmt.Sprintf("%s and %s are both fixed; %s = %s %s", A, B, B, A, offsetWords(p.lo))
		default:
			r.Conclusion = fmt.Sprintf("%s moves with %s: %s = %s %s in every sample, so it adds no entropy beyond %s's %.1f bits",
				B, A, B, A, offsetWords(p.lo), A, ra.Effective)
		}
		return r
	}
	r.Conclusion = fmt.Sprintf("%s - %s takes %d distinct values, %s to %s: %.1f bits of its own (%s)",
		B, A, r.DistinctDiffs, signedHex(p.lo), signedHex(p.hi), r.DiffBits, d.EffectiveRule)
	return r
}

// offsetWords is "+ 0x2000 (8 KiB)".
func offsetWords(d int64) string {
	sign, m := "+", uint64(d)
	if d < 0 {
		sign, m = "-", uint64(-d)
	}
	return fmt.Sprintf("%s %#x (%s)", sign, m, byteSize(m))
}

func signedHex(d int64) string {
	if d < 0 {
		return fmt.Sprintf("-%#x", uint64(-d))
	}
	return fmt.Sprintf("%#x", d)
}

func byteSize(m uint64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	f := float64(m)
	i := 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	if f == math.Trunc(f) {
		return fmt.Sprintf("%.0f %s", f, units[i])
	}
	return fmt.Sprintf("%.1f %s", f, units[i])
}
