package aslr

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/vbench-dev/vbench/runfile"
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
// Checked, not trusted, and without ptrace: the first sample of every
// spawning thread (or exec chain, chain.go), the first checkFirst samples
// of the run and about one in checkEvery after that are checked. vbench
// asks for one with a byte on the target's standard input (a pipe): the
// target then sets recordStops in its record, writes it, and stops itself
// with SIGSTOP before exiting or executing again, its layout still the one
// it reported. vbench, its parent, sees the stop (wait4 WUNTRACED), reads
// /proc/PID/maps, auxv and stat (access mode PTRACE_MODE_READ, which a
// parent has over its own child of the same credentials, whatever
// kernel.yama.ptrace_scope says: Yama restricts only attaching) and the
// stack pointer from /proc/PID/syscall (the target stopped right after its
// kill syscall, with sp recordSize below the initial one; this file needs
// PTRACE_MODE_ATTACH, so under Yama's scope 2 or 3 the sp is not checked,
// and the result says so), sends SIGCONT, and every derived base must
// equal the /proc one. A mismatch ends the run with ErrCheck, naming the
// region. The layout offsets (vvar, stack size, vsyscall) come from the
// first checked sample and are re-checked on every later one. Where /proc
// cannot be read at all, the samples are taken unchecked, without the
// regions that need the layout, and the result says why (Checks).

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
	// recordFlagsByte is the byte of the first word holding the flags;
	// recordStops says the target stops itself after writing the record.
	recordFlagsByte = 4
	recordStops     = 1

	checkFirst = 8
	checkEvery = 100
)

// ErrCheck is wrapped by the error that stops a run when a self-reported
// base differs from what /proc says.
var ErrCheck = errors.New("self-report check failed")

// errReport is wrapped by errors about a record that cannot be one.
var errReport = errors.New("bad report from the target")

// errShort is wrapped by errReport errors of a record cut short by
// end-of-file: the target is gone.
var errShort = errors.New("short record")

// Method names, as run.json records them (runfile.ASLR.Method).
const (
	// MethodChain: exec chains of the self-reporting target (chain.go).
	MethodChain = runfile.MethodChain
	// MethodSelfReport: a fresh spawn of the self-reporting target per
	// sample ("spawn" on the command line).
	MethodSelfReport = runfile.MethodSelfReport
	// MethodPtrace: a fresh spawn per sample, stopped at exec by ptrace.
	MethodPtrace = runfile.MethodPtrace
)

// mapsLayout is what a record cannot tell and maps can, constant in a run.
type mapsLayout struct {
	// unknown: /proc could not be read (Checks says why), and the regions
	// that need it are not derived.
	unknown              bool
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
// do_exit) overlap the next spawn instead of delaying it.
type reporter struct {
	t       *target
	argv    []string
	attr    *syscall.ProcAttr
	buf     [recordSize]byte
	lay     *mapsLayout
	chk     checker
	page    uint64
	execfn  uint64 // len(path) + 1 + one word: AT_EXECFN to the top of the stack
	pending int    // the last child, which has reported and is not reaped yet
}

func newReporter(t *target) *reporter {
	return &reporter{
		t:    t,
		argv: []string{targetName},
		attr: &syscall.ProcAttr{
			Env: []string{}, // the same small stack in every sample
			Sys: &syscall.SysProcAttr{
				// Killed if vbench's sampling thread dies, whatever the cause.
				Pdeathsig: syscall.SIGKILL,
				// Its own process group: a Ctrl-C at the terminal reaches
				// vbench, which stops cleanly, and not the children.
				Setpgid: true,
			},
		},
		page:   uint64(os.Getpagesize()),
		execfn: uint64(len(t.path)) + 1 + 8,
	}
}

// close reaps the last child. Every user of a reporter calls it.
func (r *reporter) close() error { return r.reap() }

// reap reaps the pending child, which must exit 0.
func (r *reporter) reap() error {
	if r.pending == 0 {
		return nil
	}
	pid := r.pending
	r.pending = 0
	return r.exited(pid)
}

// one takes a sample; checked asks the target to stop for a check.
func (r *reporter) one(out *sample, checked bool) error {
	checked = checked || r.lay == nil
	var p, in [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return fmt.Errorf("pipe for the target's report: %w", err)
	}
	stdin := -1 // closed: read(0) fails, no check
	if checked && !r.chk.off() {
		// One byte, then end-of-file: the target reads it and stops.
		if err := unix.Pipe2(in[:], unix.O_CLOEXEC); err != nil {
			unix.Close(p[0])
			unix.Close(p[1])
			return fmt.Errorf("pipe for the target's control: %w", err)
		}
		unix.Write(in[1], []byte{1})
		unix.Close(in[1])
		stdin = in[0]
	}
	r.attr.Files = r.t.files(stdin, p[1], -1)
	pid, err := syscall.ForkExec(r.t.path, r.argv, r.attr)
	unix.Close(p[1]) // the child has its own: EOF when it is gone
	if stdin >= 0 {
		unix.Close(stdin)
	}
	if err != nil {
		unix.Close(p[0])
		return fmt.Errorf("spawning %s: %w", r.t.label, err)
	}
	rec, rerr := r.read(p[0])
	unix.Close(p[0])
	// The previous child has long written its record: reap it now that
	// this one runs.
	perr := r.reap()
	if rerr != nil {
		if !errors.Is(rerr, errShort) {
			unix.Kill(pid, unix.SIGKILL) // a bad record: it may be stopped
		}
		// Its exit status says more than the short read.
		if werr := r.exited(pid); werr != nil && errors.Is(rerr, errShort) {
			return werr
		}
		return rerr
	}
	if rec[slotMagic]>>(8*recordFlagsByte)&recordStops != 0 {
		cerr := r.chk.stopped(pid, r, rec, out)
		if cerr != nil {
			unix.Kill(pid, unix.SIGKILL)
			waitEnd(pid)
			return errors.Join(cerr, perr)
		}
		r.pending = pid
		return perr
	}
	r.pending = pid
	if r.lay == nil {
		r.lay = &mapsLayout{unknown: true}
	}
	return errors.Join(r.derive(rec, out), perr)
}

// exited reaps pid, which must exit 0 (it wrote its whole record).
func (r *reporter) exited(pid int) error {
	ws, err := waitEnd(pid)
	if err != nil {
		return err
	}
	switch {
	case ws.Signaled():
		return fmt.Errorf("%w: %s killed by %v", errReport, r.t.label, ws.Signal())
	case ws.ExitStatus() != 0:
		return fmt.Errorf("%w: %s exited with status %d (its write to the pipe failed)", errReport, r.t.label, ws.ExitStatus())
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
			return nil, fmt.Errorf("%w: %w: %d bytes, want %d", errReport, errShort, n, recordSize)
		}
		n += m
	}
	return parseRecord(r.buf[:])
}

// parseRecord reads one record from b (recordSize bytes): its magic and
// flags must be ones the target writes.
func parseRecord(b []byte) (*[recordWords]uint64, error) {
	var rec [recordWords]uint64
	for i := range rec {
		rec[i] = binary.NativeEndian.Uint64(b[8*i:])
	}
	if uint32(rec[slotMagic]) != reportMagic || rec[slotMagic]>>32&^recordStops != 0 {
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
	if !r.lay.unknown {
		set(rStack, top-r.lay.stackSize)
	}
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

// checker checks self-reported samples against /proc (see the file
// comment), and remembers why it could not.
type checker struct {
	// skipped: why no sample could be checked ("" if checks work).
	skipped string
	// spSkipped: why sp was not checked in the checked samples.
	spSkipped string
	rd        procReader
}

// off reports that checks cannot be made here (skipped says why).
func (c *checker) off() bool { return c.skipped != "" }

// stopped checks the sample of a target that reported rec and stops
// itself: it waits for the stop, reads /proc, continues the target and
// compares, filling out. On success the target runs on (to its exit or
// next exec); on error it has been killed and reaped.
func (c *checker) stopped(pid int, r *reporter, rec *[recordWords]uint64, out *sample) error {
	var ws unix.WaitStatus
	for {
		_, err := unix.Wait4(pid, &ws, unix.WUNTRACED, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			unix.Kill(pid, unix.SIGKILL)
			waitEnd(pid)
			return fmt.Errorf("waiting for the target to stop: wait4(%d): %w", pid, err)
		}
		break
	}
	if !ws.Stopped() {
		return fmt.Errorf("%w: %s ended (status %#x) instead of stopping for its check", errReport, r.t.label, uint32(ws))
	}
	var p sample
	ierr := c.inspect(pid, r.t, rec, &p)
	if err := unix.Kill(pid, unix.SIGCONT); err != nil {
		unix.Kill(pid, unix.SIGKILL)
		waitEnd(pid)
		return fmt.Errorf("continuing the target after its check: %w", err)
	}
	if ierr != nil {
		if !errors.Is(ierr, unix.EACCES) && !errors.Is(ierr, unix.EPERM) && !errors.Is(ierr, unix.ENOENT) {
			unix.Kill(pid, unix.SIGKILL)
			waitEnd(pid)
			return ierr
		}
		// A sandbox hiding /proc: sample on, unchecked, and say so.
		c.skipped = ierr.Error()
		if r.lay == nil {
			r.lay = &mapsLayout{unknown: true}
		}
		return r.derive(rec, out)
	}
	var err error
	if r.lay == nil || r.lay.unknown {
		if r.lay, err = r.learn(rec, &p); err != nil {
			unix.Kill(pid, unix.SIGKILL)
			waitEnd(pid)
			return err
		}
	}
	var got sample
	if err = r.derive(rec, &got); err == nil {
		err = compare(&got, &p)
	}
	if err != nil {
		unix.Kill(pid, unix.SIGKILL)
		waitEnd(pid)
		return err
	}
	got.checked = true
	*out = got
	return nil
}

// inspect reads a stopped target's layout from /proc into p: the bases the
// ptrace path reads (sample.go), with sp from /proc/PID/syscall.
func (c *checker) inspect(pid int, t *target, rec *[recordWords]uint64, p *sample) error {
	if err := c.rd.layout(pid, t.loader, p); err != nil {
		return err
	}
	sp, err := c.rd.syscallSP(pid)
	if err != nil {
		// sp only: /proc/PID/syscall needs more (PTRACE_MODE_ATTACH).
		c.spSkipped = err.Error()
		p.base[rSP], p.present[rSP] = rec[slotSP], true
		return nil
	}
	// Stopped in its kill(2), the record pushed below the initial sp.
	p.base[rSP], p.present[rSP] = sp+recordSize, true
	return nil
}
