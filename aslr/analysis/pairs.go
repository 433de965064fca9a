package analysis

import (
	"fmt"
	"math"

	"github.com/vbench-dev/vbench/runfile"
)

// diffBias maps a signed difference to an unsigned key that keeps order, so
// the region estimators (min, max, range) apply to differences.
const diffBias = 1 << 63

// pairOf relates regions a and b (indexes into Regions) from the sorted
// histogram d of their differences b - a + diffBias: every difference is
// kept (a sorted column, no cap), so a relation is found at any sample
// count.
func pairOf(a, b int, d dist, regs []runfile.Region) runfile.Pair {
	A, B := Regions[a], Regions[b]
	r := runfile.Pair{A: A, B: B}
	if d.n == 0 {
		return r
	}
	e := estimate(B+"-"+A, d)
	r.DistinctDiffs = e.Distinct
	r.MinDiff, r.MaxDiff = int64(e.Min-diffBias), int64(e.Max-diffBias)
	r.DiffBits = e.Effective
	if e.Distinct == 1 {
		r.Offset = r.MinDiff
	}
	// H(B|A) = H(B-A | A) <= H(B-A), and <= H(B); equal to H(B-A) when
	// B-A is independent of A (an offset added to A), to H(B) when B is
	// independent of A.
	rb := regionOf(regs, B)
	r.OwnBits, r.OwnLo, r.OwnHi, r.OwnFrom = e.Effective, e.EffectiveLo, e.EffectiveHi, "difference"
	if rb != nil && rb.Effective < e.Effective {
		r.OwnBits, r.OwnLo, r.OwnHi, r.OwnFrom = rb.Effective, rb.EffectiveLo, rb.EffectiveHi, "b"
	}
	if ra := regionOf(regs, A); ra != nil && rb != nil && ra.Distinct > 1 && rb.Distinct > 1 {
		r.Related = e.Distinct == 1 || e.EffectiveHi < math.Min(ra.EffectiveLo, rb.EffectiveLo)
	}
	return r
}

func regionOf(regs []runfile.Region, name string) *runfile.Region {
	for i := range regs {
		if regs[i].Name == name {
			return &regs[i]
		}
	}
	return nil
}

// PairWords says what a pair means, from its fields and the regions'.
func PairWords(p runfile.Pair, regs []runfile.Region) string {
	A, B := p.A, p.B
	ra, rb := regionOf(regs, A), regionOf(regs, B)
	switch {
	case p.DistinctDiffs == 0:
		return fmt.Sprintf("%s and %s never present together", A, B)
	case p.DistinctDiffs == 1 && ra != nil && rb != nil && ra.Distinct == 1 && rb.Distinct == 1:
		return fmt.Sprintf("%s and %s are both fixed; %s = %s %s", A, B, B, A, offsetWords(p.Offset))
	case p.DistinctDiffs == 1:
		bits := 0.0
		if ra != nil {
			bits = ra.Effective
		}
		return fmt.Sprintf("%s moves with %s: %s = %s %s in every sample, so it adds no entropy beyond %s's %.1f bits",
			B, A, B, A, offsetWords(p.Offset), A, bits)
	case p.OwnFrom == "":
		return fmt.Sprintf("%s - %s takes %d distinct values, %s to %s: %.1f bits of difference",
			B, A, p.DistinctDiffs, signedHex(p.MinDiff), signedHex(p.MaxDiff), p.DiffBits)
	case p.Related:
		return fmt.Sprintf("%s follows %s: %s - %s takes %d distinct values, %s to %s, so %s has %.1f bits of its own given %s (95%% [%.1f, %.1f]), fewer than either region alone",
			B, A, B, A, p.DistinctDiffs, signedHex(p.MinDiff), signedHex(p.MaxDiff), B, p.OwnBits, A, p.OwnLo, p.OwnHi)
	}
	return fmt.Sprintf("%s and %s do not move together: knowing %s leaves %s %.1f bits (95%% [%.1f, %.1f], from %s); %s - %s spans %s to %s",
		A, B, A, B, p.OwnBits, p.OwnLo, p.OwnHi, ownFromWords(p), B, A, signedHex(p.MinDiff), signedHex(p.MaxDiff))
}

func ownFromWords(p runfile.Pair) string {
	if p.OwnFrom == "b" {
		return p.B + "'s own entropy"
	}
	return "the entropy of " + p.B + " - " + p.A
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
