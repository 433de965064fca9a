package probes

import (
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/vbench-dev/vbench/probes/vdso"
	"github.com/vbench-dev/vbench/probes/vsyscall"
	"github.com/vbench-dev/vbench/runfile"
)

// The registry of calls: each function vbench times and checks is one row
// of Calls, and everything else derives from it: the bench cells and their
// operations (bench.go), the single calls verify makes (call.go), the
// function lists of the CLI and the plots, and the cells' benchmark names
// (runfile.Cell.Name turns "clock_gettime" into "ClockGettime"). Adding a
// function is one row here plus its check in package verify (a test keeps
// the two in step); a row whose vDSO function needs setting up first names
// a prepare function (getrandom's opaque state, getrandom.go).

// The functions, paths and clocks are runfile's words (runfile/vocab.go):
// a row here is keyed by its runfile.Function, whose runfile.CallInfo
// holds what a reader of a run knows of the call (Clocked, Vsyscall); the
// rest of the row is what calling it needs.

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
// the row's NoSyscall gives.
const noTrap = ^uintptr(0)

// Call is one row of the registry.
type Call struct {
	Func runfile.Function
	// VDSO is the vDSO function's base name; the symbol is vdso.Prefix+VDSO
	// (vdso_amd64.go, vdso_arm64.go). Where an architecture's vDSO has no
	// such function, NoVDSO says why and the path is unavailable.
	VDSO string
	// Vsyscall is the entry on the vsyscall page; 0 when the page has
	// none (it has only gettimeofday, time and getcpu:
	// arch/x86/entry/vsyscall/vsyscall_64.c; runfile.CallInfo.Vsyscall
	// says the same, a test keeps them in step). Then no cell, no check
	// and no skip exists for that path: no kernel has it. On architectures
	// without the page (vsyscall.Exists false) the entries' cells exist
	// and are unavailable, with the reason.
	Vsyscall uintptr
	// NoVDSO and NoSyscall say, by GOARCH, why that architecture never has
	// the call through the vDSO or as a system call (arm64's vDSO has no
	// time or getcpu, arm64 no time syscall): those cells are unavailable
	// with the reason rather than "no symbol", which would suggest an old
	// kernel. A given kernel may still lack a symbol elsewhere (getrandom
	// before 6.11): Target then says the symbol is missing.
	NoVDSO, NoSyscall map[string]string
	// Fallback is what lib/vdso does with the call: in user space, from
	// the clocksource, or handed to the kernel (fallback.go), by the
	// clock's Class for calls that take one.
	Fallback Fallback
	// ClockData is true for the calls answered from the kernel's clock
	// data (the time of day, a clock, a clock's resolution): a time
	// namespace changes them (its VVAR page, its offsets), and only them.
	ClockData bool
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
	{Func: runfile.FuncGettimeofday, ClockData: true, VDSO: "gettimeofday", Vsyscall: vsyscall.Gettimeofday, Trap: unix.SYS_GETTIMEOFDAY,
		Fallback: Fallback{Plan: planClocksource}, // do_hres(CLOCK_REALTIME)
		Args:     []Arg{ArgTimeval, ArgZero}},     // gettimeofday(tv, NULL)
	{Func: runfile.FuncTime, ClockData: true, VDSO: "time", Vsyscall: vsyscall.Time, Trap: sysTime,
		NoVDSO:    map[string]string{"arm64": "the arm64 vDSO has no time (arch/arm64/kernel/vdso/vdso.lds.S exports none)"},
		NoSyscall: map[string]string{"arm64": "arm64 has no time syscall (include/uapi/asm-generic/unistd.h defines none for 64-bit ports)"},
		Fallback:  Fallback{Plan: planUserSpace}, // __cvdso_time reads the stored seconds of CLOCK_REALTIME
		Args:      []Arg{ArgZero}},               // time(NULL)
	{Func: runfile.FuncClockGettime, ClockData: true, VDSO: "clock_gettime", Trap: unix.SYS_CLOCK_GETTIME,
		Fallback: Fallback{ByClass: map[ClockClass]vdsoPlan{ClassHres: planClocksource, ClassCoarse: planUserSpace, ClassKernel: planSyscall, ClassAux: planEnabled}},
		Args:     []Arg{ArgClock, ArgTimespec}},
	{Func: runfile.FuncClockGetres, ClockData: true, VDSO: "clock_getres", Trap: unix.SYS_CLOCK_GETRES,
		// __cvdso_clock_getres_common answers the HRES, RAW, COARSE and
		// AUX ids from the data page (hrtimer_res, LOW_RES_NSEC,
		// aux_clock_resolution_ns) without reading the clocksource.
		Fallback: Fallback{ByClass: map[ClockClass]vdsoPlan{ClassHres: planUserSpace, ClassCoarse: planUserSpace, ClassKernel: planSyscall, ClassAux: planUserSpace}},
		Args:     []Arg{ArgClock, ArgTimespec}},
	{Func: runfile.FuncGetcpu, VDSO: "getcpu", Vsyscall: vsyscall.Getcpu, Trap: unix.SYS_GETCPU,
		NoVDSO: map[string]string{"arm64": "the arm64 vDSO has no getcpu (arch/arm64/kernel/vdso/vdso.lds.S exports none; the syscall exists)"},
		// arch/x86/entry/vdso/vgetcpu.c reads the CPU and node from RDPID
		// or the segment limit of the per-CPU GDT entry (LSL).
		Fallback: Fallback{Plan: planUserSpace},
		Args:     []Arg{ArgCPU, ArgNode, ArgZero}}, // getcpu(cpu, node, NULL)
	{Func: runfile.FuncGetrandom, VDSO: "getrandom", Trap: unix.SYS_GETRANDOM,
		Fallback: Fallback{Plan: planUnknown}, // depends on the RNG's state
		// getrandom(buf, 32, 0, state, state_len), lib/vdso/getrandom.c
		Args: []Arg{ArgRandom, ArgRandomLen, ArgZero, ArgRandomState, ArgRandomStateLen}, prepare: prepareGetrandom},
}

// CallOf returns fn's row.
func CallOf(fn runfile.Function) (Call, bool) {
	for _, c := range Calls {
		if c.Func == fn {
			return c, true
		}
	}
	return Call{}, false
}

// Info is c's facts for readers of a run (runfile.Calls).
func (c Call) Info() runfile.CallInfo {
	info, _ := c.Func.Info()
	return info
}

// Clocked is true when c's first argument is a clock id: bench makes one
// cell per clock.
func (c Call) Clocked() bool { return c.Info().Clocked }

// Has reports whether any kernel offers c through p (runfile.CallInfo.Has).
func (c Call) Has(p runfile.Path) bool { return c.Info().Has(p) }

// Symbol is the vDSO symbol of c, e.g. "__vdso_clock_gettime"
// (vdso.Prefix: "__kernel_" on arm64).
func (c Call) Symbol() string { return vdso.Prefix + c.VDSO }

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
	Op   runfile.Clock // the cell's Clock field, one of runfile.FloorOps
	kind int           // opEmpty, ...
}

// Floors are the floor operations, in table order: an empty loop, a C-ABI
// call of a function that only returns (what any vDSO call costs at
// least), then the two counter reads of the architecture (counterFloors:
// rdtsc and rdtscp on x86-64; mrs cntvct_el0 alone and after an isb on
// arm64). CounterFloor names the one the plots draw as the floor.
var Floors = append([]Floor{{runfile.OpEmpty, opEmpty}, {runfile.OpCall, opCallEmpty}}, counterFloors...)
