package analysis

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/vbench-dev/vbench/runfile"
)

// A synthetic distribution with known entropies: draw gives one page
// index; the truths are Shannon H, collision H2 and min-entropy Hmin.
type truth struct {
	name         string
	draw         func(rng *rand.Rand) uint64
	h, h2, hmin  float64
	lattice      bool // every lattice point between min and max can occur: range bits = Hartley = H
	wantRule     runfile.Rule
	effTolerance float64 // |effective - named entropy| when it is an estimate
}

// uniformOn: 2^k values, spaced every `every` pages.
func uniformOn(k int, every uint64) func(*rand.Rand) uint64 {
	return func(rng *rand.Rand) uint64 { return rng.Uint64N(1<<k) * every }
}

func truths() []truth {
	heavy := func(rng *rand.Rand) uint64 { // p=1/2 on one value, the rest uniform over 2^16 others
		if rng.IntN(2) == 0 {
			return 0
		}
		return 1 + rng.Uint64N(1<<16)
	}
	hHeavy := 1 + 0.5*16
	h2Heavy := -math.Log2(0.25 + 0.25/65536)
	// 2^20 distinct pages scattered over 2^24: a fixed random subset.
	srng := rand.New(rand.NewPCG(99, 100))
	scattered := make([]uint64, 1<<20)
	for i := range scattered {
		scattered[i] = srng.Uint64N(1 << 24)
	}
	// (a few of the 2^20 coincide: about 2^20 * 2^20 / 2^25 = 32768 pairs,
	// which changes H by < 0.05 bits; the truth below counts them.)
	seen := map[uint64]int{}
	for _, v := range scattered {
		seen[v]++
	}
	var hs, h2s, pmax float64
	for _, c := range seen {
		p := float64(c) / float64(len(scattered))
		hs -= p * math.Log2(p)
		h2s += p * p
		pmax = max(pmax, p)
	}
	return []truth{
		{"uniform 2^8", uniformOn(8, 1), 8, 8, 8, true, "", 0.1},
		{"uniform 2^16", uniformOn(16, 1), 16, 16, 16, true, "", 0.3},
		{"uniform 2^28", uniformOn(28, 1), 28, 28, 28, true, "", 0.5}, // 18 equal pairs at 100,000
		{"p=1/2 on one value", heavy, hHeavy, h2Heavy, 1, false, runfile.RuleMin, 0.05},
		{"even pages, 2^16", uniformOn(16, 2), 16, 16, 16, true, "", 0.3},
		{"every 3rd page, 2^20", uniformOn(20, 3), 20, 20, 20, true, "", 0.5},
		{"2^20 scattered over 2^24", func(rng *rand.Rand) uint64 { return scattered[rng.IntN(len(scattered))] },
			hs, -math.Log2(h2s), -math.Log2(pmax), false, runfile.RuleBirthday, 0.6},
	}
}

func drawRegion(rng *rand.Rand, n int, f func(*rand.Rand) uint64) runfile.Region {
	vals := make([]uint64, n)
	for i := range vals {
		vals[i] = 0x7f0000000000 + f(rng)*page
	}
	return estimate("x", distOf(vals, nil))
}

// named is the truth of the entropy a region's figure names.
func (c truth) named(r runfile.Region) float64 {
	switch r.Entropy {
	case runfile.EntropyMin:
		return c.hmin
	case runfile.EntropyCollision:
		return c.h2
	}
	return c.h2 // an upper bound: its interval is the collision entropy's
}

// TestSyntheticTruth checks every estimator against distributions with
// known entropy, at 5,000 and 100,000 samples (seeded: deterministic).
func TestSyntheticTruth(t *testing.T) {
	ns := []int{5000, 100000}
	if testing.Short() {
		ns = ns[:1]
	}
	var table strings.Builder
	fmt.Fprintf(&table, "%-26s %7s %6s %6s %6s | %6s %6s %6s %7s %6s %6s | %-8s %6s [%6s, %6s]\n",
		"case", "N", "H", "H2", "Hmin", "range", "bitsum", "Shann", "H2 est", "Hmin", "minLo", "rule", "eff", "lo", "hi")
	for _, n := range ns {
		rng := rand.New(rand.NewPCG(uint64(n), 21))
		for _, c := range truths() {
			r := drawRegion(rng, n, c.draw)
			fmt.Fprintf(&table, "%-26s %7d %6.2f %6.2f %6.2f | %6.2f %6.2f %6.2f %7.2f %6.2f %6.2f | %-8s %6.2f [%6.2f, %6.2f]\n",
				c.name, n, c.h, c.h2, c.hmin, est(r, "range").Bits, est(r, "bitsum").Bits, est(r, "shannon").Bits, est(r, "collision").Bits, est(r, "min").Bits, est(r, "min").Lo,
				r.Rule, r.Effective, r.EffectiveLo, r.EffectiveHi)
			const slack = 0.01
			// The effective figure: inside its interval, under the bounds,
			// and the truth of the entropy it names inside the interval.
			u := math.Min(est(r, "range").Bits, est(r, "bitsum").Bits)
			if r.Effective < r.EffectiveLo-1e-9 || r.Effective > r.EffectiveHi+1e-9 || r.Effective > u+1e-9 {
				t.Errorf("%s N=%d: effective %.3f outside [%.3f, %.3f] or above min(range, bit sum) %.3f", c.name, n, r.Effective, r.EffectiveLo, r.EffectiveHi, u)
			}
			if want := c.named(r); want < r.EffectiveLo-slack || want > r.EffectiveHi+slack {
				t.Errorf("%s N=%d: truth %.3f of %s outside the interval [%.3f, %.3f] (rule %s)", c.name, n, want, r.Entropy, r.EffectiveLo, r.EffectiveHi, r.Rule)
			}
			if c.wantRule != "" && r.Rule != c.wantRule {
				t.Errorf("%s N=%d: rule %s, want %s", c.name, n, r.Rule, c.wantRule)
			}
			if r.Rule != runfile.RuleRange && r.Rule != runfile.RuleBitSum && math.Abs(r.Effective-c.named(r)) > c.effTolerance {
				t.Errorf("%s N=%d: effective %.3f, truth %.3f (%s), tolerance %.2f", c.name, n, r.Effective, c.named(r), r.Entropy, c.effTolerance)
			}
			// The upper bounds bound the truth; on a full lattice the
			// range is the truth.
			if est(r, "range").Bits < c.h-slack || est(r, "bitsum").Bits < c.h-0.05 {
				t.Errorf("%s N=%d: range %.3f or bit sum %.3f below the Shannon truth %.3f", c.name, n, est(r, "range").Bits, est(r, "bitsum").Bits, c.h)
			}
			if c.lattice && math.Abs(est(r, "range").Bits-c.h) > 0.01 {
				t.Errorf("%s N=%d: range %.3f, want %.2f on a full lattice", c.name, n, est(r, "range").Bits, c.h)
			}
			// Shannon: plug-in, within 0.05 bits when well sampled
			// (N >= 10 x distinct); never above its ceiling.
			if n >= 10*r.Distinct && c.lattice && math.Abs(est(r, "shannon").Bits-c.h) > 0.05 {
				t.Errorf("%s N=%d: Shannon %.3f, want %.3f", c.name, n, est(r, "shannon").Bits, c.h)
			}
			// Collision estimate: with 20+ equal pairs, its interval holds the truth.
			if r.Collisions >= minCollisions && !(est(r, "collision").Lo-slack <= c.h2 && c.h2 <= est(r, "collision").Hi+slack) {
				t.Errorf("%s N=%d: H2 %.3f outside the birthday interval [%.3f, %.3f]", c.name, n, c.h2, est(r, "collision").Lo, est(r, "collision").Hi)
			}
			// Min-entropy: the bounds hold the truth; the plug-in is low.
			if c.hmin < est(r, "min").Lo-slack || c.hmin > est(r, "min").Hi+slack || est(r, "min").Bits > c.hmin+0.1 {
				t.Errorf("%s N=%d: Hmin %.3f, plug-in %.3f, bounds [%.3f, %.3f]", c.name, n, c.hmin, est(r, "min").Bits, est(r, "min").Lo, est(r, "min").Hi)
			}
		}
	}
	t.Logf("synthetic cases (bits):\n%s", table.String())
}

// TestIntervalCoverage: over many seeded trials of non-uniform and
// uniform distributions, the truth falls inside the 95% collision interval
// and inside the effective figure's interval at least 90% of the time.
func TestIntervalCoverage(t *testing.T) {
	trials := 200
	if testing.Short() {
		trials = 60
	}
	tri := func(rng *rand.Rand) uint64 { return rng.Uint64N(1<<11) + rng.Uint64N(1<<11) } // triangular over 2^12
	var h2Tri float64
	for s := range uint64(1 << 12) {
		p := float64(min(s+1, (1<<12)-1-s)) / float64(1<<22)
		h2Tri += p * p
	}
	heavy := truths()[3]
	geo := func(rng *rand.Rand) uint64 { return uint64(math.Floor(math.Log(1-rng.Float64()) / math.Log(0.9))) }
	var h2Geo float64
	for i := range 2000 {
		p := 0.1 * math.Pow(0.9, float64(i))
		h2Geo += p * p
	}
	for _, c := range []struct {
		name string
		n    int
		draw func(*rand.Rand) uint64
		h2   float64
	}{
		{"uniform 2^14", 3000, uniformOn(14, 1), 14},
		{"triangular 2^12", 2000, tri, -math.Log2(h2Tri)},
		{"p=1/2 on one value", 2000, heavy.draw, heavy.h2},
		{"geometric(0.1)", 2000, geo, -math.Log2(h2Geo)},
	} {
		rng := rand.New(rand.NewPCG(31, uint64(c.n)))
		inBirthday, inEff := 0, 0
		for range trials {
			r := drawRegion(rng, c.n, c.draw)
			if est(r, "collision").Lo <= c.h2 && (est(r, "collision").Hi < 0 || c.h2 <= est(r, "collision").Hi) {
				inBirthday++
			}
			truth := c.h2
			if r.Entropy == runfile.EntropyMin {
				truth = -1 // checked below against the min-entropy
				switch c.name {
				case "p=1/2 on one value":
					truth = 1
				case "geometric(0.1)":
					truth = -math.Log2(0.1)
				}
			}
			if truth >= 0 && r.EffectiveLo <= truth && truth <= r.EffectiveHi {
				inEff++
			}
		}
		t.Logf("%-20s N=%d: truth inside the birthday interval %d/%d, inside the effective interval %d/%d", c.name, c.n, inBirthday, trials, inEff, trials)
		if float64(inBirthday) < 0.9*float64(trials) || float64(inEff) < 0.9*float64(trials) {
			t.Errorf("%s: coverage %d/%d (birthday), %d/%d (effective), want >= 90%%", c.name, inBirthday, trials, inEff, trials)
		}
	}
}

// Pairs with known relations: perfectly correlated, and B = A + one of 4
// offsets (2 bits of its own); and independent regions, where B's own
// bits are B's entropy, not the difference's (which is larger).
func TestSyntheticPairs(t *testing.T) {
	for _, n := range []int{1500, 20000} {
		rng := rand.New(rand.NewPCG(41, uint64(n)))
		agg := NewColumns(n, AllRegions)
		for range n {
			var s Sample
			a := 0x7f0000000000 + rng.Uint64N(1<<28)*page
			s.Set(Mmap, a)
			s.Set(Vdso, a-0x2000)                  // perfectly correlated
			s.Set(Vvar, a+rng.Uint64N(4)*page)     // offset by one of 4 values
			s.Set(Heap, a+rng.Uint64N(1<<18)*page) // heap = mmap + 18 bits, past any cap
			st := 0x7ffc00000000 + rng.Uint64N(1<<22)*page
			s.Set(Stack, st)
			s.Set(SP, st+rng.Uint64N(1<<8)*16) // sp = stack + 8 bits
			agg.Add(&s)
		}
		res := &runfile.ASLR{Samples: n}
		Analyze(agg, res)
		p := pairByName(res, "vdso", "mmap")
		if p == nil || p.DistinctDiffs != 1 || p.Offset != 0x2000 || p.OwnBits != 0 || !p.Related {
			t.Errorf("N=%d vdso/mmap: %+v", n, p)
		}
		p = pairByName(res, "vvar", "mmap")
		if p == nil || p.DistinctDiffs != 4 || math.Abs(p.OwnBits-2) > 0.05 || !(p.OwnLo <= 2 && 2 <= p.OwnHi) || !p.Related {
			t.Errorf("N=%d vvar/mmap: %+v", n, p)
		}
		p = pairByName(res, "mmap", "heap")
		if p == nil || !p.Related || !(p.OwnLo-0.01 <= 18 && 18 <= p.OwnHi+0.01) || !strings.Contains(PairWords(*p, res.Regions), "follows") {
			t.Errorf("N=%d heap/mmap: %+v", n, p)
		}
		p = pairByName(res, "vdso", "sp")
		sp := regionByName(res, "sp")
		if p == nil || p.Related || p.OwnFrom != "b" || p.OwnBits > sp.Effective+1e-9 || !strings.Contains(PairWords(*p, res.Regions), "do not move together") {
			t.Errorf("N=%d vdso/sp: %+v", n, p)
		}
		cs := Conclusions(res)
		found := false
		for _, c := range cs {
			found = found || strings.HasPrefix(c, "vdso, mmap move together")
		}
		if !found {
			t.Errorf("N=%d: no group sentence in\n%s", n, strings.Join(cs, "\n"))
		}
	}
}
