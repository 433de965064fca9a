package report

import (
	"flag"
	"math"
	"math/bits"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/vbench-dev/vbench/runfile"
)

// The fixtures in testdata/ are runs synthesized with the costs the field
// guide gives for this kind of machine (vDSO about 25 ns, syscall about
// 1000 ns, vsyscall about 7000 ns; vsyscall cells unavailable under
// vsyscall=none) and an ASLR section sampled from known distributions.
// `go test ./report -run TestMakeFixtures -fixtures` rewrites them; the
// seed is fixed, so they come out the same.
var makeFixtures = flag.Bool("fixtures", false, "rewrite the fixture runs in testdata/")

func TestMakeFixtures(t *testing.T) {
	if !*makeFixtures {
		t.Skip("run with -fixtures to rewrite testdata/*.json")
	}
	for i, mode := range []string{"emulate", "xonly", "none"} {
		r := fixtureRun(mode, uint64(i+1))
		if err := r.WriteFile(filepath.Join("testdata", mode+".json")); err != nil {
			t.Fatal(err)
		}
	}
}

func fixtureRun(mode string, seed uint64) *runfile.Run {
	rng := rand.New(rand.NewPCG(seed, 42))
	start := time.Date(2026, 11, 23, 9, 0, int(seed), 0, time.UTC)
	r := &runfile.Run{Schema: runfile.SchemaVersion, Tool: "vbench", Started: start, Finished: start.Add(41 * time.Second)}
	r.Env = runfile.Env{
		Hostname: "fixture-vm", KernelRelease: "6.18.0-fixture", KernelVersion: "#1 SMP PREEMPT_DYNAMIC", Machine: "x86_64",
		Cmdline: "console=ttyS0 vsyscall=" + mode, VsyscallBoot: mode, VsyscallMode: mode,
		Clocksource: "kvm-clock", AvailableClocksources: []string{"kvm-clock", "tsc", "acpi_pm"},
		CPUModel: "AMD EPYC Processor (fixture)", CPUVendor: "AuthenticAMD", NumCPU: 2,
		CPUFlags:         map[string]bool{"constant_tsc": true, "nonstop_tsc": true, "rdtscp": false, "pti": true, "hypervisor": true},
		RandomizeVASpace: 2, MmapRndBits: 28, MmapRndCompatBits: 8, GoVersion: "go1.26.8", VbenchVersion: "devel",
	}
	if mode != "none" {
		r.Env.VsyscallMapsLine = "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0 [vsyscall]"
	}
	b := &runfile.Bench{CPU: 0, Count: 10, Benchtime: 5 * time.Millisecond, TSCHz: 2.45e9}
	add := func(fn, clock, path string, ns float64, notes ...string) {
		c := runfile.Cell{Function: fn, Clock: clock, Path: path, Notes: notes}
		if path == "vsyscall" && mode == "none" {
			c.Unavailable = "unavailable (vsyscall=none)"
			b.Cells = append(b.Cells, c)
			return
		}
		c.Iters = int64(float64(b.Benchtime) / ns)
		for range b.Count {
			c.Samples = append(c.Samples, round3(ns*(1+0.006*rng.NormFloat64())))
		}
		c.Summary = summary(c.Samples)
		if fn != "floor" {
			c.Latency = latency(rng, ns)
		}
		b.Cells = append(b.Cells, c)
	}
	vsys := 7000.0
	if mode == "emulate" {
		vsys = 6900
	}
	add("gettimeofday", "", "syscall", 1010)
	add("gettimeofday", "", "vsyscall", vsys)
	add("gettimeofday", "", "vdso", 25.3)
	add("time", "", "syscall", 980)
	add("time", "", "vsyscall", vsys-150)
	add("time", "", "vdso", 2.2)
	for _, cl := range []struct {
		name      string
		sys, vdso float64
	}{{"REALTIME", 1020, 25.1}, {"MONOTONIC", 1015, 25.2}, {"PROCESS_CPUTIME_ID", 1150, 1190}, {"MONOTONIC_COARSE", 990, 2.4}} {
		add("clock_gettime", cl.name, "syscall", cl.sys)
		if cl.vdso > 500 {
			add("clock_gettime", cl.name, "vdso", cl.vdso, "vDSO fell back to the syscall")
		} else {
			add("clock_gettime", cl.name, "vdso", cl.vdso)
		}
	}
	add("clock_getres", "MONOTONIC", "syscall", 960)
	add("clock_getres", "MONOTONIC", "vdso", 3.1)
	add("getcpu", "", "syscall", 940)
	add("getcpu", "", "vsyscall", vsys+100)
	add("getcpu", "", "vdso", 6.4)
	add("floor", "empty", "", 0.41)
	add("floor", "rdtsc", "", 10.8)
	b.Cells = append(b.Cells, runfile.Cell{Function: "floor", Clock: "rdtscp", Unavailable: "CPU lacks rdtscp"})
	if mode == "emulate" {
		// An older vbench that did not time getcpu through the vDSO: the
		// comparison must note the missing cell.
		for i, c := range b.Cells {
			if c.Function == "getcpu" && c.Path == "vdso" {
				b.Cells = append(b.Cells[:i], b.Cells[i+1:]...)
				break
			}
		}
	}
	r.Bench = b
	r.Verify = &runfile.Verify{Passed: true, Checks: []runfile.Check{
		{Name: "clock_gettime MONOTONIC: syscall <= vdso <= syscall", Status: "pass"},
		{Name: "gettimeofday: syscall <= vdso <= vsyscall <= syscall", Status: "pass"},
		{Name: "time: value equals what it writes through its pointer", Status: "pass"},
		{Name: "clock_gettime -1: EINVAL through syscall and vdso", Status: "pass"},
	}}
	if mode == "none" {
		r.Verify.Checks[1] = runfile.Check{Name: "gettimeofday: syscall <= vdso <= vsyscall <= syscall", Status: "skip", Detail: "vsyscall=none"}
	}
	r.ASLR = fixtureASLR(rng, mode)
	return r
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

// summary is the median with the order-statistic 95% interval of 10
// samples (2nd and 9th smallest), mean, stddev, min and max.
func summary(xs []float64) *runfile.Summary {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	mean := 0.0
	for _, x := range s {
		mean += x
	}
	mean /= float64(n)
	v := 0.0
	for _, x := range s {
		v += (x - mean) * (x - mean)
	}
	return &runfile.Summary{Median: round3((s[n/2-1] + s[n/2]) / 2), Lo: s[1], Hi: s[n-2], Mean: round3(mean),
		Stddev: round3(math.Sqrt(v / float64(n-1))), Min: s[0], Max: s[n-1]}
}

// latency draws 4000 single-call times around ns with a long tail.
func latency(rng *rand.Rand, ns float64) *runfile.Latency {
	xs := make([]float64, 4000)
	for i := range xs {
		x := ns * math.Exp(0.06*rng.NormFloat64())
		if rng.IntN(100) == 0 {
			x += ns * (1 + 4*rng.Float64()) // interrupts, cache misses
		}
		xs[i] = x
	}
	sort.Float64s(xs)
	q := func(p float64) float64 { return round3(xs[min(int(p*float64(len(xs))), len(xs)-1)]) }
	l := &runfile.Latency{N: len(xs), P50: q(0.5), P90: q(0.9), P99: q(0.99), P999: q(0.999), Max: round3(xs[len(xs)-1]), Overhead: 10.8}
	for i := range 50 {
		l.Quantiles = append(l.Quantiles, q((float64(i)+0.5)/50))
	}
	return l
}

// fixtureASLR samples 5000 layouts: the mmap base with 28 bits of pages,
// the vDSO and [vvar] at fixed offsets below it (Linux 6.9+), the stack
// with 22 bits of pages, the heap with 18.
func fixtureASLR(rng *rand.Rand, mode string) *runfile.ASLR {
	const n = 5000
	names := []string{"vdso", "vvar", "stack", "mmap", "heap"}
	vals := make([][]uint64, len(names))
	for range n {
		mmap := uint64(0x7f0000000000) - uint64(rng.IntN(1<<28))<<12
		stack := uint64(0x7ffffffde000) - uint64(rng.IntN(1<<22))<<12
		heap := uint64(0x555555554000) + uint64(rng.IntN(1<<18))<<12
		vals[0] = append(vals[0], mmap-0x2000)
		vals[1] = append(vals[1], mmap-0x6000)
		vals[2] = append(vals[2], stack)
		vals[3] = append(vals[3], mmap)
		vals[4] = append(vals[4], heap)
	}
	a := &runfile.ASLR{Target: "vbench static-PIE target (memfd)", Samples: n, Requested: n, Duration: 3 * time.Second, Rate: n / 3.0}
	for i, name := range names {
		a.Regions = append(a.Regions, fixtureRegion(name, vals[i]))
	}
	a.Pairs = []runfile.Pair{
		{A: "vdso", B: "vvar", DistinctDiffs: 1, Offset: -0x4000, Conclusion: "move together: [vvar] is at a fixed offset from the vDSO"},
		{A: "vdso", B: "mmap", DistinctDiffs: 1, Offset: 0x2000, Conclusion: "move together: the vDSO adds no entropy beyond the mmap base"},
		{A: "vdso", B: "stack", DistinctDiffs: 4096, DiffBits: 28.1, Conclusion: "independent"},
	}
	if mode == "none" {
		a.Vsyscall = &runfile.Vsyscall{Mapped: 0, Fixed: true}
	} else {
		a.Vsyscall = &runfile.Vsyscall{Mapped: n, Addr: 0xffffffffff600000, Perms: "--xp", Fixed: true}
	}
	a.Conclusions = []string{
		"the vDSO moves with the mmap base (vDSO - mmap = -0x2000 in every sample): it adds no entropy beyond the mmap base",
		"[vsyscall]: fixed at 0xffffffffff600000 in every sample: 0 bits of entropy",
	}
	return a
}

func fixtureRegion(name string, xs []uint64) runfile.Region {
	g := runfile.Region{Name: name, Present: len(xs), Min: math.MaxUint64, BitFreq: make([]float64, 48)}
	counts := map[uint64]int{}
	var or, and uint64 = 0, math.MaxUint64
	for _, x := range xs {
		counts[x]++
		g.Min, g.Max = min(g.Min, x), max(g.Max, x)
		or, and = or|x, and&x
		for b := range 48 {
			if x>>b&1 == 1 {
				g.BitFreq[b]++
			}
		}
	}
	n := float64(len(xs))
	g.Alignment = 1 << bits.TrailingZeros64(or)
	g.Distinct = len(counts)
	g.VaryingMask = or &^ and
	g.VaryingBits = bits.OnesCount64(g.VaryingMask)
	for b := range 48 {
		p := g.BitFreq[b] / n
		g.BitFreq[b] = round3(p)
		if g.VaryingMask>>b&1 == 1 {
			if p > 0.35 && p < 0.65 {
				g.QualityBits++
			}
			g.BitEntropySum += -p*math.Log2(p) - (1-p)*math.Log2(1-p)
		}
	}
	g.BitEntropySum = round3(g.BitEntropySum)
	g.RangeBits = round3(math.Log2(float64((g.Max-g.Min)/g.Alignment) + 1))
	maxc := 0
	for _, c := range counts {
		g.Collisions += c * (c - 1) / 2
		g.Shannon -= float64(c) / n * math.Log2(float64(c)/n)
		maxc = max(maxc, c)
	}
	g.Shannon = round3(g.Shannon)
	g.ShannonCeiling = round3(math.Log2(n))
	g.MinEntropy = round3(-math.Log2(float64(maxc) / n))
	pairs := n * (n - 1) / 2
	if g.Collisions > 0 {
		g.CollisionBits = round3(math.Log2(pairs / float64(g.Collisions)))
		g.CollisionLo = round3(math.Log2(pairs / (float64(g.Collisions) + 2*math.Sqrt(float64(g.Collisions)) + 1)))
		g.CollisionHi = round3(math.Log2(pairs / math.Max(float64(g.Collisions)-2*math.Sqrt(float64(g.Collisions)), 0.5)))
	} else {
		g.CollisionBits = -1
		g.CollisionLo = round3(math.Log2(pairs / 3))
		g.CollisionHi = -1
	}
	if g.Distinct > 1 {
		g.Effective = g.RangeBits
		g.EffectiveRule = "range bits: uniform over its range"
		if g.Collisions > 0 && g.CollisionBits < g.RangeBits-1 {
			g.Effective, g.EffectiveRule = g.CollisionBits, "collision estimate: fewer bits than the range"
		}
		g.ChiSquareDF = 31
		g.ChiSquareP = 0.42
		bins := 32
		g.Histogram = make([]int, bins)
		w := float64(g.Max-g.Min) / float64(bins)
		for _, x := range xs {
			i := min(int(float64(x-g.Min)/w), bins-1)
			g.Histogram[i]++
		}
	} else {
		g.EffectiveRule = "one value"
	}
	g.Effective = round3(g.Effective)
	return g
}
