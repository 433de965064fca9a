package analysis

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/vbench-dev/vbench/runfile"
)

const page = 4096

func hist(vals []uint64) map[uint64]int {
	m := map[uint64]int{}
	for _, v := range vals {
		m[v]++
	}
	return m
}

// uniformPages draws n page-aligned addresses uniform over 2^k pages.
func uniformPages(rng *rand.Rand, n, k int) []uint64 {
	const base = 0x7f0000000000
	out := make([]uint64, n)
	for i := range out {
		out[i] = base + rng.Uint64N(1<<k)*page
	}
	return out
}

func TestEstimateUniform(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 5000
	for _, c := range []struct {
		k   int
		tol float64 // on Effective
	}{
		// well sampled: plug-in Shannon, bias < (2^k-1)/(2N ln2)
		{1, 0.01}, {4, 0.02}, {8, 0.1},
		// birthday regime: Poisson error on ~3000 and ~48 collisions
		{12, 0.1}, {18, 0.5},
		// too few collisions: range bits
		{24, 0.05}, {28, 0.05},
	} {
		r := estimate("u", distOfCounts(hist(uniformPages(rng, n, c.k))))
		if math.Abs(r.Effective-float64(c.k)) > c.tol {
			t.Errorf("k=%d: effective %.3f (%s), want %d +- %.2f", c.k, r.Effective, RuleWords(r), c.k, c.tol)
		}
		if r.VaryingBits != c.k || r.Alignment != page || r.Present != n {
			t.Errorf("k=%d: varying %d (mask %#x), alignment %#x, present %d", c.k, r.VaryingBits, r.VaryingMask, r.Alignment, r.Present)
		}
		if r.QualityBits != c.k {
			t.Errorf("k=%d: quality bits %d, want all %d (every bit is set in about half the samples)", c.k, r.QualityBits, c.k)
		}
		if math.Abs(est(r, "range").Bits-float64(c.k)) > 0.01 || math.Abs(est(r, "bitsum").Bits-float64(c.k)) > 0.01*float64(c.k)+0.01 {
			t.Errorf("k=%d: range %.3f, bit-entropy sum %.3f", c.k, est(r, "range").Bits, est(r, "bitsum").Bits)
		}
		if math.Log2(float64(r.Present)) != math.Log2(n) || est(r, "shannon").Bits > math.Log2(float64(r.Present))+1e-9 || est(r, "min").Bits > est(r, "shannon").Bits+1e-9 {
			t.Errorf("k=%d: Shannon %.3f ceiling %.3f min-entropy %.3f", c.k, est(r, "shannon").Bits, math.Log2(float64(r.Present)), est(r, "min").Bits)
		}
		if r.ChiSquareDF > 0 && r.ChiSquareP < 0.001 {
			t.Errorf("k=%d: chi-square rejects a uniform sample: %.1f on %d df, p=%.2g", c.k, r.ChiSquare, r.ChiSquareDF, r.ChiSquareP)
		}
		if r.Collisions > 0 && !(est(r, "collision").Lo <= float64(c.k) && float64(c.k) <= est(r, "collision").Hi) {
			t.Errorf("k=%d: 95%% birthday interval [%.2f, %.2f] misses it (%d collisions)", c.k, est(r, "collision").Lo, est(r, "collision").Hi, r.Collisions)
		}
		if r.Collisions == 0 && (est(r, "collision").Bits != -1 || est(r, "collision").Hi != -1 || est(r, "collision").Lo > float64(c.k)) {
			t.Errorf("k=%d: no collisions but birthday %.2f [%.2f, %.2f]", c.k, est(r, "collision").Bits, est(r, "collision").Lo, est(r, "collision").Hi)
		}
		sum := 0
		for _, h := range r.Histogram {
			sum += h
		}
		if sum != n || len(r.BitFreq) != BitFreqBits {
			t.Errorf("k=%d: histogram holds %d of %d samples, %d bit frequencies", c.k, sum, n, len(r.BitFreq))
		}
		if f := r.BitFreq[12]; math.Abs(f-0.5) > 0.05 {
			t.Errorf("k=%d: bit 12 set in %.2f of samples", c.k, f)
		}
	}
}

func TestEstimateConstant(t *testing.T) {
	const n = 1000
	vals := make([]uint64, n)
	for i := range vals {
		vals[i] = 0xffffffffff600000
	}
	r := estimate("c", distOfCounts(hist(vals)))
	if r.Effective != 0 || r.VaryingBits != 0 || r.QualityBits != 0 || est(r, "range").Bits != 0 || est(r, "bitsum").Bits != 0 ||
		est(r, "shannon").Bits != 0 || est(r, "min").Bits != 0 || r.Distinct != 1 || est(r, "collision").Bits != 0 || r.ChiSquareDF != 0 {
		t.Errorf("constant region: %+v", r)
	}
	if r.Collisions != n*(n-1)/2 || !strings.HasPrefix(RuleWords(r), "constant") {
		t.Errorf("constant: %d collisions, rule %q", r.Collisions, RuleWords(r))
	}
	if r := estimate("none", dist{}); r.Present != 0 || r.Effective != 0 || !strings.HasPrefix(RuleWords(r), "absent") {
		t.Errorf("absent region: %+v", r)
	}
}

// A geometric distribution over 40 values: known Shannon and min-entropy,
// clearly not uniform.
func TestEstimateSkewed(t *testing.T) {
	const n, m = 50000, 40
	p := make([]float64, m)
	total := 0.0
	for i := range p {
		p[i] = math.Pow(0.7, float64(i))
		total += p[i]
	}
	wantH := 0.0
	for i := range p {
		p[i] /= total
		wantH -= p[i] * math.Log2(p[i])
	}
	wantMin := -math.Log2(p[0])
	rng := rand.New(rand.NewPCG(3, 4))
	vals := make([]uint64, n)
	for i := range vals {
		u, j := rng.Float64(), 0
		for ; j < m-1 && u > p[j]; j++ {
			u -= p[j]
		}
		vals[i] = 0x7f0000000000 + uint64(j)*page
	}
	r := estimate("s", distOfCounts(hist(vals)))
	if math.Abs(est(r, "shannon").Bits-wantH) > 0.05 {
		t.Errorf("Shannon %.3f, want %.3f", est(r, "shannon").Bits, wantH)
	}
	// One value holds 30%: the conservative figure is the min-entropy.
	if r.Rule != runfile.RuleMin || r.Entropy != runfile.EntropyMin || math.Abs(r.Effective-wantMin) > 0.05 {
		t.Errorf("effective %.3f (%s, %s), want min-entropy %.3f", r.Effective, r.Rule, RuleWords(r), wantMin)
	}
	if math.Abs(est(r, "min").Bits-wantMin) > 0.05 {
		t.Errorf("min-entropy %.3f, want %.3f", est(r, "min").Bits, wantMin)
	}
	if r.ChiSquareP > 1e-6 {
		t.Errorf("chi-square does not reject a geometric distribution: p=%.3g", r.ChiSquareP)
	}
	// Renyi-2 (the birthday figure) lies between min-entropy and Shannon.
	if !(est(r, "min").Bits-0.05 <= est(r, "collision").Bits && est(r, "collision").Bits <= est(r, "shannon").Bits+0.05) {
		t.Errorf("birthday %.3f not within [min-entropy %.3f, Shannon %.3f]", est(r, "collision").Bits, est(r, "min").Bits, est(r, "shannon").Bits)
	}
	if est(r, "range").Bits < est(r, "shannon").Bits {
		t.Errorf("range %.3f below Shannon %.3f", est(r, "range").Bits, est(r, "shannon").Bits)
	}
}

// paxtest's quality bits drop a bit set in 90% of samples.
func TestQualityBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const n = 4000
	vals := uniformPages(rng, n, 10)
	for i := range vals {
		if rng.Float64() < 0.9 {
			vals[i] |= 1 << 30
		}
	}
	r := estimate("q", distOfCounts(hist(vals)))
	if r.VaryingBits != 11 || r.QualityBits != 10 {
		t.Errorf("varying %d quality %d, want 11 and 10", r.VaryingBits, r.QualityBits)
	}
}

func TestChiSquareDistribution(t *testing.T) {
	// Upper 5% points from any chi-square table.
	for _, c := range []struct{ x, df float64 }{{3.841459, 1}, {5.991465, 2}, {18.307038, 10}, {124.342113, 100}} {
		if p := chiSquareSurvival(c.x, c.df); math.Abs(p-0.05) > 1e-5 {
			t.Errorf("P(chi2(%g) > %g) = %.6f, want 0.05", c.df, c.x, p)
		}
		if q := chiSquareQuantile(0.95, c.df); math.Abs(q-c.x) > 1e-4*c.x {
			t.Errorf("95%% point of chi2(%g) = %.5f, want %.5f", c.df, q, c.x)
		}
	}
	// df = 2: the survival function is exp(-x/2).
	for _, x := range []float64{0.1, 1, 5, 30} {
		if p := chiSquareSurvival(x, 2); math.Abs(p-math.Exp(-x/2)) > 1e-12 {
			t.Errorf("P(chi2(2) > %g) = %g, want %g", x, p, math.Exp(-x/2))
		}
	}
}

func TestPairs(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const n = 5000
	agg := NewColumns(n, AllRegions)
	for range n {
		var s Sample
		a := 0x7f0000000000 + rng.Uint64N(1<<20)*page
		s.Set(Vdso, a)
		s.Set(Vvar, a-0x6000)               // moves with vdso
		s.Set(Stack, a+rng.Uint64N(8)*page) // 3 bits beyond vdso
		s.Set(Heap, 0x555555554000+rng.Uint64N(1<<18)*page)
		agg.Add(&s)
	}
	res := &runfile.ASLR{Samples: n}
	Analyze(agg, res)
	get := func(a, b string) runfile.Pair {
		if p := pairByName(res, a, b); p != nil {
			return *p
		}
		t.Fatalf("no pair %s %s", a, b)
		return runfile.Pair{}
	}
	if r := get("vdso", "vvar"); r.DistinctDiffs != 1 || r.Offset != -0x6000 || !strings.Contains(PairWords(r, res.Regions), "moves with") {
		t.Errorf("vdso/vvar: %+v", r)
	}
	if r := get("vdso", "stack"); r.DistinctDiffs != 8 || math.Abs(r.DiffBits-3) > 0.05 || !r.Related || r.OwnFrom != "difference" {
		t.Errorf("vdso/stack: %d distinct, %.3f bits, related %v, want 8 and 3", r.DistinctDiffs, r.DiffBits, r.Related)
	}
	if r := get("vdso", "heap"); r.Related || !strings.Contains(PairWords(r, res.Regions), "do not move together") || r.OwnFrom != "b" {
		t.Errorf("vdso/heap: %+v", r)
	}
	if p := pairByName(res, "vdso", "sp"); p != nil {
		t.Errorf("vdso/sp (sp absent): %+v", p)
	}
}

// est is region r's estimate by the named estimator (the zero Estimate,
// named, when r has none).
func est(r runfile.Region, name string) runfile.Estimate {
	e, _ := r.Estimate(name)
	return e
}
