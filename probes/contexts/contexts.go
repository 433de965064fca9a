// Package contexts places a vbench child process in a measuring context: a
// new time namespace whose MONOTONIC and BOOTTIME clocks are offset, or a
// seccomp filter (a container-like allowlist the kernel can cache, or the
// same with an argument check on the timed system calls, which it cannot).
// The child is this executable started again; what it measures there is
// package probes' business, so this package knows nothing of the calls
// beyond the system call numbers it is handed.
//
// The parent side is Command (the child's exec.Cmd, with the namespaces
// it must be cloned into); the child side is Asked and Enter, called first
// thing in the child. Each context's definition (Defs) says which cells it
// applies to: a time namespace changes only what reads a clock, a seccomp
// filter only what enters the kernel, so neither measures what it cannot
// change, beyond the vDSO cells that show it unchanged.
//
// It assumes Linux: time namespaces since 5.6 (CONFIG_TIME_NS; entered at
// exec since 5.16, kernel/nsproxy.c exec_task_namespaces), seccomp filters
// with TSYNC since 3.17, the filter cache since 5.11.
package contexts

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vbench-dev/vbench/runfile"
)

// Def says what a context applies to.
type Def struct {
	Name runfile.Context
	// ClockCalls is true when only the calls that read a clock are
	// measured there (the time namespace changes nothing else).
	ClockCalls bool
	// Clocks are the clocks its clocked cells take, in the order of the
	// clock registry; nil takes every clock selected.
	Clocks []runfile.Clock
	// Paths are the paths it applies to; nil applies to none (plain has
	// all: Applies says so).
	Paths []runfile.Path
	// Doc says in one line what the context is.
	Doc string
}

// Defs are the contexts, in runfile.Contexts' order. The clocks are chosen
// so that each context's cells cost less than the plain context's:
//   - timens: MONOTONIC and BOOTTIME (offset), MONOTONIC_COARSE (offset,
//     and the vDSO path that gettime_perf.c found slower inside),
//     MONOTONIC_RAW (offset too) and REALTIME (never offset), through
//     every door that reads a clock;
//   - seccomp: one clock of each way lib/vdso/gettimeofday.c treats a
//     clock (MONOTONIC read from the clocksource, MONOTONIC_COARSE from the
//     data page, PROCESS_CPUTIME_ID handed to the kernel), every call,
//     through the syscall (what a filter taxes), the vsyscall page (whose
//     emulation runs the filter too: arch/x86/entry/vsyscall/vsyscall_64.c)
//     and the vDSO (untouched, except where it falls back).
var Defs = []Def{
	{Name: runfile.ContextPlain, Doc: "the process as started"},
	{Name: runfile.ContextTimens, ClockCalls: true,
		Clocks: []runfile.Clock{runfile.ClockRealtime, runfile.ClockMonotonic, runfile.ClockMonotonicRaw, runfile.ClockMonotonicCoarse, runfile.ClockBoottime},
		Paths:  kernelPaths,
		Doc:    "a time namespace, MONOTONIC and BOOTTIME offset by ten days"},
	{Name: runfile.ContextSeccompAllowlist,
		Clocks: oneOfEach,
		Paths:  kernelPaths,
		Doc:    "a container-like seccomp allowlist the kernel can cache"},
	{Name: runfile.ContextSeccompArgcheck,
		Clocks: oneOfEach,
		Paths:  kernelPaths,
		Doc:    "the same allowlist with an argument check on the timed syscalls"},
}

// kernelPaths are the doors that reach the kernel's clock data: not rseq.
var kernelPaths = []runfile.Path{runfile.PathSyscall, runfile.PathVDSO, runfile.PathVsyscall}

// oneOfEach is a clock of each way lib/vdso treats a clock: from the
// clocksource, from the data page, handed to the kernel.
var oneOfEach = []runfile.Clock{runfile.ClockMonotonic, runfile.ClockMonotonicCoarse, runfile.ClockProcessCPUTimeID}

// DefOf returns ctx's definition.
func DefOf(ctx runfile.Context) Def {
	for _, d := range Defs {
		if d.Name == ctx.Or() {
			return d
		}
	}
	return Def{Name: ctx}
}

// Applies reports whether the context measures a cell of a call on a path
// and clock ("" for a call without a clock): plain measures everything.
// readsClock says whether the call reads a clock.
func (d Def) Applies(readsClock bool, clock runfile.Clock, path runfile.Path) bool {
	if d.Name == runfile.ContextPlain {
		return true
	}
	if !slices.Contains(d.Paths, path) || (d.ClockCalls && !readsClock) {
		return false
	}
	return clock == "" || d.Clocks == nil || slices.Contains(d.Clocks, clock)
}

// TimensOffsetClocks are the clocks a time namespace moves: MONOTONIC's
// offset applies to MONOTONIC, MONOTONIC_RAW and MONOTONIC_COARSE,
// BOOTTIME's to BOOTTIME and BOOTTIME_ALARM (the VVAR page's offsets,
// kernel/time/namespace.c, namespace_vdso.c since 7.0; the syscalls'
// timens_add_monotonic and timens_add_boottime). Every other clock, the
// time of day and time() are not moved.
var TimensOffsetClocks = []runfile.Clock{runfile.ClockMonotonic, runfile.ClockMonotonicRaw, runfile.ClockMonotonicCoarse, runfile.ClockBoottime, runfile.ClockBoottimeAlarm}

// TimensOffset is how far the time namespace moves MONOTONIC and BOOTTIME
// ahead: ten days, far beyond any delay between two reads.
const TimensOffset = 10 * 24 * time.Hour

// OffsetText is TimensOffset as the tables say it: "+10 days".
func OffsetText() string { return fmt.Sprintf("+%d days", TimensOffset/(24*time.Hour)) }

// Environment of a context child.
const (
	// Env names the context a child is to enter.
	Env = "VBENCH_CONTEXT"
	// stageEnv is set once a timens child has made its namespace and
	// re-executed itself into it.
	stageEnv = "VBENCH_CONTEXT_STAGE"
)

// Command returns the command that starts exe (this executable) as a child
// placed in ctx, with args; the caller sets its standard streams. The
// child must call Enter first thing. A time namespace needs
// CAP_SYS_ADMIN: an unprivileged parent gets its child a new user
// namespace too (CLONE_NEWUSER, itself mapped to root in it), in which the
// child has it.
func Command(exe string, ctx runfile.Context, args ...string) *exec.Cmd {
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), Env+"="+string(ctx))
	attr := &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if ctx == runfile.ContextTimens && os.Geteuid() != 0 {
		attr.Cloneflags = unix.CLONE_NEWUSER
		attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Geteuid(), Size: 1}}
		attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getegid(), Size: 1}}
	}
	cmd.SysProcAttr = attr
	return cmd
}

// Asked returns the context this process was started to enter, if it is a
// context child.
func Asked() (runfile.Context, bool) {
	v, ok := os.LookupEnv(Env)
	if !ok {
		return "", false
	}
	return runfile.Context(v), true
}

// Forget drops the context from this process's environment once it is
// entered, so that the children it starts are not context children.
func Forget() {
	os.Unsetenv(Env)
	os.Unsetenv(stageEnv)
}

// Syscall is a timed system call, by name and number, as the child's
// registry knows it: the argcheck filter checks an argument of each.
type Syscall struct {
	Name string
	Nr   uintptr
}

// Enter places the calling process (a context child) in ctx and says how;
// an error says why it cannot be (the parent reports the context
// unavailable with that reason). A time namespace is entered by
// re-executing this program: Enter then does not return in the first
// process image, and returns in the second. timed are the system calls
// being measured: the argcheck filter checks an argument of each, and both
// filters report whether the kernel cached them.
func Enter(ctx runfile.Context, timed []Syscall) (runfile.ContextInfo, error) {
	info := runfile.ContextInfo{Name: ctx}
	var err error
	switch ctx {
	case runfile.ContextTimens:
		err = enterTimens(&info)
	case runfile.ContextSeccompAllowlist, runfile.ContextSeccompArgcheck:
		err = enterSeccomp(&info, ctx, timed)
	case runfile.ContextPlain:
	default:
		err = fmt.Errorf("unknown context %q", ctx)
	}
	return info, err
}

// statusLines returns the named fields of /proc/self/status, as "Name: v"
// joined by ", ".
func statusLines(names ...string) string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "/proc/self/status: " + err.Error()
	}
	var parts []string
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && slices.Contains(names, k) {
			parts = append(parts, k+": "+strings.TrimSpace(v))
		}
	}
	return strings.Join(parts, ", ")
}
