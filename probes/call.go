package probes

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/vbench-dev/vbench/probes/vdso"
	"github.com/vbench-dev/vbench/probes/vsyscall"
)

// callC calls the C-ABI function at fn with three integer arguments and
// returns its result (call_amd64.s). fn must be known to be callable.
//
//go:noescape
func callC(fn, a1, a2, a3 uintptr) (r1 uintptr)

// callCPUID executes CPUID.
func callCPUID(leaf, sub uint32) (a, b, c, d uint32)

// Path is a way into the kernel's clock.
type Path string

const (
	PathSyscall  Path = "syscall"  // the syscall instruction, issued by vbench
	PathVsyscall Path = "vsyscall" // the legacy page at 0xffffffffff600000
	PathVDSO     Path = "vdso"     // the vDSO's __vdso_* functions
)

// Paths lists the paths in the order verify reads them (after the leading
// syscall).
var Paths = []Path{PathSyscall, PathVDSO, PathVsyscall}

// Func names a clock function as the CLI and the result file spell it.
type Func string

const (
	FuncGettimeofday Func = "gettimeofday"
	FuncTime         Func = "time"
	FuncClockGettime Func = "clock_gettime"
	FuncClockGetres  Func = "clock_getres"
	FuncGetcpu       Func = "getcpu"
)

// Funcs lists every function.
var Funcs = []Func{FuncGettimeofday, FuncTime, FuncClockGettime, FuncClockGetres, FuncGetcpu}

// ErrUnavailable is wrapped by every error for a path that cannot be
// called in this process; the message says why ("vsyscall=none", "no vDSO
// symbol __vdso_getcpu", ...). Nothing is called when it is returned.
var ErrUnavailable = errors.New("unavailable")

// Timezone is struct timezone (include/uapi/linux/time.h), which x/sys/unix
// does not define.
type Timezone struct {
	Minuteswest int32
	Dsttime     int32
}

// vdsoSymbol maps a function to its vDSO export (vdso.lds.S).
var vdsoSymbol = map[Func]string{
	FuncGettimeofday: vdso.Gettimeofday,
	FuncTime:         vdso.Time,
	FuncClockGettime: vdso.ClockGettime,
	FuncClockGetres:  vdso.ClockGetres,
	FuncGetcpu:       vdso.Getcpu,
}

// vsyscallEntry maps a function to its vsyscall entry; the page has no
// clock_gettime or clock_getres (arch/x86/entry/vsyscall/vsyscall_64.c).
var vsyscallEntry = map[Func]uintptr{
	FuncGettimeofday: vsyscall.Gettimeofday,
	FuncTime:         vsyscall.Time,
	FuncGetcpu:       vsyscall.Getcpu,
}

// Target returns what to call for fn through p: the function address for
// the vdso and vsyscall paths, 0 for the syscall path. An error wraps
// ErrUnavailable with the reason, or names an unknown function or path.
func (d *Doors) Target(fn Func, p Path) (uintptr, error) {
	if _, ok := vdsoSymbol[fn]; !ok {
		return 0, fmt.Errorf("unknown function %q", fn)
	}
	switch p {
	case PathSyscall:
		return 0, nil
	case PathVDSO:
		if d.VDSO == nil {
			reason := "no vDSO"
			if d.VDSOErr != nil {
				reason = d.VDSOErr.Error()
			}
			return 0, fmt.Errorf("%w: %s", ErrUnavailable, reason)
		}
		sym := vdsoSymbol[fn]
		addr, ok := d.VDSO.Lookup(sym)
		if !ok {
			return 0, fmt.Errorf("%w: no vDSO symbol %s", ErrUnavailable, sym)
		}
		return addr, nil
	case PathVsyscall:
		addr, ok := vsyscallEntry[fn]
		if !ok {
			return 0, fmt.Errorf("%w: the vsyscall page has no %s entry", ErrUnavailable, fn)
		}
		if !d.VsyscallCallable {
			return 0, fmt.Errorf("%w: %s", ErrUnavailable, d.vsyscallReason())
		}
		return addr, nil
	}
	return 0, fmt.Errorf("unknown path %q", p)
}

// vsyscallReason says why the vsyscall page is not callable.
func (d *Doors) vsyscallReason() string {
	switch {
	case d.VsyscallErr != nil:
		return "vsyscall probe failed: " + d.VsyscallErr.Error()
	case !d.Vsyscall.Mode.Callable():
		return "vsyscall=" + string(d.Vsyscall.Mode)
	default:
		return fmt.Sprintf("vsyscall=%s but the call probe ended with %s", d.Vsyscall.Mode, d.Vsyscall.CallProbe)
	}
}

// ret turns a raw return (a C function's, or the kernel's in AX) into an
// error: the kernel and the vDSO return -errno.
func ret(r uintptr) error {
	if v := int64(r); v < 0 && v > -4096 {
		return unix.Errno(-v)
	}
	return nil
}

// raw issues the syscall instruction (unix.RawSyscall does, unlike
// unix.Gettimeofday and unix.Time, which take the vDSO) and returns -errno
// the way the kernel left it in AX.
func raw(trap, a1, a2, a3 uintptr) uintptr {
	r, _, e := unix.RawSyscall(trap, a1, a2, a3)
	if e != 0 {
		return uintptr(-int64(e))
	}
	return r
}

// call calls fn through p with up to three arguments and returns the raw
// result.
func (d *Doors) call(fn Func, p Path, trap, a1, a2, a3 uintptr) (uintptr, error) {
	addr, err := d.Target(fn, p)
	if err != nil {
		return 0, err
	}
	if p == PathSyscall {
		return raw(trap, a1, a2, a3), nil
	}
	return callC(addr, a1, a2, a3), nil
}

// out holds what a called function writes through its pointers. It is a
// global, not a local, because a pointer handed over as a uintptr must not
// move: callC's 16 KiB frame can make its prologue grow, and so copy, the
// goroutine stack, which would leave a uintptr to a local pointing at the
// old stack. Globals never move. mu serializes the single calls.
var out struct {
	mu   sync.Mutex
	tv   unix.Timeval
	tz   Timezone
	ts   unix.Timespec
	t    int64
	cpu  uint32
	node uint32
}

func addr[T any](p *T) uintptr { return uintptr(unsafe.Pointer(p)) }

// Gettimeofday reads the time of day and the timezone through p.
func (d *Doors) Gettimeofday(p Path) (unix.Timeval, Timezone, error) {
	out.mu.Lock()
	defer out.mu.Unlock()
	out.tv, out.tz = unix.Timeval{}, Timezone{}
	r, err := d.call(FuncGettimeofday, p, unix.SYS_GETTIMEOFDAY, addr(&out.tv), addr(&out.tz), 0)
	if err == nil {
		err = ret(r)
	}
	return out.tv, out.tz, err
}

// TimeStore calls time(&t) through p and returns both the result and what
// it stored through its pointer.
func (d *Doors) TimeStore(p Path) (result, stored int64, err error) {
	out.mu.Lock()
	defer out.mu.Unlock()
	out.t = -1
	r, err := d.call(FuncTime, p, unix.SYS_TIME, addr(&out.t), 0, 0)
	if err != nil {
		return 0, 0, err
	}
	if err := ret(r); err != nil {
		return 0, out.t, err
	}
	return int64(r), out.t, nil
}

// Time calls time(NULL) through p.
func (d *Doors) Time(p Path) (int64, error) {
	r, err := d.call(FuncTime, p, unix.SYS_TIME, 0, 0, 0)
	if err != nil {
		return 0, err
	}
	if err := ret(r); err != nil {
		return 0, err
	}
	return int64(r), nil
}

// ClockGettime reads clock id through p. An id the kernel does not know
// gives unix.EINVAL (from the syscall, and from the vDSO's fallback to it).
func (d *Doors) ClockGettime(p Path, id int32) (unix.Timespec, error) {
	return d.clock(FuncClockGettime, unix.SYS_CLOCK_GETTIME, p, id)
}

// ClockGetres reads the resolution of clock id through p.
func (d *Doors) ClockGetres(p Path, id int32) (unix.Timespec, error) {
	return d.clock(FuncClockGetres, unix.SYS_CLOCK_GETRES, p, id)
}

func (d *Doors) clock(fn Func, trap uintptr, p Path, id int32) (unix.Timespec, error) {
	out.mu.Lock()
	defer out.mu.Unlock()
	out.ts = unix.Timespec{Sec: -1, Nsec: -1}
	// The id is a C int: sign-extended, the callee reads the low 32 bits.
	r, err := d.call(fn, p, trap, uintptr(int64(id)), addr(&out.ts), 0)
	if err == nil {
		err = ret(r)
	}
	return out.ts, err
}

// Getcpu returns the CPU and NUMA node the calling thread runs on, through
// p. The caller locks the OS thread (and pins it) for the answer to mean
// anything.
func (d *Doors) Getcpu(p Path) (cpu, node uint32, err error) {
	out.mu.Lock()
	defer out.mu.Unlock()
	out.cpu, out.node = ^uint32(0), ^uint32(0)
	r, err := d.call(FuncGetcpu, p, unix.SYS_GETCPU, addr(&out.cpu), addr(&out.node), 0)
	if err == nil {
		err = ret(r)
	}
	return out.cpu, out.node, err
}

// ParsePath parses a path name; an unknown one gives an error listing the
// valid ones.
func ParsePath(s string) (Path, error) {
	for _, p := range Paths {
		if string(p) == strings.ToLower(strings.TrimSpace(s)) {
			return p, nil
		}
	}
	return "", fmt.Errorf("unknown path %q (valid: syscall, vdso, vsyscall)", s)
}

// ParseFunc parses a function name; an unknown one gives an error listing
// the valid ones.
func ParseFunc(s string) (Func, error) {
	for _, f := range Funcs {
		if string(f) == strings.ToLower(strings.TrimSpace(s)) {
			return f, nil
		}
	}
	names := make([]string, len(Funcs))
	for i, f := range Funcs {
		names[i] = string(f)
	}
	return "", fmt.Errorf("unknown function %q (valid: %s)", s, strings.Join(names, ", "))
}
