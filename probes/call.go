package probes

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/vbench-dev/vbench/probes/vdso"
	"github.com/vbench-dev/vbench/runfile"
)

// callC calls the C-ABI function at fn with five integer arguments and
// returns its result (call_amd64.s, call_arm64.s). fn must be known to be
// callable, and on arm64 the caller must hold guardSignals (callGuarded
// does both).
//
//go:noescape
func callC(fn, a1, a2, a3, a4, a5 uintptr) (r1 uintptr)

// callGuarded is callC under the signal guard.
func callGuarded(fn, a1, a2, a3, a4, a5 uintptr) uintptr {
	defer guardSignals()()
	return callC(fn, a1, a2, a3, a4, a5)
}

// ErrUnavailable is wrapped by every error for a path that cannot be
// called in this process; the message says why ("vsyscall=none", "no vDSO
// symbol __vdso_getcpu", ...). Nothing is called when it is returned.
var ErrUnavailable = errors.New("unavailable")

// unavailableError is an ErrUnavailable with its reason.
type unavailableError struct{ reason string }

func (e *unavailableError) Error() string { return "unavailable: " + e.reason }
func (e *unavailableError) Unwrap() error { return ErrUnavailable }

func unavailable(format string, a ...any) error {
	return &unavailableError{fmt.Sprintf(format, a...)}
}

// reasonOf is the reason of an ErrUnavailable error, else its message.
func reasonOf(err error) string {
	var ue *unavailableError
	if errors.As(err, &ue) {
		return ue.reason
	}
	return err.Error()
}

// Timezone is struct timezone (include/uapi/linux/time.h), which x/sys/unix
// does not define.
type Timezone struct {
	Minuteswest int32
	Dsttime     int32
}

// RandomLen is how many bytes each getrandom call asks for: a 256-bit key.
const RandomLen = 32

// Buffer is what a call writes through its pointers (Arg says which field
// each pointer argument points at).
type Buffer struct {
	TS     unix.Timespec // clock_gettime, clock_getres
	TV     unix.Timeval  // gettimeofday
	TZ     Timezone      // gettimeofday's timezone (single calls)
	T      int64         // time(&t) (single calls; the timed call is time(NULL))
	CPU    uint32        // getcpu
	Node   uint32
	Random [RandomLen]byte // getrandom
}

// callBuf is a Buffer that does not move: only package variables are
// callBufs (loopBuf, out.buf), so the loops and the single calls can hand
// the kernel uintptrs into them. A goroutine stack may move when it grows,
// leaving a uintptr to a local pointing at the old stack; globals never
// move.
type callBuf struct {
	Buffer
	// randState selects this buffer's getrandom opaque state (getrandom.go):
	// each user of the vDSO's getrandom needs its own.
	randState int
	_         [64]byte // slack in case a kernel writes more than expected
}

// out is the single calls' buffer; mu serializes them.
var out struct {
	mu  sync.Mutex
	buf callBuf
}

func init() { out.buf.randState = 1 }

func addr[T any](p *T) uintptr { return uintptr(unsafe.Pointer(p)) }

// Target returns what to call for fn through p: the function address for
// the vdso and vsyscall paths, 0 for the syscall path. An error wraps
// ErrUnavailable with the reason, or names an unknown function or path.
// For a function whose vDSO code needs setting up (getrandom's state),
// Target does that the first time.
func (d *Doors) Target(fn runfile.Function, p runfile.Path) (uintptr, error) {
	c, ok := CallOf(fn)
	if !ok {
		return 0, fmt.Errorf("unknown function %q", fn)
	}
	switch p {
	case runfile.PathSyscall:
		if why, ok := c.NoSyscall[runtime.GOARCH]; ok {
			return 0, unavailable("%s", why)
		}
		if c.Trap == noTrap {
			return 0, unavailable("no %s system call on %s", fn, runtime.GOARCH)
		}
		return 0, nil
	case runfile.PathVDSO:
		if why, ok := c.NoVDSO[runtime.GOARCH]; ok {
			return 0, unavailable("%s", why)
		}
		if d.VDSO == nil {
			if d.VDSOErr != nil {
				return 0, unavailable("%v", d.VDSOErr)
			}
			return 0, unavailable("no vDSO")
		}
		fnAddr, ok := d.VDSO.Lookup(c.Symbol())
		if !ok || fnAddr == 0 {
			return 0, unavailable("no vDSO symbol %s (version %s)", c.Symbol(), vdso.Version)
		}
		if c.prepare != nil {
			if err := c.prepare(fnAddr); err != nil {
				return 0, unavailable("%s: %v", c.Symbol(), err)
			}
		}
		return fnAddr, nil
	case runfile.PathVsyscall:
		if !c.Has(p) {
			return 0, unavailable("the vsyscall page has no %s entry", fn)
		}
		if !d.VsyscallCallable {
			return 0, unavailable("%s", d.vsyscallReason())
		}
		return c.Vsyscall, nil
	case runfile.PathRseq:
		if !c.Has(p) {
			return 0, unavailable("rseq holds no answer of %s", fn)
		}
		if d.RseqErr != nil {
			return 0, unavailable("%v", d.RseqErr)
		}
		a := rseqHere()
		if a == nil {
			return 0, unavailable("no rseq area registered on this thread")
		}
		return addr(&a.CPUID), nil
	}
	return 0, fmt.Errorf("unknown path %q", p)
}

// ret turns a raw return (a C function's, or the kernel's in AX) into an
// error: the kernel and the vDSO return -errno.
func ret(r uintptr) error {
	if v := int64(r); v < 0 && v > -4096 {
		return unix.Errno(-v)
	}
	return nil
}

// raw issues the system call instruction (unix.RawSyscall6 does, unlike
// unix.Gettimeofday and unix.Time, which take the vDSO on amd64) and returns
// -errno the way the kernel left it in AX (X0 on arm64).
func raw(trap uintptr, a [maxArgs]uintptr) uintptr {
	r, _, e := unix.RawSyscall6(trap, a[0], a[1], a[2], a[3], a[4], 0)
	if e != 0 {
		return uintptr(-int64(e))
	}
	return r
}

// Reply is what one call returned and wrote.
type Reply struct {
	R uintptr // the raw return: a value, or -errno
	Buffer
	// StateWritten is true when the call changed getrandom's opaque
	// state. The vDSO's getrandom always does when it serves the call
	// itself (it consumes its batch or rekeys), and never when it falls
	// back to the syscall (lib/vdso/getrandom.c).
	StateWritten bool
}

// Call calls fn through p once, with the row's arguments (clock is used
// when fn takes a clock id), and returns what it returned and wrote. The
// error wraps ErrUnavailable when nothing was called, or is the unix.Errno
// the call returned.
func (d *Doors) Call(fn runfile.Function, p runfile.Path, clock int32) (Reply, error) {
	return d.call(fn, p, clock, nil)
}

// call is Call with other arguments than the row's, when as is not nil.
func (d *Doors) call(fn runfile.Function, p runfile.Path, id int32, as []Arg) (Reply, error) {
	target, err := d.Target(fn, p)
	if err != nil {
		return Reply{}, err
	}
	c, _ := CallOf(fn)
	if as == nil {
		as = c.Args
	}
	out.mu.Lock()
	defer out.mu.Unlock()
	b := &out.buf
	b.Buffer = Buffer{TS: unix.Timespec{Sec: -1, Nsec: -1}, T: -1, CPU: ^uint32(0), Node: ^uint32(0)}
	a := makeArgs(as, id, b)
	state := randomState(b)
	var before []byte
	if state != nil && slices.Contains(as, ArgRandomState) {
		before = slices.Clone(state)
	}
	var r uintptr
	switch p {
	case runfile.PathSyscall:
		r = raw(c.Trap, a)
	case runfile.PathRseq:
		// What sched_getcpu does with glibc's area: load cpu_id (and
		// node_id, where the kernel fills it: rseqNodeFilled).
		b.CPU, b.Node = rseqCPU(rseqHere()) // Target found it on this thread
		if !d.RseqNode {
			b.Node = ^uint32(0)
		}
	default:
		r = callGuarded(target, a[0], a[1], a[2], a[3], a[4])
	}
	rep := Reply{R: r, Buffer: b.Buffer}
	if before != nil {
		rep.StateWritten = !bytes.Equal(before, state)
	}
	return rep, ret(r)
}

// Gettimeofday reads the time of day and the timezone through p
// (gettimeofday(tv, tz); the timed call passes tz NULL).
func (d *Doors) Gettimeofday(p runfile.Path) (unix.Timeval, Timezone, error) {
	r, err := d.call(runfile.FuncGettimeofday, p, 0, []Arg{ArgTimeval, ArgTimezone})
	return r.TV, r.TZ, err
}

// TimeStore calls time(&t) through p and returns both the result and what
// it stored through its pointer.
func (d *Doors) TimeStore(p runfile.Path) (result, stored int64, err error) {
	r, err := d.call(runfile.FuncTime, p, 0, []Arg{ArgTime})
	if err != nil {
		return 0, r.T, err
	}
	return int64(r.R), r.T, nil
}

// Time calls time(NULL) through p.
func (d *Doors) Time(p runfile.Path) (int64, error) {
	r, err := d.Call(runfile.FuncTime, p, 0)
	if err != nil {
		return 0, err
	}
	return int64(r.R), nil
}

// ClockGettime reads clock id through p. An id the kernel does not know
// gives unix.EINVAL (from the syscall, and from the vDSO's fallback to it).
func (d *Doors) ClockGettime(p runfile.Path, id int32) (unix.Timespec, error) {
	r, err := d.Call(runfile.FuncClockGettime, p, id)
	if errors.Is(err, ErrUnavailable) {
		return unix.Timespec{Sec: -1, Nsec: -1}, err
	}
	return r.TS, err
}

// ClockGetres reads the resolution of clock id through p.
func (d *Doors) ClockGetres(p runfile.Path, id int32) (unix.Timespec, error) {
	r, err := d.Call(runfile.FuncClockGetres, p, id)
	if errors.Is(err, ErrUnavailable) {
		return unix.Timespec{Sec: -1, Nsec: -1}, err
	}
	return r.TS, err
}

// Getcpu returns the CPU and NUMA node the calling thread runs on, through
// p. The caller locks the OS thread (and pins it) for the answer to mean
// anything.
func (d *Doors) Getcpu(p runfile.Path) (cpu, node uint32, err error) {
	r, err := d.Call(runfile.FuncGetcpu, p, 0)
	if errors.Is(err, ErrUnavailable) {
		return ^uint32(0), ^uint32(0), err
	}
	return r.CPU, r.Node, err
}
