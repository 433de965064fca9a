package probes

import (
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

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

// loopSyscall issues the syscall instruction n times with AX=trap, DI=a1,
// SI=a2, DX=0 and returns AX of the last (a negative errno on failure).
// Pointer arguments must point to memory that does not move: loopBuf.
//
//go:noescape
func loopSyscall(trap uintptr, n int64, a1, a2 uintptr) (r1 uintptr)

// loopCall calls the C-ABI function at fn n times as fn(a1, a2, 0) and
// returns RAX of the last call. fn must be known to be callable: a fault
// inside it kills the process.
//
//go:noescape
func loopCall(fn uintptr, n int64, a1, a2 uintptr) (r1 uintptr)

// loopLatency times n operations one by one, storing TSC ticks in
// out[0:n]; see loop_amd64.s for kind.
//
//go:noescape
func loopLatency(kind int64, target uintptr, n int64, a1, a2 uintptr, out *uint64, rdtscp bool)

// Kinds of loopLatency.
const (
	loopKindNone    = 0
	loopKindCall    = 1
	loopKindSyscall = 2
)

// loopBuffers is where the timed calls write their results. It is a
// package variable, so its address never moves (a stack variable could move
// when the goroutine stack grows) and the loops can take uintptrs to it.
type loopBuffers struct {
	TS       unix.Timespec // clock_gettime, clock_getres
	TV       unix.Timeval  // gettimeofday
	T        int64         // time (unused: time is called with NULL)
	CPU      uint32        // getcpu
	Node     uint32
	_        [64]byte
	Overflow [64]byte // slack in case a kernel writes more than expected
}

// loopBuf is only used by the one goroutine running Bench (benchMu).
var loopBuf loopBuffers

// loopOp is one timed operation.
type loopOp struct {
	kind   int     // opSyscall, opCall, opEmpty, opRdtsc, opRdtscp
	addr   uintptr // syscall number or function address
	a1, a2 uintptr
}

const (
	opSyscall = iota
	opCall
	opEmpty
	opRdtsc
	opRdtscp
)

// run performs n operations in one native loop and returns the last
// result (AX), when the operation has one.
func (o loopOp) run(n int64) uintptr {
	switch o.kind {
	case opSyscall:
		return loopSyscall(o.addr, n, o.a1, o.a2)
	case opCall:
		return loopCall(o.addr, n, o.a1, o.a2)
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
		loopLatency(kind, o.addr, int64(k), o.a1, o.a2, &out[i], rdtscp)
	}
	return out
}

// Addresses inside loopBuf, for the loops' pointer arguments.
func loopBufTS() uintptr   { return uintptr(unsafe.Pointer(&loopBuf.TS)) }
func loopBufTV() uintptr   { return uintptr(unsafe.Pointer(&loopBuf.TV)) }
func loopBufCPU() uintptr  { return uintptr(unsafe.Pointer(&loopBuf.CPU)) }
func loopBufNode() uintptr { return uintptr(unsafe.Pointer(&loopBuf.Node)) }
