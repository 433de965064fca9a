package probes

import "time"

// The timed loops, in loop_amd64.s and loop_arm64.s: every architecture
// implements the same functions. None of them can be preempted, so each
// call must be short (chunkFor decides how short). The counter is the TSC
// on x86-64 and the virtual counter CNTVCT_EL0 on arm64 (counter_*.go).

//go:noescape
func loopEmpty(n int64)

// loopCounter reads the counter n times without ordering (rdtsc; mrs
// cntvct_el0) and returns the last value.
//
//go:noescape
func loopCounter(n int64) (last uint64)

// loopCounter2 reads the counter n times the second way (rdtscp; isb then
// mrs cntvct_el0) and returns the last value. On x86-64 it must only be
// called when the CPU has rdtscp (floorUnavailable says so).
//
//go:noescape
func loopCounter2(n int64) (last uint64)

// counterNow is one ordered counter read (lfence; rdtsc, or isb; mrs
// cntvct_el0): the latency mode's clock.
//
//go:noescape
func counterNow() uint64

// loopSyscall issues the system call instruction n times with number trap
// and a1 to a5 in the kernel's argument registers (x86-64: syscall, AX and
// DI, SI, DX, R10, R8; arm64: svc #0, R8 and R0 to R4), and returns the
// result register of the last (a negative errno on failure). Pointer
// arguments must point to memory that does not move: loopBuf.
//
//go:noescape
func loopSyscall(trap uintptr, n int64, a1, a2, a3, a4, a5 uintptr) (r1 uintptr)

// loopCall calls the C-ABI function at fn n times as fn(a1, ..., a5) and
// returns the result register (RAX, X0) of the last call. fn must be known
// to be callable: a fault inside it kills the process. On arm64 the caller
// blocks signals around it (guardSignals).
//
//go:noescape
func loopCall(fn uintptr, n int64, a1, a2, a3, a4, a5 uintptr) (r1 uintptr)

// loopCall3 calls the C-ABI function at fn n times as fn(a1, a2, 0): the
// calls of at most three arguments whose third is NULL (every clock call,
// getcpu), as a C caller makes them, with the loop state in registers and
// nothing loaded from memory per call. loopCall, which must pass five
// arguments with too few callee-saved registers to hold them, reloads three
// from its frame per call: 0.4 ns more per call measured on getcpu.
//
//go:noescape
func loopCall3(fn uintptr, n int64, a1, a2 uintptr) (r1 uintptr)

// loopLoad loads the 32-bit word at addr n times and returns the last
// value: the rseq path, a read of cpu_id as glibc's sched_getcpu makes it.
// addr must stay mapped (rseq.go's area).
//
//go:noescape
func loopLoad(addr uintptr, n int64) (last uint32)

// loopLatency times n operations one by one, storing counter ticks in
// out[0:n]; see loop_amd64.s for kind. second selects rdtscp for the end
// read on x86-64 and is ignored on arm64.
//
//go:noescape
func loopLatency(kind int64, target uintptr, n int64, a1, a2, a3, a4, a5 uintptr, out *uint64, second bool)

// emptyCAddr is the address of emptyC, a C-ABI function that only
// returns (call_amd64.s, call_arm64.s).
func emptyCAddr() uintptr

// Kinds of loopLatency.
const (
	loopKindNone    = 0
	loopKindCall    = 1
	loopKindSyscall = 2
	loopKindLoad    = 3
)

// loopBuf is where the timed calls write their results; it is only used by
// the one goroutine running Bench (benchMu).
var loopBuf callBuf

// loopOp is one timed operation.
type loopOp struct {
	kind int     // opSyscall, opCall, opEmpty, opCallEmpty, opCounter, opCounter2
	addr uintptr // syscall number or function address
	args [maxArgs]uintptr
}

const (
	opSyscall = iota
	opCall
	opEmpty
	opCallEmpty // opCall of emptyC: the floor of a call
	opCounter   // loopCounter: rdtsc, or mrs cntvct_el0
	opCounter2  // loopCounter2: rdtscp, or isb; mrs cntvct_el0
	opLoad      // loopLoad of the word at addr: rseq's cpu_id
)

// run performs n operations in one native loop and returns the last
// result (AX, X0), when the operation has one. A vDSO call (opCall) must
// run under guardSignals (timed and latency do that).
func (o loopOp) run(n int64) uintptr {
	switch o.kind {
	case opSyscall:
		a := o.args
		return loopSyscall(o.addr, n, a[0], a[1], a[2], a[3], a[4])
	case opCall:
		a := o.args
		if a[2] == 0 && a[3] == 0 && a[4] == 0 {
			return loopCall3(o.addr, n, a[0], a[1])
		}
		return loopCall(o.addr, n, a[0], a[1], a[2], a[3], a[4])
	case opCallEmpty:
		return loopCall3(emptyCAddr(), n, 0, 0)
	case opEmpty:
		loopEmpty(n)
	case opCounter:
		return uintptr(loopCounter(n))
	case opCounter2:
		return uintptr(loopCounter2(n))
	case opLoad:
		return uintptr(loopLoad(o.addr, n))
	}
	return 0
}

// timed performs n operations in chunks of at most chunk and returns the
// total elapsed time. Timestamps are taken from Go's monotonic clock around
// each chunk; with chunks of a millisecond their own cost (tens of ns) is
// below 0.01%. The signal guard (guardSignals, a no-op on x86-64) is set
// once, outside the timed chunks.
func (o loopOp) timed(n, chunk int64) time.Duration {
	defer o.guard()()
	var total time.Duration
	for n > 0 {
		k := min(n, chunk)
		t0 := time.Now()
		o.run(k)
		total += time.Since(t0)
		n -= k
	}
	return total
}

// latency times n single operations and returns their counter ticks, in
// chunks of at most chunk (and 1024) so that the garbage collector is never
// held long.
func (o loopOp) latency(n int, chunk int64, rdtscp bool) []uint64 {
	defer o.guard()()
	out := make([]uint64, n)
	kind := int64(loopKindNone)
	switch o.kind {
	case opCall:
		kind = loopKindCall
	case opSyscall:
		kind = loopKindSyscall
	case opLoad:
		kind = loopKindLoad
	}
	chunk = min(max(chunk, 1), 1024)
	for i := 0; i < n; i += int(chunk) {
		k := min(n-i, int(chunk))
		a := o.args
		loopLatency(kind, o.addr, int64(k), a[0], a[1], a[2], a[3], a[4], &out[i], rdtscp)
	}
	return out
}

// guard sets the signal guard for a vDSO call (guardSignals) and returns
// what lifts it; for other operations it does nothing.
func (o loopOp) guard() (restore func()) {
	if o.kind != opCall {
		return func() {}
	}
	return guardSignals()
}
