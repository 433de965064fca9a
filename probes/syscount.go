package probes

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vbench-dev/vbench/probes/vdso"
	"github.com/vbench-dev/vbench/proc"
	"github.com/vbench-dev/vbench/runfile"
)

// Counting syscalls without tracefs: a child process (this executable
// started again) makes the calls of each cell, and this process traces it
// with PTRACE_SYSCALL, counting the syscall-entry stops between markers, as
// strace -c does. The child is stopped at exec (PTRACE_TRACEME through
// SysProcAttr.Ptrace) and told what to call through the environment; it
// does its work when main (or TestMain) calls RunChild first thing, on the
// main thread (child.go's init locks it there; the child checks gettid() ==
// getpid()), and that thread is the only one traced: threads the runtime clones are
// not (no PTRACE_O_TRACECLONE). Asynchronous preemption is off in the
// child (GODEBUG=asyncpreemptoff=1), so no SIGURG handler's rt_sigreturn is
// counted.
//
// Before each cell the child issues a marker, getpid with syscountMagic in
// the first argument register and the cell's index in the second: getpid
// ignores its arguments, and nothing else in the child passes that value.
//
// Between markers the Go runtime may still enter the kernel on that thread
// (a futex when the scheduler parks the locked thread at a preemption
// request; GOGC=off in the child keeps the collector from asking). Those
// are not the call's: a syscall counts only when it was issued from the
// child's vDSO (a vDSO function handing the call to the kernel: the
// syscall-entry stop's RIP, or PC on arm64, lies in the [vdso] mapping) or,
// for the syscall path, when it is the cell's own syscall number. The
// registers are read per architecture (syscallRegs, syscalls_*.go).

// syscountEnv turns a vbench process into a counting child; its value is
// the number of calls per cell, then one cell per ';': FUNC/CLOCK/PATH.
const syscountEnv = "VBENCH_SYSCALL_COUNT"

// syscountMagic marks the child's markers ("vbenchSC" in ASCII).
const syscountMagic = 0x7662656e63685343

// syscountCalls is how many calls of each cell the child makes.
const syscountCalls = 100

// syscountTimeout bounds the whole child.
const syscountTimeout = 30 * time.Second

// countCell is one cell the child calls.
type countCell struct {
	fn    runfile.Function
	clock Clock
	path  runfile.Path
}

// owns reports whether a syscall entered with number nr from address rip
// was made by the cell's call (see above): from the vDSO [lo, hi), or the
// cell's own number through the syscall path.
func (c countCell) owns(nr, rip, lo, hi uint64) bool {
	if rip >= lo && rip < hi {
		return true
	}
	call, _ := CallOf(c.fn)
	return c.path == runfile.PathSyscall && nr == uint64(call.Trap)
}

func (c countCell) String() string {
	return string(c.fn) + "/" + string(c.clock.Name) + "/" + string(c.path)
}

// syscountChild is the child's side: make n calls of each cell, each run
// of calls after a marker. It returns the exit status.
func syscountChild(spec string) int {
	runtime.LockOSThread()
	if tid, pid := unix.Gettid(), unix.Getpid(); tid != pid {
		fmt.Fprintf(os.Stderr, "%s: on thread %d, not the traced main thread %d (call probes.RunChild first in main)\n", syscountEnv, tid, pid)
		return 2
	}
	nStr, rest, _ := strings.Cut(spec, ";")
	n, err := strconv.ParseInt(nStr, 10, 64)
	if err != nil || n < 1 {
		fmt.Fprintf(os.Stderr, "%s: bad call count %q\n", syscountEnv, nStr)
		return 2
	}
	cells, err := parseCountCells(rest)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", syscountEnv, err)
		return 2
	}
	// The parent only asks for vsyscall cells it has found callable.
	d := &Doors{VsyscallCallable: true}
	d.VDSO, d.VDSOErr = vdso.Open()
	d, release := withRseq(d, runfile.Paths) // for the rseq cells, which count 0 syscalls
	defer release()
	ops := make([]loopOp, len(cells))
	for i, c := range cells {
		call, _ := CallOf(c.fn)
		var why string
		if ops[i], why = opFor(call, c.clock, c.path, d); why != "" {
			fmt.Fprintf(os.Stderr, "%s: %s\n", c, why)
			return 1
		}
	}
	for i, op := range ops {
		unix.RawSyscall(unix.SYS_GETPID, syscountMagic, uintptr(i), 0)
		restore := op.guard() // rt_sigprocmask on arm64: not the call's (see owns)
		op.run(n)
		restore()
	}
	unix.RawSyscall(unix.SYS_GETPID, syscountMagic, uintptr(len(ops)), 0)
	return 0
}

func parseCountCells(s string) ([]countCell, error) {
	var cells []countCell
	for _, f := range strings.Split(s, ";") {
		parts := strings.Split(f, "/")
		if len(parts) != 3 {
			return nil, fmt.Errorf("bad cell %q", f)
		}
		fn, err := runfile.ParseFunction(parts[0], false)
		if err != nil {
			return nil, err
		}
		p, err := runfile.ParsePath(parts[2])
		if err != nil {
			return nil, err
		}
		var c Clock
		if parts[1] != "" {
			if c, err = ClockByName(parts[1]); err != nil {
				return nil, err
			}
		}
		cells = append(cells, countCell{fn, c, p})
	}
	return cells, nil
}

// errTraceStop is an unexpected stop or exit of the counting child.
var errTraceStop = errors.New("syscall-counting child")

// countSyscalls runs the child for cells and returns, for each, the
// syscalls it entered per call. It runs on its own goroutine locked to its
// thread: ptrace requests are accepted only from the tracer thread.
func countSyscalls(cells []countCell) ([]float64, error) {
	type result struct {
		counts []int64
		err    error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		c, err := traceChild(cells, syscountCalls)
		done <- result{c, err}
	}()
	r := <-done
	if r.err != nil {
		return nil, r.err
	}
	per := make([]float64, len(cells))
	for i, n := range r.counts {
		per[i] = float64(n) / syscountCalls
	}
	return per, nil
}

// traceChild starts the child and counts its syscall-entry stops per
// cell. The child dies with this thread (Pdeathsig) or with the tracer
// (PTRACE_O_EXITKILL), and is killed on any error.
func traceChild(cells []countCell, n int) ([]int64, error) {
	if !dispatching.Load() {
		return nil, fmt.Errorf("%w: %v", errTraceStop, errNoDispatch)
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("%w: finding this executable: %v", errTraceStop, err)
	}
	specs := make([]string, len(cells))
	for i, c := range cells {
		specs[i] = c.String()
	}
	env := append(os.Environ(), "GODEBUG=asyncpreemptoff=1", "GOGC=off", syscountEnv+"="+strconv.Itoa(n)+";"+strings.Join(specs, ";"))
	pid, err := syscall.ForkExec(exe, []string{exe}, &syscall.ProcAttr{
		Env:   env,
		Files: []uintptr{0, 1, 2},
		Sys:   &syscall.SysProcAttr{Ptrace: true, Pdeathsig: syscall.SIGKILL, Setpgid: true},
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errTraceStop, err)
	}
	ok := false
	defer func() {
		if !ok {
			unix.Kill(pid, unix.SIGKILL)
			var ws unix.WaitStatus
			unix.Wait4(pid, &ws, 0, nil)
		}
	}()
	var ws unix.WaitStatus
	if _, err := unix.Wait4(pid, &ws, 0, nil); err != nil || !ws.Stopped() || ws.StopSignal() != unix.SIGTRAP {
		return nil, fmt.Errorf("%w: did not stop at exec (%v, status %#x)", errTraceStop, err, uint32(ws))
	}
	// The child's vDSO, mapped by execve: where a fallback's syscall comes from.
	var vdsoLo, vdsoHi uint64
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", pid)); err == nil {
		if ms, err := proc.ParseMaps(bytes.NewReader(b)); err == nil {
			if m, ok := ms.Find("[vdso]"); ok {
				vdsoLo, vdsoHi = m.Start, m.End
			}
		}
	}
	if err := unix.PtraceSetOptions(pid, unix.PTRACE_O_TRACESYSGOOD|unix.PTRACE_O_EXITKILL); err != nil {
		return nil, fmt.Errorf("%w: PTRACE_SETOPTIONS: %v", errTraceStop, err)
	}
	counts := make([]int64, len(cells))
	cur := -1       // the cell whose calls are running, -1 before the first marker
	inside := false // between a syscall's entry stop and its exit stop
	sig := 0
	var regs unix.PtraceRegs
	deadline := time.Now().Add(syscountTimeout)
	for {
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%w: no result in %v", errTraceStop, syscountTimeout)
		}
		if err := unix.PtraceSyscall(pid, sig); err != nil {
			return nil, fmt.Errorf("%w: PTRACE_SYSCALL: %v", errTraceStop, err)
		}
		sig = 0
		if _, err := unix.Wait4(pid, &ws, 0, nil); err != nil {
			return nil, fmt.Errorf("%w: wait4: %v", errTraceStop, err)
		}
		switch {
		case ws.Exited():
			ok = true
			if ws.ExitStatus() != 0 || cur != len(cells) {
				return nil, fmt.Errorf("%w: exited with status %d after %d of %d cells", errTraceStop, ws.ExitStatus(), max(cur, 0), len(cells))
			}
			return counts, nil
		case ws.Signaled():
			ok = true
			return nil, fmt.Errorf("%w: killed by %v", errTraceStop, ws.Signal())
		case ws.Stopped() && ws.StopSignal() == unix.SIGTRAP|0x80: // a syscall stop (PTRACE_O_TRACESYSGOOD)
			inside = !inside
			if !inside {
				continue // exit stop
			}
			if err := unix.PtraceGetRegs(pid, &regs); err != nil {
				return nil, fmt.Errorf("%w: PTRACE_GETREGS: %v", errTraceStop, err)
			}
			nr, a0, a1, pc := syscallRegs(&regs)
			if nr == unix.SYS_GETPID && a0 == syscountMagic {
				cur = int(a1)
				continue
			}
			if cur >= 0 && cur < len(cells) && cells[cur].owns(nr, pc, vdsoLo, vdsoHi) {
				counts[cur]++
			}
		case ws.Stopped():
			sig = int(ws.StopSignal()) // a signal for the child: deliver it
		}
	}
}
