package probes

import "time"

// The timed loops, in loop_amd64.s. None of them can be preempted, so each
// call must be short (loopChunk decides how short).

//go:noescape
func loopEmpty(n int64)

//go:noescape
func loopRdtsc(n int64) (last uint64)

// loopRdtscp must only be called when the CPU has rdtscp (cpuHasRDTSCP).
//
//go:noescape
func loopRdtscp(n int64) (last uint64)

//go:noescape
func loopTSC() uint64

// loopSyscall issues the syscall instruction n times with AX=trap and
// a1 to a5 in DI, SI, DX, R10, R8, and returns AX of the last (a negative
// errno on failure). Pointer arguments must point to memory that does not
// move: loopBuf.
//
//go:noescape
func loopSyscall(trap uintptr, n int64, a1, a2, a3, a4, a5 uintptr) (r1 uintptr)

// loopCall calls the C-ABI function at fn n times as fn(a1, ..., a5) and
// returns RAX of the last call. fn must be known to be callable: a fault
// inside it kills the process.
//
//go:noescape
func loopCall(fn uintptr, n int64, a1, a2, a3, a4, a5 uintptr) (r1 uintptr)

// loopLatency times n operations one by one, storing TSC ticks in
// out[0:n]; see loop_amd64.s for kind.
//
//go:noescape
func loopLatency(kind int64, target uintptr, n int64, a1, a2, a3, a4, a5 uintptr, out *uint64, rdtscp bool)

// emptyCAddr is the address of emptyC, a C-ABI function that only
// returns (call_amd64.s).
func emptyCAddr() uintptr

// Kinds of loopLatency.
const (
	loopKindNone    = 0
	loopKindCall    = 1
	loopKindSyscall = 2
)

// loopBuf is where the timed calls write their results; it is only used by
// the one goroutine running Bench (benchMu).
var loopBuf callBuf

// loopOp is one timed operation.
type loopOp struct {
	kind int     // opSyscall, opCall, opEmpty, opCallEmpty, opRdtsc, opRdtscp
	addr uintptr // syscall number or function address
	args [maxArgs]uintptr
}

const (
	opSyscall = iota
	opCall
	opEmpty
	opCallEmpty // opCall of emptyC: the floor of a call
	opRdtsc
	opRdtscp
)

// run performs n operations in one native loop and returns the last
// result (AX), when the operation has one.
func (o loopOp) run(n int64) uintptr {
	switch o.kind {
	case opSyscall:
		a := o.args
		return loopSyscall(o.addr, n, a[0], a[1], a[2], a[3], a[4])
	case opCall:
		a := o.args
		return loopCall(o.addr, n, a[0], a[1], a[2], a[3], a[4])
	case opCallEmpty:
		return loopCall(emptyCAddr(), n, 0, 0, 0, 0, 0)
	case opEmpty:
		loopEmpty(n)
	case opRdtsc:
		return uintptr(loopRdtsc(n))
	case opRdtscp:
		return uintptr(loopRdtscp(n))
	}
	return 0
}

// timed performs n operations in chunks of at most chunk and returns the
// total elapsed time. Timestamps are taken from Go's monotonic clock around
// each chunk; with chunks of a millisecond their own cost (tens of ns) is
// below 0.01%.
func (o loopOp) timed(n, chunk int64) time.Duration {
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

// latency times n single operations and returns their TSC ticks, in chunks
// of at most chunk (and 1024) so that the garbage collector is never held
// long.
func (o loopOp) latency(n int, chunk int64, rdtscp bool) []uint64 {
	out := make([]uint64, n)
	kind := int64(loopKindNone)
	switch o.kind {
	case opCall:
		kind = loopKindCall
	case opSyscall:
		kind = loopKindSyscall
	}
	chunk = min(max(chunk, 1), 1024)
	for i := 0; i < n; i += int(chunk) {
		k := min(n-i, int(chunk))
		a := o.args
		loopLatency(kind, o.addr, int64(k), a[0], a[1], a[2], a[3], a[4], &out[i], rdtscp)
	}
	return out
}
