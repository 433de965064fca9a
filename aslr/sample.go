package aslr

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/vbench-dev/vbench/aslr/analysis"
	"github.com/vbench-dev/vbench/proc"
)

// Regions sampled, in table order. A sample's base of each:
//
//	vdso         start of [vdso] (= AT_SYSINFO_EHDR)
//	vvar         start of [vvar]
//	vvar_vclock  start of [vvar_vclock] (Linux 6.13+)
//	stack        start of the [stack] mapping (page granular, randomize_stack_top)
//	sp           the stack pointer at the exec stop (PTRACE_GETREGS): adds the
//	             sub-page offset of arch_align_stack
//	exe          lowest mapping of the executable's file (the file of the
//	             mapping holding AT_ENTRY)
//	mmap         the first thing the kernel put in the mmap region: the
//	             interpreter's base (AT_BASE) when there is one; for an ET_DYN
//	             without interpreter (vbench's target, a static PIE), the
//	             executable's base, since the kernel loads it there; absent
//	             for a static ET_EXEC
//	heap         start_brk from /proc/PID/stat (no [heap] mapping exists yet)
//
// That is how the ptrace path reads them, here. vbench's own target
// reports itself instead, and selfreport.go derives these very bases from
// its record; its checked samples compare the two.
var regionNames = analysis.Regions

const (
	rVdso = iota
	rVvar
	rVvarVclock
	rStack
	rSP
	rExe
	rMmap
	rHeap
	nRegions
)

// sample is the layout of one spawn.
type sample struct {
	base    [nRegions]uint64
	present [nRegions]bool
	// vsyscall page, if mapped
	vsyscall      uint64
	vsyscallPerms string
	// checked: a self-reported sample that /proc confirmed (selfreport.go)
	checked bool
}

// addrNoRandomize is ADDR_NO_RANDOMIZE from include/uapi/linux/personality.h
// (golang.org/x/sys/unix does not export it).
const addrNoRandomize = 0x0040000

// personality calls personality(2) on the current thread. 0xffffffff
// queries without changing.
func personality(p uint64) (uint64, error) {
	r, _, errno := unix.RawSyscall(unix.SYS_PERSONALITY, uintptr(p), 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return uint64(r), nil
}

// inheritedNoRandomize reports whether vbench itself runs with
// ADDR_NO_RANDOMIZE, as under `setarch -R`: every thread inherited it from
// the exec, and every spawn inherits it in turn, so a "randomized" run
// is not. Read on a thread of our own, which no control run changed.
func inheritedNoRandomize() bool {
	var p uint64
	lockedThread(false, func() (err error) {
		p, err = personality(0xffffffff)
		return err
	})
	return p&addrNoRandomize != 0
}

// spawner spawns and inspects targets. It must be used from one goroutine
// locked to its OS thread (runtime.LockOSThread): ptrace requests are only
// accepted from the tracer thread, the thread that forked the tracee, and
// PR_SET_PDEATHSIG fires when that thread (not the process) dies.
type spawner struct {
	t    *target
	argv []string
	attr *syscall.ProcAttr
	rd   procReader
	regs unix.PtraceRegs
	// pending is a child killed but not yet reaped: its teardown (exit_mmap
	// and the rest of do_exit) runs on the other CPU while the next child is
	// spawned, and it is reaped after that one is killed. reap reaps it.
	pending int
	// pipeline enables the deferred reaping (on by default).
	pipeline bool
}

// procReader reads a child's /proc files into buffers it reuses.
type procReader struct {
	buf  []byte
	path []byte
	maps proc.Maps // the last child's, reused
	root string    // "" for /proc; tests give another
}

func newSpawner(t *target) *spawner {
	return &spawner{
		t:    t,
		argv: []string{targetName},
		attr: &syscall.ProcAttr{
			Env: []string{}, // the same small stack in every sample
			Sys: &syscall.SysProcAttr{
				// PTRACE_TRACEME: the child stops with SIGTRAP right after
				// its execve succeeds, before its first instruction.
				Ptrace: true,
				// Killed if vbench's sampling thread dies, whatever the cause.
				Pdeathsig: syscall.SIGKILL,
				// Its own process group: a Ctrl-C at the terminal reaches
				// vbench, which stops cleanly, and not the children.
				Setpgid: true,
			},
			Files: t.files(-1, -1, -1),
		},
		pipeline: true,
	}
}

// reap reaps the pending child, if any. Every user of a spawner calls it
// before giving the spawner up.
func (s *spawner) reap() error {
	if s.pending == 0 {
		return nil
	}
	pid := s.pending
	s.pending = 0
	return s.wait(pid)
}

// errChildGone reports a child that exited instead of stopping at exec.
var errChildGone = errors.New("target did not stop at exec")

// one spawns the target, reads its layout at the exec stop and kills it.
// It never returns with the child alive: the child is killed, and reaped
// either now or, pipelined, after the next child is killed (reap reaps the
// last one).
func (s *spawner) one(out *sample) error {
	pid, err := syscall.ForkExec(s.t.path, s.argv, s.attr)
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		// The child's PTRACE_TRACEME or its execve was refused; ForkExec
		// reports the errno without saying which. access(2) answers for
		// the execve without running the target: it checks the execute
		// bits and a noexec mount as execve does (fs/open.c
		// do_faccessat). If the target may be executed, ptrace was the
		// step refused.
		if aerr := unix.Access(s.t.ownPath(), unix.X_OK); aerr != nil {
			return fmt.Errorf("%w: spawning %s: %w", ErrTarget, s.t.label, aerr)
		}
		return ptraceDenied(err, proc.Live, "/proc/thread-self/status")
	}
	if errors.Is(err, unix.ENOEXEC) {
		// The kernel will not run it: bad input, not a failed measurement.
		return fmt.Errorf("%w: spawning %s: %w", ErrTarget, s.t.label, err)
	}
	if err != nil {
		return fmt.Errorf("spawning %s: %w", s.t.label, err)
	}
	gone, rerr := s.waitExec(pid)
	if gone {
		// Already reaped by waitExec: its pid is no longer ours to signal.
		if err := s.reap(); err != nil && rerr == nil {
			rerr = err
		}
		return rerr
	}
	if rerr == nil {
		rerr = s.inspect(pid, out)
	}
	// SIGKILL works on a ptrace-stopped child; wait4 then reaps it.
	unix.Kill(pid, unix.SIGKILL)
	if err := s.reap(); err != nil && rerr == nil {
		rerr = err
	}
	s.pending = pid
	if !s.pipeline || rerr != nil {
		if err := s.reap(); err != nil && rerr == nil {
			rerr = err
		}
	}
	return rerr
}

// ErrPtrace is wrapped when the kernel refuses to let vbench trace the
// children it spawns, which sampling needs (PTRACE_TRACEME in the child,
// through SysProcAttr.Ptrace).
var ErrPtrace = errors.New("ptrace denied")

// ptraceDenied explains a refused PTRACE_TRACEME: errno, then what on this
// machine can refuse it, read from procfs (and status, this thread's
// /proc status file): the Yama LSM's kernel.yama.ptrace_scope
// (Documentation/admin-guide/LSM/Yama.rst: 2 lets only CAP_SYS_PTRACE
// trace, even one's own children; 3 lets no process trace), a seccomp
// filter (container runtimes install one; a filter may fail ptrace with
// EPERM), and whether the thread holds CAP_SYS_PTRACE.
func ptraceDenied(errno error, fs proc.FS, status string) error {
	var facts []string
	capPtrace, capKnown := false, false
	seccomp := ""
	if b, err := os.ReadFile(status); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			k, v, _ := strings.Cut(line, ":")
			v = strings.TrimSpace(v)
			switch k {
			case "Seccomp":
				seccomp = v
			case "CapEff":
				if caps, err := strconv.ParseUint(v, 16, 64); err == nil {
					capPtrace, capKnown = caps&(1<<unix.CAP_SYS_PTRACE) != 0, true
				}
			}
		}
	}
	scope, serr := fs.Sysctl("kernel.yama.ptrace_scope")
	switch {
	case serr != nil:
		facts = append(facts, "no Yama (kernel.yama.ptrace_scope absent)")
	case scope == "3":
		facts = append(facts, "kernel.yama.ptrace_scope is 3: no process may trace, until the next boot")
	case scope == "2" && capKnown && !capPtrace:
		facts = append(facts, "kernel.yama.ptrace_scope is 2: only CAP_SYS_PTRACE may trace, which vbench lacks")
	default:
		facts = append(facts, "kernel.yama.ptrace_scope is "+scope+", which allows tracing one's own children")
	}
	switch seccomp {
	case "", "0":
	case "2":
		facts = append(facts, "vbench runs under a seccomp filter (Seccomp: 2), as in a container, which may refuse ptrace")
	default:
		facts = append(facts, "vbench runs in seccomp mode "+seccomp)
	}
	if capKnown && !capPtrace {
		facts = append(facts, "no CAP_SYS_PTRACE")
	}
	return fmt.Errorf("%w: the sampled child could not ask to be traced (PTRACE_TRACEME: %w); %s",
		ErrPtrace, errno, strings.Join(facts, "; "))
}

// waitExec waits for pid's exec stop (SIGTRAP). gone reports that the child
// ended instead, and has been reaped.
func (s *spawner) waitExec(pid int) (gone bool, err error) {
	var ws unix.WaitStatus
	for {
		_, err = unix.Wait4(pid, &ws, 0, nil)
		if err != unix.EINTR {
			break
		}
	}
	switch {
	case err != nil:
		return false, fmt.Errorf("wait4(%d): %w", pid, err)
	case ws.Exited() || ws.Signaled():
		return true, fmt.Errorf("%w: %s (status %#x)", errChildGone, s.t.label, uint32(ws))
	case ws.Stopped() && ws.StopSignal() == unix.SIGTRAP:
		return false, nil
	case ws.Stopped():
		return false, fmt.Errorf("%w: stopped by %v before exec", errChildGone, ws.StopSignal())
	}
	return false, fmt.Errorf("wait4(%d): unexpected status %#x", pid, uint32(ws))
}

// wait waits for pid to end, after SIGKILL.
func (s *spawner) wait(pid int) error {
	_, err := waitEnd(pid)
	return err
}

// waitEnd reaps pid and returns how it ended, waiting past EINTR and past
// stops (a stop reported before a SIGKILL took effect: SIGKILL ends it).
func waitEnd(pid int) (unix.WaitStatus, error) {
	for {
		var ws unix.WaitStatus
		_, err := unix.Wait4(pid, &ws, 0, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return ws, fmt.Errorf("wait4(%d): %w", pid, err)
		}
		if ws.Exited() || ws.Signaled() {
			return ws, nil
		}
	}
}

func (s *procReader) read(pid int, name string) ([]byte, error) {
	if s.buf == nil {
		s.buf = make([]byte, 16<<10)
	}
	s.path = append(append(s.path[:0], s.root...), "/proc/"...)
	s.path = strconv.AppendInt(s.path, int64(pid), 10)
	s.path = append(s.path, '/')
	s.path = append(s.path, name...)
	fd, err := unix.Open(string(s.path), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", s.path, err)
	}
	defer unix.Close(fd)
	n := 0
	for {
		if n == len(s.buf) {
			s.buf = append(s.buf, make([]byte, len(s.buf))...)
		}
		m, err := unix.Read(fd, s.buf[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", s.path, err)
		}
		if m == 0 {
			return s.buf[:n], nil
		}
		n += m
	}
}

func (s *spawner) inspect(pid int, out *sample) error {
	if err := s.rd.layout(pid, s.t.loader, out); err != nil {
		return err
	}
	if err := unix.PtraceGetRegs(pid, &s.regs); err != nil {
		return fmt.Errorf("PTRACE_GETREGS: %w", err)
	}
	out.base[rSP], out.present[rSP] = stackPointer(&s.regs), true
	return nil
}

// syscallSP reads the user stack pointer of a child blocked or stopped in a
// system call from /proc/PID/syscall ("nr arg1 ... arg6 sp pc", or "-1 sp
// pc" outside one: fs/proc/base.c proc_pid_syscall).
func (s *procReader) syscallSP(pid int) (uint64, error) {
	b, err := s.read(pid, "syscall")
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return 0, fmt.Errorf("/proc/%d/syscall: %q: no stack pointer", pid, b)
	}
	sp, err := strconv.ParseUint(strings.TrimPrefix(f[len(f)-2], "0x"), 16, 64)
	if err != nil {
		return 0, fmt.Errorf("/proc/%d/syscall: %q: %w", pid, b, err)
	}
	return sp, nil
}

// layout reads every base but sp from /proc/PID/auxv, stat and maps.
func (s *procReader) layout(pid int, loader bool, out *sample) error {
	*out = sample{}
	b, err := s.read(pid, "auxv")
	if err != nil {
		return err
	}
	auxv, err := proc.ParseAuxv(b)
	if err != nil {
		return err
	}
	b, err = s.read(pid, "stat")
	if err != nil {
		return err
	}
	st, err := proc.ParseStat(b)
	if err != nil {
		return err
	}
	b, err = s.read(pid, "maps")
	if err != nil {
		return err
	}
	// Into the previous child's storage: at thousands of children a
	// second, the parse should make little garbage (proc.AppendMaps).
	ms, err := proc.AppendMaps(s.maps[:0], b)
	if err != nil {
		return fmt.Errorf("/proc/%d/maps: %w", pid, err)
	}
	s.maps = ms
	set := func(r int, v uint64) { out.base[r], out.present[r] = v, true }
	if st.StartBrk != 0 {
		set(rHeap, st.StartBrk)
	}
	entry, _ := auxv.Get(proc.AT_ENTRY)
	var exe *proc.Mapping
	for i := range ms {
		m := &ms[i]
		if m.Start <= entry && entry < m.End && m.Inode != 0 {
			exe = m
			break
		}
	}
	for i := range ms {
		m := &ms[i]
		switch m.Path {
		case "[vdso]":
			set(rVdso, m.Start)
		case "[vvar]":
			set(rVvar, m.Start)
		case "[vvar_vclock]":
			set(rVvarVclock, m.Start)
		case "[stack]":
			set(rStack, m.Start)
		case "[vsyscall]":
			out.vsyscall, out.vsyscallPerms = m.Start, m.Perms
		}
		if exe != nil && m.Inode == exe.Inode && m.Dev == exe.Dev && (!out.present[rExe] || m.Start < out.base[rExe]) {
			set(rExe, m.Start)
		}
	}
	if base, _ := auxv.Get(proc.AT_BASE); base != 0 {
		set(rMmap, base)
	} else if loader && out.present[rExe] {
		set(rMmap, out.base[rExe])
	}
	if !out.present[rVdso] {
		// A kernel built without the vDSO or booted with vdso=0 has no
		// mapping; AT_SYSINFO_EHDR is then absent too.
		if v, ok := auxv.Get(proc.AT_SYSINFO_EHDR); ok && v != 0 {
			set(rVdso, v)
		}
	}
	return nil
}

// lockedThread runs f on a goroutine locked to its OS thread, with
// ADDR_NO_RANDOMIZE set on that thread if noRandomize, and waits for it. If
// the personality cannot be restored, the thread is not unlocked and so
// dies with the goroutine instead of serving other goroutines with
// randomization off. The Go runtime never clones its own new threads from
// a thread locked with LockOSThread (runtime/proc.go:newm hands the job to
// its template thread, "the kernel state of this thread may be strange"),
// so the personality does not leak into other Go threads either.
func lockedThread(noRandomize bool, f func() error) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if noRandomize {
			old, err := personality(0xffffffff)
			if err != nil {
				done <- fmt.Errorf("personality: %w", err)
				return // thread dies with the goroutine
			}
			if _, err := personality(old | addrNoRandomize); err != nil {
				done <- fmt.Errorf("personality(ADDR_NO_RANDOMIZE): %w", err)
				return
			}
			err = f()
			if _, rerr := personality(old); rerr != nil {
				done <- errors.Join(err, fmt.Errorf("restoring personality: %w", rerr))
				return
			}
			runtime.UnlockOSThread()
			done <- err
			return
		}
		err := f()
		runtime.UnlockOSThread()
		done <- err
	}()
	return <-done
}
