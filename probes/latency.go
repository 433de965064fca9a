package probes

import (
	"slices"

	"github.com/vbench-dev/vbench/runfile"
)

// The latency mode times every call on its own with the TSC: lfence; rdtsc;
// lfence before the call, and after it rdtscp; lfence where the CPU has
// rdtscp, else lfence; rdtsc; lfence (this project's machine lacks rdtscp).
// The fences keep the call from overlapping the reads. The timer's own cost
// (the same sequence with nothing between, measured just before each cell)
// is subtracted, and ticks become ns with the TSC rate calibrated against
// CLOCK_MONOTONIC (calibrateTSC). A call faster than the overhead's median
// counts as 0 ns.

// latencyCells is how many points of the distribution a cell keeps for a
// CDF plot.
const latencyCells = 200

// latency times single calls of op; nil when the TSC rate is unknown.
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
