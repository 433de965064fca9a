package runfile

import (
	"fmt"
	"math"
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
	// Timer names the counter TSCHz and the latency mode are about: "TSC"
	// on x86-64, "virtual counter CNTVCT_EL0" on arm64; empty in runs made
	// before it was recorded, all on x86-64 (TimerName).
	Timer string `json:"timer,omitempty"`
	// TSCStepNs is how far the TSC advances at a time, in ns (1 tick on
	// most CPUs; some virtual or AMD TSCs advance in steps of many ticks):
	// single-call latencies are only resolved to this step.
	TSCStepNs float64 `json:"tsc_step_ns,omitempty"`
	// Order is how samples were taken: OrderInterleaved (one sample of
	// each cell in turn, round after round, so that slow drift of the
	// machine falls on every cell alike) or OrderCellByCell (all samples of
	// one cell, then the next). Empty in files written before it existed:
	// cell by cell.
	Order string `json:"order,omitempty"`
	// RetryNoisy is the time budget given for more samples of noisy cells
	// (0: none).
	RetryNoisy time.Duration `json:"retry_noisy,omitempty"`
	// Interrupted is true when a signal (or a budget) stopped the bench
	// early: cells hold the samples taken so far, and cells never reached
	// are Unavailable "not measured: interrupted".
	Interrupted bool `json:"interrupted,omitempty"`
	// Counters says, for each kernel counter read around the samples
	// (CounterPageFaults, ...), where it came from or why it could not be
	// read; said once here rather than in every cell.
	Counters []Counter `json:"counters,omitempty"`
	// Contexts says, for each context asked for besides plain, how it was
	// entered or why it could not be (context.go).
	Contexts []ContextInfo `json:"contexts,omitempty"`
	Cells    []Cell        `json:"cells"`
}

// Sample orders.
const (
	OrderInterleaved = "interleaved"
	OrderCellByCell  = "cell-by-cell"
)

// Counter names, as Counter.Name and the keys of PerCall.
const (
	CounterPageFaults      = "page_faults"      // perf PERF_COUNT_SW_PAGE_FAULTS: every fault entering the handler
	CounterMinorFaults     = "minor_faults"     // perf PERF_COUNT_SW_PAGE_FAULTS_MIN: faults that mapped a page
	CounterContextSwitches = "context_switches" // perf PERF_COUNT_SW_CONTEXT_SWITCHES, this thread
	CounterMigrations      = "migrations"       // perf PERF_COUNT_SW_CPU_MIGRATIONS, this thread
	CounterSyscalls        = "syscalls"         // syscalls entered: tracepoint raw_syscalls:sys_enter or a ptrace child
	CounterCycles          = "cycles"           // perf PERF_COUNT_HW_CPU_CYCLES (needs a PMU)
	CounterInstructions    = "instructions"     // perf PERF_COUNT_HW_INSTRUCTIONS (needs a PMU)
	CounterSteal           = "steal"            // /proc/stat steal column of the pinned CPU
	CounterPreemptions     = "preemptions"      // getrusage(RUSAGE_THREAD) ru_nivcsw
)

// Counter is where one counter came from, or why it is missing.
type Counter struct {
	Name string `json:"name"`
	// Source is how it was read, e.g. "perf software event",
	// "ptrace child (PTRACE_SYSCALL)"; empty when Unavailable.
	Source      string `json:"source,omitempty"`
	Unavailable string `json:"unavailable,omitempty"`
}

// Counter returns the counter named name, if the bench lists it.
func (b *Bench) Counter(name string) (Counter, bool) {
	for _, c := range b.Counters {
		if c.Name == name {
			return c, true
		}
	}
	return Counter{}, false
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
	// Context is where the cell was measured; empty for plain.
	Context  Context  `json:"context,omitempty"`
	Function Function `json:"function"`
	Clock    Clock    `json:"clock,omitempty"`
	Path     Path     `json:"path,omitempty"`
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
	// SampleCounts holds, per sample (same order as Samples), what the
	// kernel counted on the timed thread and CPU during it. Counters that
	// Bench.Counters lists as unavailable read 0.
	SampleCounts []SampleCounts `json:"sample_counts,omitempty"`
	// PerCall is each counted event per call, over all samples: what the
	// call costs in kernel entries, counted rather than inferred.
	PerCall *PerCall `json:"per_call,omitempty"`
	// Noise says whether the cell's timing can be trusted, and why not.
	Noise *Noise `json:"noise,omitempty"`
}

// SampleCounts is what was counted during one sample.
type SampleCounts struct {
	StealNs         int64 `json:"steal_ns,omitempty"`    // steal time of the pinned CPU, ns (10 ms resolution)
	Preemptions     int64 `json:"preemptions,omitempty"` // involuntary context switches of the thread
	Migrations      int64 `json:"migrations,omitempty"`
	PageFaults      int64 `json:"page_faults,omitempty"`
	MinorFaults     int64 `json:"minor_faults,omitempty"`
	ContextSwitches int64 `json:"context_switches,omitempty"`
	Syscalls        int64 `json:"syscalls,omitempty"` // tracepoint only
	Cycles          int64 `json:"cycles,omitempty"`
	Instructions    int64 `json:"instructions,omitempty"`
	// Throttled counts the CPU-quota periods in which the cgroup (or an
	// ancestor) was throttled during the sample (cpu.stat nr_throttled);
	// Suspended is set when the process was stopped during it (a SIGCONT
	// seen, or CPU time far short of wall time). Such samples are taken
	// again within a budget; these are the ones kept.
	Throttled int64 `json:"throttled,omitempty"`
	Suspended bool  `json:"suspended,omitempty"`
}

// PerCall is counted events per call; a nil field was not counted.
type PerCall struct {
	PageFaults      *float64 `json:"page_faults,omitempty"`
	MinorFaults     *float64 `json:"minor_faults,omitempty"`
	ContextSwitches *float64 `json:"context_switches,omitempty"`
	Syscalls        *float64 `json:"syscalls,omitempty"`
	Cycles          *float64 `json:"cycles,omitempty"`
	Instructions    *float64 `json:"instructions,omitempty"`
}

// Noise is the verdict on a cell's samples. A cell is noisy when its 95%
// interval is wider than NoisyCI of the median, when its samples fall into
// two groups, or when the machine took its CPU away while it ran (steal,
// preemption, migration).
type Noise struct {
	Noisy bool `json:"noisy"`
	// Reasons are short phrases, e.g. "±52%", "bimodal (4 at 2.10, 6 at
	// 3.02)", "steal 3%", "7 preemptions".
	Reasons []string `json:"reasons,omitempty"`
	// CIPct is the larger half-width of the 95% interval, % of the median.
	CIPct   float64 `json:"ci_pct"`
	Bimodal bool    `json:"bimodal,omitempty"`
	// StealPct is steal time over the samples' time, %.
	StealPct    float64 `json:"steal_pct,omitempty"`
	Preemptions int64   `json:"preemptions,omitempty"`
	Migrations  int64   `json:"migrations,omitempty"`
	// Retried is how many samples --retry-noisy added beyond the count.
	Retried int `json:"retried,omitempty"`
	// Throttled and Suspended count the samples kept although taken while
	// a CPU quota throttled the process, or while it was stopped.
	Throttled int `json:"throttled,omitempty"`
	Suspended int `json:"suspended,omitempty"`
}

// NoisyCI is the widest 95% interval, as a fraction of the median, that a
// cell may have without being flagged noisy.
const NoisyCI = 0.05

// NoiseNote is the flag for a table or a report: "" for a quiet cell, else
// "noisy: " and the reasons, e.g. "noisy: ±52%, steal 3%".
func (c *Cell) NoiseNote() string {
	if c.Noise == nil || !c.Noise.Noisy {
		return ""
	}
	return "noisy: " + strings.Join(c.Noise.Reasons, ", ")
}

// PerCallNote says what a call costs in kernel entries, for a table or a
// report: e.g. "1 page fault per call", "1 syscall per call", "0 syscalls
// per call"; "" when nothing was counted. Counts are rounded to two
// significant digits.
func (c *Cell) PerCallNote() string {
	p := c.PerCall
	if p == nil {
		return ""
	}
	var parts []string
	if p.Syscalls != nil {
		parts = append(parts, perCall(*p.Syscalls, "syscall", "syscalls"))
	}
	if p.PageFaults != nil && *p.PageFaults >= 0.05 {
		parts = append(parts, perCall(*p.PageFaults, "page fault", "page faults"))
	}
	if len(parts) == 0 {
		return ""
	}
	return strings.Join(parts, ", ") + " per call"
}

func perCall(v float64, one, many string) string {
	s := FormatCount(v)
	if s == "1" {
		return s + " " + one
	}
	return s + " " + many
}

// FormatCount formats a per-call count: whole numbers near an integer as
// such ("1", "0"), others with two significant digits ("0.51", "1.2").
func FormatCount(v float64) string {
	if r := math.Round(v); math.Abs(v-r) < 0.01 {
		return fmt.Sprintf("%.0f", r)
	}
	return fmt.Sprintf("%.2g", v)
}

// MinSamplesForCI is the fewest samples with a finite 95% confidence
// interval of the median (benchmath.AssumeNothing, as package probes
// summarizes); with fewer, a Summary's Lo and Hi are the min and max.
const MinSamplesForCI = 6

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
	for _, part := range strings.Split(string(c.Function), "_") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	switch {
	case c.Path == "":
		b.WriteString("/op=" + string(c.Clock))
	case c.Clock != "":
		b.WriteString("/clock=" + string(c.Clock) + "/path=" + string(c.Path))
	default:
		b.WriteString("/path=" + string(c.Path))
	}
	if c.Context.Or() != ContextPlain {
		b.WriteString("/context=" + string(c.Context)) // context.go
	}
	return b.String()
}

// Find returns the plain context's cell with the given function, clock and
// path (FindIn for another context).
func (b *Bench) Find(function Function, clock Clock, path Path) (*Cell, bool) {
	return b.FindIn(ContextPlain, function, clock, path)
}

// TimerName is b.Timer, or "TSC" for runs that did not record it.
func (b *Bench) TimerName() string {
	if b.Timer == "" {
		return "TSC"
	}
	return b.Timer
}
