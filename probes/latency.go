package probes

import (
	"slices"

	"github.com/vbench-dev/vbench/runfile"
)

// The latency mode times every call on its own with the architecture's
// counter. On x86-64, the TSC: lfence; rdtsc; lfence before the call, and
// after it rdtscp; lfence where the CPU has rdtscp, else lfence; rdtsc;
// lfence (this project's machine lacks rdtscp); ticks become ns with the
// TSC rate calibrated against CLOCK_MONOTONIC (calibrateCounter). On arm64,
// the virtual counter: isb; mrs cntvct_el0; isb before, isb; mrs
// cntvct_el0 after (the isb, as the vDSO's own read in
// arch/arm64/include/asm/vdso/gettimeofday.h, keeps the read from being
// taken early), at the rate CNTFRQ_EL0 gives (counter_arm64.go). The fences
// keep the call from overlapping the reads. The timer's own cost (the same
// sequence with nothing between, measured just before each cell) is
// subtracted. A call faster than the overhead's median counts as 0 ns.

// latencyCells is how many points of the distribution a cell keeps for a
// CDF plot.
const latencyCells = 200

// latency times single calls of op; nil when the counter's rate is unknown.
func latency(op loopOp, cfg BenchConfig, hz float64, rdtscp bool) *runfile.Latency {
	if hz <= 0 {
		return nil
	}
	// How many: LatencyCalls, or fewer so that the cell lasts about
	// LatencyTime, but at least 100. A short warm-up estimates the cost.
	warm := op.latency(64, 1, rdtscp)
	perCall := max(medianTicks(warm)/hz*1e9, 1) // ns
	n := cfg.LatencyCalls
	n = min(n, int(float64(cfg.LatencyTime)/perCall))
	n = max(n, 100)

	overhead := medianTicks((loopOp{kind: opEmpty}).latency(4096, 1024, rdtscp))
	ticks := op.latency(n, chunkFor(perCall), rdtscp)
	ns := make([]float64, len(ticks))
	for i, t := range ticks {
		ns[i] = max(float64(t)-overhead, 0) / hz * 1e9
	}
	slices.Sort(ns)
	return &runfile.Latency{
		N:         len(ns),
		P50:       quantile(ns, 0.50),
		P90:       quantile(ns, 0.90),
		P99:       quantile(ns, 0.99),
		P999:      quantile(ns, 0.999),
		Max:       ns[len(ns)-1],
		Overhead:  overhead / hz * 1e9,
		Quantiles: quantiles(ns, latencyCells),
	}
}
