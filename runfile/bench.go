package runfile

import (
	"strings"
	"time"
)

// Bench is the timing part of a run (`vbench bench`).
type Bench struct {
	CPU       int           `json:"cpu"`       // CPU the timed thread was pinned to
	Count     int           `json:"count"`     // samples per cell
	Benchtime time.Duration `json:"benchtime"` // target time per sample
	// TSCHz is the TSC rate calibrated against CLOCK_MONOTONIC, used by the
	// per-call latency mode.
	TSCHz float64 `json:"tsc_hz,omitempty"`
	// TSCStepNs is how far the TSC advances at a time, in ns (1 tick on
	// most CPUs; some virtual or AMD TSCs advance in steps of many ticks):
	// single-call latencies are only resolved to this step.
	TSCStepNs float64 `json:"tsc_step_ns,omitempty"`
	Cells     []Cell  `json:"cells"`
}

// Cell is one (function, clock, path) combination.
//
// Function is a call of the registry in package probes ("gettimeofday",
// "time", "clock_gettime", "clock_getres", "getcpu", "getrandom") or
// "floor". Clock is the clock name without the CLOCK_ prefix ("MONOTONIC")
// for the calls that take a clock id, and the operation ("empty", "call",
// "rdtsc", "rdtscp") for floor; empty otherwise. Path is "syscall", "vdso"
// or "vsyscall"; "" for floor.
type Cell struct {
	Function string `json:"function"`
	Clock    string `json:"clock,omitempty"`
	Path     string `json:"path,omitempty"`
	// Unavailable is empty when the cell was measured, else why not, e.g.
	// "unavailable (vsyscall=none)", "no vDSO symbol __vdso_getcpu".
	Unavailable string `json:"unavailable,omitempty"`
	// Iters is the number of calls per sample; Samples is ns/call of each.
	Iters   int64     `json:"iters,omitempty"`
	Samples []float64 `json:"samples,omitempty"`
	Summary *Summary  `json:"summary,omitempty"`
	// Latency is the per-call distribution from the rdtscp mode, if run.
	Latency *Latency `json:"latency,omitempty"`
	// Notes are remarks for the reader, e.g. "vDSO fell back to the syscall".
	Notes []string `json:"notes,omitempty"`
}

// Summary of a cell's samples, in ns/call.
type Summary struct {
	Median float64 `json:"median"`
	// Lo and Hi bound the 95% confidence interval of the median.
	Lo     float64 `json:"lo"`
	Hi     float64 `json:"hi"`
	Mean   float64 `json:"mean"`
	Stddev float64 `json:"stddev"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
}

// Latency is the distribution of single-call times, in ns, with the timer
// overhead subtracted.
type Latency struct {
	N    int     `json:"n"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
	Max  float64 `json:"max"`
	// Overhead is the timer's own cost that was subtracted, in ns.
	Overhead float64 `json:"overhead"`
	// Quantiles holds the distribution for plotting a CDF: Quantiles[i] is
	// the (i+0.5)/len quantile. At most a few hundred points.
	Quantiles []float64 `json:"quantiles,omitempty"`
}

// Name is the cell's Go benchmark name, as written by --benchfmt, e.g.
// "ClockGettime/clock=MONOTONIC/path=syscall", "Time/path=vdso" or
// "Floor/op=rdtsc" (without the "Benchmark" prefix). The function becomes
// CamelCase by one rule, with no list of functions here: each part between
// underscores starts with a capital ("clock_gettime" is "ClockGettime").
// A cell without a path (a floor) names its operation "op".
func (c Cell) Name() string {
	var b strings.Builder
	for _, part := range strings.Split(c.Function, "_") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	switch {
	case c.Path == "":
		b.WriteString("/op=" + c.Clock)
	case c.Clock != "":
		b.WriteString("/clock=" + c.Clock + "/path=" + c.Path)
	default:
		b.WriteString("/path=" + c.Path)
	}
	return b.String()
}

// Find returns the cell with the given function, clock and path.
func (b *Bench) Find(function, clock, path string) (*Cell, bool) {
	for i := range b.Cells {
		c := &b.Cells[i]
		if c.Function == function && c.Clock == clock && c.Path == path {
			return c, true
		}
	}
	return nil, false
}
