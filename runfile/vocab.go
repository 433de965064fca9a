package runfile

import (
	"fmt"
	"slices"
	"strings"
)

// The vocabulary of a run: the words measurers (probes, probes/verify,
// aslr) write and renderers (report, plots, bootlab) read. Each is a type
// here with its known values in one list, so that neither side spells them
// as string literals and a reader rejects a value it does not know
// (Validate): a file naming a function, path, clock, context, status,
// entropy kind or rule that no vbench writes is not silently drawn as
// something else. Adding a value is one constant and one list entry here.
//
// What only measuring needs (syscall numbers, vDSO symbols, clock ids,
// arguments) stays in the measuring packages, keyed by these types.

// Function is a function vbench times and checks, as the CLI and run files
// spell it (Cell.Function), or FuncFloor for bench's floor cells.
type Function string

const (
	FuncGettimeofday Function = "gettimeofday"
	FuncTime         Function = "time"
	FuncClockGettime Function = "clock_gettime"
	FuncClockGetres  Function = "clock_getres"
	FuncGetcpu       Function = "getcpu"
	FuncGetrandom    Function = "getrandom"

	// FuncFloor is not a call but bench's floor cells: loops whose
	// operation (Cell.Clock, one of FloorOps) is nothing, an empty C call,
	// or a read of the architecture's counter.
	FuncFloor Function = "floor"
)

// CallInfo is what a reader of a run knows of a call without measuring
// it. Package probes' registry (probes.Calls) holds the rest of the row,
// keyed by Function; a test there keeps the two in step.
type CallInfo struct {
	Function Function
	// Clocked is true when the call's first argument is a clock id: bench
	// makes one cell per clock, and summaries show HeadlineClock.
	Clocked bool
	// Vsyscall is true when the vsyscall page has an entry for the call
	// (gettimeofday, time, getcpu: arch/x86/entry/vsyscall/vsyscall_64.c).
	// No kernel offers the others through the page, so no cell, check or
	// table row exists for them on that path.
	Vsyscall bool
	// Rseq is true when the answer can be read from a registered struct
	// rseq (getcpu's cpu_id and node_id): the rseq path, a load.
	Rseq bool
	// CDF is true when the latency CDF figure gives the call a panel (on
	// HeadlineClock when Clocked): the calls that exist on more than one
	// path and whose single-call times differ in shape between them.
	CDF bool
}

// Calls lists the calls in table order.
var Calls = []CallInfo{
	{Function: FuncGettimeofday, Vsyscall: true, CDF: true},
	{Function: FuncTime, Vsyscall: true, CDF: true},
	{Function: FuncClockGettime, Clocked: true, CDF: true},
	{Function: FuncClockGetres, Clocked: true},
	{Function: FuncGetcpu, Vsyscall: true, Rseq: true, CDF: true},
	{Function: FuncGetrandom},
}

// Functions returns the calls' functions in table order (not FuncFloor).
func Functions() []Function {
	fs := make([]Function, len(Calls))
	for i, c := range Calls {
		fs[i] = c.Function
	}
	return fs
}

// BenchFunctions returns what bench times, in table order: every call,
// then FuncFloor.
func BenchFunctions() []Function { return append(Functions(), FuncFloor) }

// Info returns f's row of Calls; false for FuncFloor and unknown names.
func (f Function) Info() (CallInfo, bool) {
	for _, c := range Calls {
		if c.Function == f {
			return c, true
		}
	}
	return CallInfo{}, false
}

// Known reports whether f is a call or FuncFloor.
func (f Function) Known() bool {
	_, ok := f.Info()
	return ok || f == FuncFloor
}

// Has reports whether any kernel offers c through p: the syscall and the
// vDSO always (a given kernel may still lack the symbol), the vsyscall
// page only for its three entries, rseq only for getcpu.
func (c CallInfo) Has(p Path) bool {
	switch p {
	case PathSyscall, PathVDSO:
		return true
	case PathVsyscall:
		return c.Vsyscall
	case PathRseq:
		return c.Rseq
	}
	return false
}

// ParseFunction parses a call's name, in any case; withFloor also accepts
// "floor". An unknown name gives an error listing the valid ones.
func ParseFunction(s string, withFloor bool) (Function, error) {
	valid := Functions()
	if withFloor {
		valid = BenchFunctions()
	}
	return parse("function", s, valid, strings.ToLower)
}

// Path is a way into the kernel (Cell.Path); empty for floor cells.
type Path string

const (
	PathSyscall  Path = "syscall"  // the syscall instruction, issued by vbench
	PathVDSO     Path = "vdso"     // the vDSO's functions
	PathVsyscall Path = "vsyscall" // the legacy page at 0xffffffffff600000
	// PathRseq is a load of cpu_id from a struct rseq the kernel keeps up
	// to date for the thread (probes/rseq.go): getcpu only, as glibc's
	// sched_getcpu reads it.
	PathRseq Path = "rseq"
)

// Paths is the one order of the paths: the bench table's, the plots', and
// the order verify reads them in (then the syscall again), as the kernel's
// tools/testing/selftests/x86/test_vsyscall.c reads syscall, vDSO,
// vsyscall; rseq, which only getcpu has, comes last.
var Paths = []Path{PathSyscall, PathVDSO, PathVsyscall, PathRseq}

// Known reports whether p is one of Paths.
func (p Path) Known() bool { return slices.Contains(Paths, p) }

// ParsePath parses a path name, in any case; an unknown one gives an error
// listing the valid ones.
func ParsePath(s string) (Path, error) { return parse("path", s, Paths, strings.ToLower) }

// Clock is a clock's name without the CLOCK_ prefix ("MONOTONIC") in the
// cells of calls that take a clock id, or the operation of a floor cell
// (FloorOps). Package probes maps the names to the kernel's clock ids.
type Clock string

// The clocks of include/uapi/linux/time.h, in id order (REALTIME 0 to TAI
// 11; id 10, CLOCK_SGI_CYCLE, was removed in Linux 4.15).
const (
	ClockRealtime         Clock = "REALTIME"
	ClockMonotonic        Clock = "MONOTONIC"
	ClockProcessCPUTimeID Clock = "PROCESS_CPUTIME_ID"
	ClockThreadCPUTimeID  Clock = "THREAD_CPUTIME_ID"
	ClockMonotonicRaw     Clock = "MONOTONIC_RAW"
	ClockRealtimeCoarse   Clock = "REALTIME_COARSE"
	ClockMonotonicCoarse  Clock = "MONOTONIC_COARSE"
	ClockBoottime         Clock = "BOOTTIME"
	ClockRealtimeAlarm    Clock = "REALTIME_ALARM"
	ClockBoottimeAlarm    Clock = "BOOTTIME_ALARM"
	ClockTAI              Clock = "TAI"
)

// The auxiliary clocks (Linux 6.17+, CONFIG_POSIX_AUX_CLOCKS): CLOCK_AUX
// (16) to CLOCK_AUX_LAST (23), include/uapi/linux/time.h, each enabled in
// /sys/kernel/time/aux_clocks/N/enable. They are measured only when named
// (--clocks AUX0): not among DefaultClocks.
const (
	ClockAux0 Clock = "AUX0"
	ClockAux1 Clock = "AUX1"
	ClockAux2 Clock = "AUX2"
	ClockAux3 Clock = "AUX3"
	ClockAux4 Clock = "AUX4"
	ClockAux5 Clock = "AUX5"
	ClockAux6 Clock = "AUX6"
	ClockAux7 Clock = "AUX7"
)

// AuxClocks lists the auxiliary clocks.
var AuxClocks = []Clock{ClockAux0, ClockAux1, ClockAux2, ClockAux3, ClockAux4, ClockAux5, ClockAux6, ClockAux7}

// Clocks lists the clock names in id order.
var Clocks = append([]Clock{
	ClockRealtime, ClockMonotonic, ClockProcessCPUTimeID, ClockThreadCPUTimeID,
	ClockMonotonicRaw, ClockRealtimeCoarse, ClockMonotonicCoarse, ClockBoottime,
	ClockRealtimeAlarm, ClockBoottimeAlarm, ClockTAI,
}, AuxClocks...)

// DefaultClocks are the clocks bench takes when none is named: all but
// the auxiliary ones.
func DefaultClocks() []Clock {
	return slices.DeleteFunc(slices.Clone(Clocks), func(c Clock) bool { return slices.Contains(AuxClocks, c) })
}

// The floor operations (Cell.Clock of FuncFloor cells), named for what
// they execute.
const (
	OpEmpty       Clock = "empty"        // an empty loop
	OpCall        Clock = "call"         // a C-ABI call of a function that only returns
	OpRdtsc       Clock = "rdtsc"        // x86-64
	OpRdtscp      Clock = "rdtscp"       // x86-64
	OpCntvct      Clock = "cntvct"       // arm64: isb; mrs cntvct_el0
	OpCntvctNoisb Clock = "cntvct_noisb" // arm64: mrs cntvct_el0 alone
)

// FloorOps lists every floor operation of every architecture.
var FloorOps = []Clock{OpEmpty, OpCall, OpRdtsc, OpRdtscp, OpCntvct, OpCntvctNoisb}

// CounterOps are the floor operations that read the CPU's own counter: the
// x86 TSC (rdtsc, rdtscp) and arm64's virtual counter (cntvct, with its
// isb; cntvct_noisb, without), in the order figures draw them. The first
// of them a run has is its floor line.
var CounterOps = []Clock{OpRdtsc, OpRdtscp, OpCntvct, OpCntvctNoisb}

// FloorLines are the counter reads the comparison figure draws as each
// architecture's floor: the first of CounterOps per counter (rdtsc, cntvct).
var FloorLines = []Clock{OpRdtsc, OpCntvct}

// HeadlineClock is the clock the summaries show for calls that take one.
const HeadlineClock = ClockMonotonic

// ParseClock parses a clock name, in any case, with or without the CLOCK_
// prefix; an unknown one gives an error listing the valid ones.
func ParseClock(s string) (Clock, error) {
	return parse("clock", s, Clocks, func(s string) string {
		return strings.TrimPrefix(strings.ToUpper(s), "CLOCK_")
	})
}

// Headline is one (function, clock) the summaries show.
type Headline struct {
	Function Function
	Clock    Clock // HeadlineClock for a call that takes a clock id, else ""
}

// Headlines lists what a run's summary and the comparison figure show, in
// table order: every call, on HeadlineClock when it takes a clock id.
func Headlines() []Headline {
	hs := make([]Headline, len(Calls))
	for i, c := range Calls {
		hs[i].Function = c.Function
		if c.Clocked {
			hs[i].Clock = HeadlineClock
		}
	}
	return hs
}

// Context is the setting a call is made in: "plain" is a process of its
// own, with nothing between it and the kernel; the others are children
// placed in a time namespace or under a seccomp filter (context.go).
type Context string

const (
	ContextPlain Context = "plain"
	// ContextTimens is a child in a new time namespace (and, unprivileged,
	// a new user namespace) whose MONOTONIC and BOOTTIME clocks are
	// offset (Bench.Contexts says by how much).
	ContextTimens Context = "timens"
	// ContextSeccompAllowlist is a child under a container-like seccomp
	// allowlist that the kernel can cache per syscall.
	ContextSeccompAllowlist Context = "seccomp-allowlist"
	// ContextSeccompArgcheck is a child under the same allowlist plus a
	// check of an argument of each timed syscall, which no cache can
	// answer.
	ContextSeccompArgcheck Context = "seccomp-argcheck"
)

// Contexts lists the known contexts, in table order.
var Contexts = []Context{ContextPlain, ContextTimens, ContextSeccompAllowlist, ContextSeccompArgcheck}

// Known reports whether x is one of Contexts.
func (x Context) Known() bool { return slices.Contains(Contexts, x) }

// Status is a verify check's outcome (Check.Status).
type Status string

const (
	StatusPass Status = "pass"
	StatusFail Status = "fail"
	StatusSkip Status = "skip"
	StatusInfo Status = "info" // in Verify.Info only: not a check
)

// Statuses lists the statuses, the worst first (the order reports sort
// checks in).
var Statuses = []Status{StatusFail, StatusSkip, StatusInfo, StatusPass}

// Known reports whether s is one of Statuses.
func (s Status) Known() bool { return slices.Contains(Statuses, s) }

// EntropyKind is the entropy an estimate is of (Region.Entropy, and each
// of a region's Estimates): figures of different kinds are not comparable.
// For a distribution p over addresses, Hmin <= H2 <= H <= log2 of the
// support, and every upper bound is at least H.
type EntropyKind string

const (
	// EntropyShannon is Shannon entropy, H = -sum p log2 p.
	EntropyShannon EntropyKind = "shannon"
	// EntropyCollision is collision (Rényi order-2) entropy, -log2 of the
	// chance that two samples are equal.
	EntropyCollision EntropyKind = "collision"
	// EntropyUpperBound is an upper bound of every entropy (the range's
	// lattice points, the sum of per-bit entropies), not an estimate: the
	// effective figure when too few samples collide to estimate one.
	EntropyUpperBound EntropyKind = "upper-bound"
	// EntropyMin is min-entropy, -log2 of the most likely value's chance.
	EntropyMin EntropyKind = "min"
)

// EntropyKinds lists the kinds.
var EntropyKinds = []EntropyKind{EntropyShannon, EntropyCollision, EntropyUpperBound, EntropyMin}

// Known reports whether k is one of EntropyKinds.
func (k EntropyKind) Known() bool { return slices.Contains(EntropyKinds, k) }

// Rule is how a region's effective figure was chosen (Region.Rule).
type Rule string

const (
	RuleAbsent   Rule = "absent"   // the region was in no sample
	RuleConstant Rule = "constant" // one value: 0 bits
	RuleBirthday Rule = "birthday" // the collision estimate
	RuleRange    Rule = "range"    // too few collisions: the range bound, not contradicted
	RuleBitSum   Rule = "bitsum"   // too few collisions: the per-bit entropy sum, below the range
	RuleMin      Rule = "min"      // a value is provably heavier than the collision entropy implies
)

// Rules lists the rules.
var Rules = []Rule{RuleAbsent, RuleConstant, RuleBirthday, RuleRange, RuleBitSum, RuleMin}

// Known reports whether r is one of Rules.
func (r Rule) Known() bool { return slices.Contains(Rules, r) }

// The ways an ASLR sample is read (ASLR.Method).
const (
	MethodChain      = "chain"       // vbench's target re-executes itself and reports each image down a pipe
	MethodSelfReport = "self-report" // vbench's target writes its own bases down a pipe
	MethodPtrace     = "ptrace"      // stopped at exec, /proc read
)

// Known reports whether c is one of Clocks or FloorOps.
func (c Clock) Known() bool { return slices.Contains(Clocks, c) || slices.Contains(FloorOps, c) }

// parse finds s, canonicalized by canon after trimming spaces, in valid.
func parse[T ~string](what, s string, valid []T, canon func(string) string) (T, error) {
	n := canon(strings.TrimSpace(s))
	for _, v := range valid {
		if string(v) == n {
			return v, nil
		}
	}
	return "", fmt.Errorf("unknown %s %q (valid: %s)", what, s, Join(valid, ", "))
}

// Join joins names with sep, as strings.Join does strings.
func Join[T ~string](xs []T, sep string) string {
	ss := make([]string, len(xs))
	for i, x := range xs {
		ss[i] = string(x)
	}
	return strings.Join(ss, sep)
}

// Part is a part of the study (package study runs them; a bootmodes guest
// is told which with VBENCH_PARTS).
type Part string

const (
	PartVsyscall Part = "vsyscall" // the vsyscall page's mode, confirmed in child processes
	PartBench    Part = "bench"
	PartVerify   Part = "verify"
	// PartLifecycle maps, moves and unmaps the vDSO in child processes
	// (package probes/lifecycle).
	PartLifecycle Part = "lifecycle"
	PartASLR      Part = "aslr"
)

// Parts lists every part in the order they run.
var Parts = []Part{PartVsyscall, PartBench, PartVerify, PartLifecycle, PartASLR}

// Known reports whether p is one of Parts.
func (p Part) Known() bool { return slices.Contains(Parts, p) }
