package aslr

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// Self-reporting: vbench's own target (target.go, target_GOARCH.go) writes
// its layout down a pipe, so a sample costs one vfork+exec and one wait4,
// with no ptrace stop and no /proc read. The target sees only what the
// kernel gives every process; each region of sample.go is derived from
// that record as follows (derive):
//
//	vdso         AT_SYSINFO_EHDR (absent when the auxv has none: vdso=0)
//	vvar         vdso + an offset read from /proc/PID/maps (mapsLayout)
//	vvar_vclock  the same
//	stack        the top of the stack VMA, minus its size read from maps.
//	             The top is exact: __bprm_mm_init (fs/exec.c) leaves one
//	             NULL word at the very top of the new stack and the file
//	             name is the first string copied below it (bprm->exec, what
//	             create_elf_tables in fs/binfmt_elf.c passes as AT_EXECFN);
//	             setup_arg_pages moves the whole VMA by whole pages. So the
//	             top is AT_EXECFN + len(path) + 1 + one word, and it must be
//	             page aligned. The VMA's size is the argument pages plus
//	             setup_arg_pages' 128 KiB stack_expand: the same in every
//	             sample, since argv and envp are.
//	sp           the target's stack pointer at its first instruction (what
//	             PTRACE_GETREGS gives at the exec stop)
//	exe          AT_PHDR - e_phoff: the one PT_LOAD segment has p_vaddr 0
//	             and holds the program headers, so load_elf_binary puts them
//	             at load_bias + e_phoff
//	mmap         AT_BASE when there is an interpreter; this target has none,
//	             so the executable's base, as the ptrace path reports for
//	             any ET_DYN without interpreter (the kernel loads it in the
//	             mmap region). The target does not call mmap(NULL): that
//	             lands below the vDSO, at a fixed distance from the same
//	             base, and would only measure a different point of the one
//	             secret.
//	heap         brk(0), which at the first instruction is mm->start_brk
//	[vsyscall]   read from maps (mapsLayout): the page is fixed by the ABI
//
// AT_RANDOM is reported too and checked to lie between sp and the top of
// the stack (its 16 bytes are part of what create_elf_tables builds there).
//
// Checked, not trusted: the first sample of every spawning thread, the
// first checkFirst samples of the run and one in checkEvery after that are
// spawned under ptrace as well (sample.go): at the exec stop /proc/PID/maps,
// auxv and stat and the registers give the bases the ptrace path reports;
// then the target is released, reports, and every derived base must equal
// the /proc one. A mismatch ends the run with ErrCheck, naming the region.
// The layout offsets (vvar, stack size, vsyscall) come from the first
// checked sample of each thread and are re-checked on every later one.

const (
	// The record: recordWords native words, slot by slot.
	slotMagic = iota
	slotSP
	slotSysinfoEhdr
	slotPhdr
	slotBase
	slotExecfn
	slotRandom
	slotBrk
	recordWords
	recordSize = recordWords * 8
	// reportMagic is the low half of the first word ("rsbv" in memory).
	reportMagic = 0x76627372

	checkFirst = 8
	checkEvery = 100
)

// ErrCheck is wrapped by the error that stops a run when a self-reported
// base differs from what /proc says.
var ErrCheck = errors.New("self-report check failed")

// errReport is wrapped by errors about a record that cannot be one.
var errReport = errors.New("bad report from the target")

// mapsLayout is what a record cannot tell and maps can, constant in a run.
type mapsLayout struct {
	vvar, vclock         int64 // offsets from the vDSO
	haveVvar, haveVclock bool
	stackSize            uint64 // of the stack VMA at exec
	vsyscall             uint64
	vsyscallPerms        string
}

// reporter spawns the reporting target and reads its records. Like a
// spawner, it belongs to one locked OS thread.
//
// Each spawn gets a pipe of its own, whose write end vbench closes as soon
// as the child has exec'd: the read then ends either with the whole record
// or, if the child died without writing it, with end-of-file, never
// blocking on a child that is gone. And as in the ptrace path's pipeline
// (sample.go), the child is reaped only after the next one is spawned: once
// it has written, its exit and teardown (exit_mmap and the rest of
// do_exit) overlap the next spawn instead of delaying it. (On the
// project's VM, loaded by other work while this was written, the two ways
// could not be told apart: the rates moved by more than their difference.)
type reporter struct {
	s       *spawner // traced spawns, for checked samples
	attr    *syscall.ProcAttr
	files   []uintptr // the children's fds 0, 1, 2: closed, the pipe, closed
	buf     [recordSize]byte
	lay     *mapsLayout
	page    uint64
	execfn  uint64 // len(path) + 1 + one word: AT_EXECFN to the top of the stack
	pending int    // the last child, which has reported and is not reaped yet
	// released is the traced child release let run, for checked
	released int
}

func newReporter(t *target) *reporter {
	s := newSpawner(t)
	s.pipeline = false
	// Standard output is the pipe; standard input and error are closed
	// (-1: syscall.forkAndExecInChild closes them), so nothing but /proc
	// is needed on a bare guest.
	closed := ^uintptr(0)
	files := []uintptr{closed, closed, closed}
	s.attr.Files = files
	sys := *s.attr.Sys
	sys.Ptrace = false // runs to its end: Pdeathsig and Setpgid as traced
	r := &reporter{
		s:      s,
		attr:   &syscall.ProcAttr{Env: s.attr.Env, Files: files, Sys: &sys},
		files:  files,
		page:   uint64(os.Getpagesize()),
		execfn: uint64(len(t.path)) + 1 + 8,
	}
	s.release = r.release
	return r
}

// close reaps the last child. Every user of a reporter calls it.
func (r *reporter) close() error {
	return errors.Join(r.s.reap(), r.reap())
}

// reap reaps the pending child, which must exit 0.
func (r *reporter) reap() error {
	if r.pending == 0 {
		return nil
	}
	pid := r.pending
	r.pending = 0
	return r.exited(pid)
}

// spawn runs start with a new pipe as the child's standard output, and
// returns the record the child writes there. A child that started is
// pending when the record is good, and reaped otherwise.
func (r *reporter) spawn(start func() (pid int, err error)) (*[recordWords]uint64, error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return nil, fmt.Errorf("pipe for the target's report: %w", err)
	}
	r.files[1] = uintptr(p[1])
	pid, err := start()
	unix.Close(p[1]) // the child has its own: EOF when it is gone
	r.files[1] = ^uintptr(0)
	if err != nil {
		unix.Close(p[0])
		return nil, err
	}
	rec, rerr := r.read(p[0])
	unix.Close(p[0])
	// The previous child has long written its record: reap it now that
	// this one runs.
	perr := r.reap()
	if rerr != nil {
		// Its exit status says more than the short read.
		if werr := r.exited(pid); werr != nil {
			return nil, werr
		}
		return nil, rerr
	}
	r.pending = pid
	return rec, perr
}

// one takes a sample; checked spawns it under ptrace too and compares.
func (r *reporter) one(out *sample, checked bool) error {
	if checked || r.lay == nil {
		return r.checked(out)
	}
	rec, err := r.spawn(func() (int, error) {
		pid, err := syscall.ForkExec(r.s.t.path, r.s.argv, r.attr)
		if err != nil {
			return 0, fmt.Errorf("spawning %s: %w", r.s.t.label, err)
		}
		return pid, nil
	})
	if err != nil {
		return err
	}
	return r.derive(rec, out)
}

// checked spawns the target traced: the spawner reads /proc at the exec
// stop into out, then release lets the target run and report.
func (r *reporter) checked(out *sample) error {
	rec, err := r.spawn(func() (int, error) {
		r.released = 0
		if err := r.s.one(out); err != nil {
			return 0, err // the spawner killed and reaped it
		}
		return r.released, nil
	})
	if err != nil {
		return err
	}
	if r.lay == nil {
		if r.lay, err = r.learn(rec, out); err != nil {
			return err
		}
	}
	var got sample
	if err := r.derive(rec, &got); err != nil {
		return err
	}
	got.checked = true
	if err := compare(&got, out); err != nil {
		return err
	}
	*out = got
	return nil
}

// release is the spawner's hook for a traced child stopped at exec and
// inspected: detach, so that it runs and reports. On error the child is
// killed and reaped.
func (r *reporter) release(pid int) error {
	if err := unix.PtraceDetach(pid); err != nil {
		unix.Kill(pid, unix.SIGKILL)
		r.s.wait(pid)
		return fmt.Errorf("PTRACE_DETACH: %w", err)
	}
	r.released = pid
	return nil
}

// exited reaps pid, which must exit 0 (it wrote its whole record).
func (r *reporter) exited(pid int) error {
	ws, err := waitEnd(pid)
	if err != nil {
		return err
	}
	switch {
	case ws.Signaled():
		return fmt.Errorf("%w: %s killed by %v", errReport, r.s.t.label, ws.Signal())
	case ws.ExitStatus() != 0:
		return fmt.Errorf("%w: %s exited with status %d (its write to the pipe failed)", errReport, r.s.t.label, ws.ExitStatus())
	}
	return nil
}

// read reads one record from fd: the whole record, or an error at
// end-of-file.
func (r *reporter) read(fd int) (*[recordWords]uint64, error) {
	n := 0
	for n < recordSize {
		m, err := unix.Read(fd, r.buf[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading the target's report: %w", err)
		}
		if m == 0 {
			return nil, fmt.Errorf("%w: %d bytes, want %d", errReport, n, recordSize)
		}
		n += m
	}
	var rec [recordWords]uint64
	for i := range rec {
		rec[i] = binary.NativeEndian.Uint64(r.buf[8*i:])
	}
	if uint32(rec[slotMagic]) != reportMagic {
		return nil, fmt.Errorf("%w: magic %#x", errReport, rec[slotMagic])
	}
	return &rec, nil
}

// top is the end of the stack VMA (see the file comment).
func (r *reporter) top(rec *[recordWords]uint64) (uint64, error) {
	top := rec[slotExecfn] + r.execfn
	sp, rnd := rec[slotSP], rec[slotRandom]
	if rec[slotExecfn] == 0 || top%r.page != 0 || !(sp < rnd && rnd+16 <= top) {
		return 0, fmt.Errorf("%w: AT_EXECFN %#x, AT_RANDOM %#x, sp %#x: not the stack layout of fs/exec.c", errReport, rec[slotExecfn], rnd, sp)
	}
	return top, nil
}

// learn takes the layout from a record and the /proc view of the same
// process.
func (r *reporter) learn(rec *[recordWords]uint64, proc *sample) (*mapsLayout, error) {
	top, err := r.top(rec)
	if err != nil {
		return nil, err
	}
	l := &mapsLayout{vsyscall: proc.vsyscall, vsyscallPerms: proc.vsyscallPerms}
	if proc.present[rStack] {
		l.stackSize = top - proc.base[rStack]
	}
	if v := rec[slotSysinfoEhdr]; v != 0 {
		l.vvar, l.haveVvar = int64(proc.base[rVvar]-v), proc.present[rVvar]
		l.vclock, l.haveVclock = int64(proc.base[rVvarVclock]-v), proc.present[rVvarVclock]
	}
	return l, nil
}

// derive fills out from a record and the mapsLayout.
func (r *reporter) derive(rec *[recordWords]uint64, out *sample) error {
	*out = sample{vsyscall: r.lay.vsyscall, vsyscallPerms: r.lay.vsyscallPerms}
	set := func(i int, v uint64) { out.base[i], out.present[i] = v, true }
	top, err := r.top(rec)
	if err != nil {
		return err
	}
	set(rSP, rec[slotSP])
	set(rStack, top-r.lay.stackSize)
	if v := rec[slotSysinfoEhdr]; v != 0 {
		set(rVdso, v)
		if r.lay.haveVvar {
			set(rVvar, uint64(int64(v)+r.lay.vvar))
		}
		if r.lay.haveVclock {
			set(rVvarVclock, uint64(int64(v)+r.lay.vclock))
		}
	}
	if v := rec[slotPhdr]; v != 0 {
		set(rExe, v-targetPhoff)
	}
	if v := rec[slotBase]; v != 0 {
		set(rMmap, v)
	} else if out.present[rExe] {
		set(rMmap, out.base[rExe]) // an ET_DYN without interpreter: target.go
	}
	if v := rec[slotBrk]; v != 0 {
		set(rHeap, v)
	}
	return nil
}

// compare returns an ErrCheck naming the first region where the derived
// sample differs from the /proc one.
func compare(derived, proc *sample) error {
	for i := range nRegions {
		d, p := derived.present[i], proc.present[i]
		switch {
		case d && !p:
			return fmt.Errorf("%w: %s: self-reported %#x, absent from /proc", ErrCheck, regionNames[i], derived.base[i])
		case p && !d:
			return fmt.Errorf("%w: %s: %#x in /proc, not self-reported", ErrCheck, regionNames[i], proc.base[i])
		case d && derived.base[i] != proc.base[i]:
			return fmt.Errorf("%w: %s: self-reported %#x, /proc %#x", ErrCheck, regionNames[i], derived.base[i], proc.base[i])
		}
	}
	if derived.vsyscall != proc.vsyscall || derived.vsyscallPerms != proc.vsyscallPerms {
		return fmt.Errorf("%w: [vsyscall]: %#x %q at the first check, %#x %q now", ErrCheck, derived.vsyscall, derived.vsyscallPerms, proc.vsyscall, proc.vsyscallPerms)
	}
	return nil
}
