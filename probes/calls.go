package probes

import (
	"fmt"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/vbench-dev/vbench/probes/vsyscall"
)

// The registry of calls: each function vbench times and checks is one row
// of Calls, and everything else derives from it: the bench cells and their
// operations (bench.go), the single calls verify makes (call.go), the
// function lists of the CLI and the plots, and the cells' benchmark names
// (runfile.Cell.Name turns "clock_gettime" into "ClockGettime"). Adding a
// function is one row here plus its check in package verify (a test keeps
// the two in step); a row whose vDSO function needs setting up first names
// a prepare function (getrandom's opaque state, getrandom.go).

// Func names a function as the CLI and the result file spell it.
type Func string

const (
	FuncGettimeofday Func = "gettimeofday"
	FuncTime         Func = "time"
	FuncClockGettime Func = "clock_gettime"
	FuncClockGetres  Func = "clock_getres"
	FuncGetcpu       Func = "getcpu"
	FuncGetrandom    Func = "getrandom"

	// FuncFloor is not a call but bench's floor cells: loops whose
	// operation is nothing, an empty C call, or a read of the
	// architecture's counter (Floors).
	FuncFloor Func = "floor"
)

// Path is a way into the kernel.
type Path string

const (
	PathSyscall  Path = "syscall"  // the syscall instruction, issued by vbench
	PathVDSO     Path = "vdso"     // the vDSO's functions
	PathVsyscall Path = "vsyscall" // the legacy page at 0xffffffffff600000
	// PathRseq is a load of cpu_id from a struct rseq the kernel keeps up
	// to date for the thread (rseq.go): getcpu only, as glibc's
	// sched_getcpu reads it.
	PathRseq Path = "rseq"
)

// Paths is the one order of the paths: the bench table's, the plots', and
// the order verify reads them in (then the syscall again), as the kernel's
// tools/testing/selftests/x86/test_vsyscall.c reads syscall, vDSO,
// vsyscall; rseq, which only getcpu has, comes last.
var Paths = []Path{PathSyscall, PathVDSO, PathVsyscall, PathRseq}

// Arg says how one argument of a call is made from the clock id and a
// buffer that does not move (callBuf).
type Arg int

const (
	ArgZero           Arg = iota // 0: NULL, or flags 0
	ArgClock                     // the clock id (a C int, sign-extended)
	ArgTimespec                  // &buf.TS
	ArgTimeval                   // &buf.TV
	ArgTimezone                  // &buf.TZ
	ArgTime                      // &buf.T
	ArgCPU                       // &buf.CPU
	ArgNode                      // &buf.Node
	ArgRandom                    // &buf.Random
	ArgRandomLen                 // len(buf.Random)
	ArgRandomState               // the buffer's vgetrandom opaque state (0 until prepared)
	ArgRandomStateLen            // the state's size (0 until prepared)
)

// maxArgs is how many integer arguments the loops and the single-call
// trampoline pass (System V AMD64: DI, SI, DX, CX, R8, the syscall
// instruction taking R10 for CX; AAPCS64 and arm64's svc: R0 to R4).
const maxArgs = 5

// noTrap is Call.Trap where the architecture has no such system call
// (time on arm64): the syscall path is then unavailable, with the reason
// syscallLacks gives (syscalls_*.go).
const noTrap = ^uintptr(0)

// Call is one row of the registry.
type Call struct {
	Func Func
	// Clocked is true when the first argument is a clock id: bench makes
	// one cell per clock.
	Clocked bool
	// VDSO is the vDSO function's base name; the symbol is vdsoPrefix+VDSO
	// (vdso_amd64.go, vdso_arm64.go). Where an architecture's vDSO has no
	// such function, vdsoLacks says why and the path is unavailable.
	VDSO string
	// Vsyscall is the entry on the vsyscall page; 0 when the page has
	// none (it has only gettimeofday, time and getcpu:
	// arch/x86/entry/vsyscall/vsyscall_64.c). Then no cell, no check and
	// no skip exists for that path: no kernel has it. On architectures
	// without the page (vsyscall.Exists false) the entries' cells exist
	// and are unavailable, with the reason.
	Vsyscall uintptr
	// ClockData is true for the calls answered from the kernel's clock
	// data (the time of day, a clock, a clock's resolution): a time
	// namespace changes them (its VVAR page, its offsets), and only them.
	ClockData bool
	// Rseq is true when the answer can be read from a registered struct
	// rseq (getcpu's cpu_id and node_id): the rseq path, a load.
	Rseq bool
	// Trap is the syscall number, from golang.org/x/sys/unix; noTrap where
	// the architecture has no such call (sysTime, syscalls_*.go).
	Trap uintptr
	// Args are the timed call's arguments, at most maxArgs; the rest are 0.
	// The kernel and the vDSO take the same ones (the syscall ignores what
	// lies past its own arguments, e.g. getrandom's state).
	Args []Arg
	// prepare, if set, readies the vDSO function at fn before its first
	// call; an error makes the vDSO path unavailable with its message.
	prepare func(fn uintptr) error
}

// Calls is the registry, in table order.
var Calls = []Call{
	{Func: FuncGettimeofday, ClockData: true, VDSO: "gettimeofday", Vsyscall: vsyscall.Gettimeofday, Trap: unix.SYS_GETTIMEOFDAY,
		Args: []Arg{ArgTimeval, ArgZero}}, // gettimeofday(tv, NULL)
	{Func: FuncTime, ClockData: true, VDSO: "time", Vsyscall: vsyscall.Time, Trap: sysTime,
		Args: []Arg{ArgZero}}, // time(NULL)
	{Func: FuncClockGettime, Clocked: true, ClockData: true, VDSO: "clock_gettime", Trap: unix.SYS_CLOCK_GETTIME,
		Args: []Arg{ArgClock, ArgTimespec}},
	{Func: FuncClockGetres, Clocked: true, ClockData: true, VDSO: "clock_getres", Trap: unix.SYS_CLOCK_GETRES,
		Args: []Arg{ArgClock, ArgTimespec}},
	{Func: FuncGetcpu, VDSO: "getcpu", Vsyscall: vsyscall.Getcpu, Rseq: true, Trap: unix.SYS_GETCPU,
		Args: []Arg{ArgCPU, ArgNode, ArgZero}}, // getcpu(cpu, node, NULL)
	{Func: FuncGetrandom, VDSO: "getrandom", Trap: unix.SYS_GETRANDOM,
		// getrandom(buf, 32, 0, state, state_len), lib/vdso/getrandom.c
		Args: []Arg{ArgRandom, ArgRandomLen, ArgZero, ArgRandomState, ArgRandomStateLen}, prepare: prepareGetrandom},
}

// Funcs lists every call's function, in table order.
var Funcs = func() []Func {
	fs := make([]Func, len(Calls))
	for i, c := range Calls {
		fs[i] = c.Func
	}
	return fs
}()

// CallOf returns fn's row.
func CallOf(fn Func) (Call, bool) {
	for _, c := range Calls {
		if c.Func == fn {
			return c, true
		}
	}
	return Call{}, false
}

// Has reports whether any kernel offers c through p: the syscall and the
// vDSO always (a given kernel may still lack the symbol), the vsyscall page
// only for its three entries, rseq only for getcpu.
func (c Call) Has(p Path) bool {
	switch p {
	case PathSyscall, PathVDSO:
		return true
	case PathVsyscall:
		return c.Vsyscall != 0
	case PathRseq:
		return c.Rseq
	}
	return false
}

// Symbol is the vDSO symbol of c, e.g. "__vdso_clock_gettime".
func (c Call) Symbol() string { return vdsoPrefix + c.VDSO }

// args builds the argument registers of c for clock id and buffer b.
func (c Call) args(id int32, b *callBuf) [maxArgs]uintptr {
	return makeArgs(c.Args, id, b)
}

func makeArgs(as []Arg, id int32, b *callBuf) [maxArgs]uintptr {
	var r [maxArgs]uintptr
	for i, a := range as {
		switch a {
		case ArgZero:
		case ArgClock:
			r[i] = uintptr(int64(id))
		case ArgTimespec:
			r[i] = addr(&b.TS)
		case ArgTimeval:
			r[i] = addr(&b.TV)
		case ArgTimezone:
			r[i] = addr(&b.TZ)
		case ArgTime:
			r[i] = addr(&b.T)
		case ArgCPU:
			r[i] = addr(&b.CPU)
		case ArgNode:
			r[i] = addr(&b.Node)
		case ArgRandom:
			r[i] = addr(&b.Random)
		case ArgRandomLen:
			r[i] = uintptr(len(b.Random))
		case ArgRandomState:
			if s := randomState(b); s != nil {
				r[i] = addr(&s[0])
			}
		case ArgRandomStateLen:
			r[i] = uintptr(len(randomState(b)))
		default:
			panic(fmt.Sprintf("probes: unknown Arg %d", a))
		}
	}
	return r
}

// Floor is one operation of bench's floor cells.
type Floor struct {
	Op   string // the cell's Clock field: "empty", "call", "rdtsc", "rdtscp", "cntvct", "isb_cntvct"
	kind int    // opEmpty, ...
}

// Floors are the floor operations, in table order: an empty loop, a C-ABI
// call of a function that only returns (what any vDSO call costs at
// least), then the two counter reads of the architecture (counterFloors:
// rdtsc and rdtscp on x86-64; mrs cntvct_el0 alone and after an isb on
// arm64). CounterFloor names the one the plots draw as the floor.
var Floors = append([]Floor{{"empty", opEmpty}, {"call", opCallEmpty}}, counterFloors...)

// FloorOps are the operations of Floors.
var FloorOps = func() []string {
	ops := make([]string, len(Floors))
	for i, f := range Floors {
		ops[i] = f.Op
	}
	return ops
}()

// BenchFunctions are the functions Bench knows, in table order: every
// call, then "floor".
var BenchFunctions = func() []string {
	names := make([]string, 0, len(Calls)+1)
	for _, c := range Calls {
		names = append(names, string(c.Func))
	}
	return append(names, string(FuncFloor))
}()

// BenchPaths are the paths' names, in table order (Paths).
var BenchPaths = func() []string {
	names := make([]string, len(Paths))
	for i, p := range Paths {
		names[i] = string(p)
	}
	return names
}()

// ParsePath parses a path name; an unknown one gives an error listing the
// valid ones.
func ParsePath(s string) (Path, error) {
	for _, p := range Paths {
		if string(p) == strings.ToLower(strings.TrimSpace(s)) {
			return p, nil
		}
	}
	return "", fmt.Errorf("unknown path %q (valid: %s)", s, strings.Join(BenchPaths, ", "))
}

// ParseFunc parses a call's name (not "floor"); an unknown one gives an
// error listing the valid ones.
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

// HeadlineClock is the clock the summaries show for calls that take one.
const HeadlineClock = "MONOTONIC"

// Headline is one (function, clock) the summaries show.
type Headline struct {
	Func  Func
	Clock string // HeadlineClock for a call that takes a clock id, else ""
}

// Headlines lists what the run's summary and the comparison figure show,
// in table order: every call, on HeadlineClock when it takes a clock id.
func Headlines() []Headline {
	hs := make([]Headline, len(Calls))
	for i, c := range Calls {
		hs[i].Func = c.Func
		if c.Clocked {
			hs[i].Clock = HeadlineClock
		}
	}
	return hs
}
