package lifecycle

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vbench-dev/vbench/proc"
)

// The child: a static-PIE ELF (ET_DYN, no PT_INTERP, one PT_LOAD holding
// headers and code at vaddr 0, a PT_GNU_STACK asking for a non-executable
// stack). The kernel loads it in the mmap region (fs/binfmt_elf.c,
// load_elf_binary) and, ptraced with PTRACE_TRACEME, stops it with SIGTRAP
// before its first instruction: the entry point, the first byte of the
// code, so the code's address is the stopped child's instruction pointer.
const (
	ehdrSize   = 64
	phdrSize   = 56
	phnum      = 2
	codeOffset = ehdrSize + phnum*phdrSize
)

func buildELF(code []byte) []byte {
	size := uint64(codeOffset + len(code))
	var b bytes.Buffer
	le := binary.LittleEndian
	ident := [elf.EI_NIDENT]byte{0x7f, 'E', 'L', 'F', byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT), byte(elf.ELFOSABI_NONE)}
	binary.Write(&b, le, elf.Header64{Ident: ident, Type: uint16(elf.ET_DYN), Machine: uint16(elfMachine),
		Version: uint32(elf.EV_CURRENT), Entry: codeOffset, Phoff: ehdrSize, Ehsize: ehdrSize, Phentsize: phdrSize, Phnum: phnum})
	binary.Write(&b, le, elf.Prog64{Type: uint32(elf.PT_LOAD), Flags: uint32(elf.PF_R | elf.PF_X), Filesz: size, Memsz: size, Align: 0x1000})
	binary.Write(&b, le, elf.Prog64{Type: uint32(elf.PT_GNU_STACK), Flags: uint32(elf.PF_R | elf.PF_W), Align: 16})
	b.Write(code)
	return b.Bytes()
}

// program is the child's executable, in a memfd.
type program struct {
	path  string
	close func()
}

func newProgram() (*program, error) {
	img := buildELF(childCode)
	fd, err := unix.MemfdCreate("vbench-lifecycle-child", unix.MFD_CLOEXEC|unix.MFD_EXEC)
	if errors.Is(err, unix.EINVAL) { // before 6.3: no MFD_EXEC
		fd, err = unix.MemfdCreate("vbench-lifecycle-child", unix.MFD_CLOEXEC)
	}
	if err != nil {
		return nil, fmt.Errorf("memfd_create: %w", err)
	}
	if _, err := unix.Write(fd, img); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("writing the child to a memfd: %w", err)
	}
	// execve refuses a file open for writing (ETXTBSY): keep a read-only fd.
	ro, err := unix.Open("/proc/self/fd/"+strconv.Itoa(fd), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	unix.Close(fd)
	if err != nil {
		return nil, fmt.Errorf("reopening the child's memfd: %w", err)
	}
	return &program{path: "/proc/self/fd/" + strconv.Itoa(ro), close: func() { unix.Close(ro) }}, nil
}

// ErrPtrace is wrapped when the child cannot be traced.
var ErrPtrace = errors.New("ptrace refused")

// tracee is one stopped child. Its methods must be called from the thread
// that spawned it (ptrace accepts requests only from the tracer thread):
// see onThread.
type tracee struct {
	pid  int
	code uint64 // the child's code, at its entry point
	exec unix.PtraceRegs
	// Scratch memory on the child's stack, far below its stack pointer
	// at exec (the initial stack VMA extends 128 KiB below the argument
	// pages: fs/exec.c, setup_arg_pages): a stack for vDSO calls growing
	// down from table, the syscall table, then data (strings, timespecs).
	table, data, stack uint64
	// vdso is the child's vDSO mappings at exec, lowest first.
	vdso []proc.Mapping
}

const (
	entrySize  = 64 // nr, 6 arguments, result
	maxEntries = 32
)

func spawn(p *program) (*tracee, error) {
	attr := &syscall.ProcAttr{Env: []string{}, Sys: &syscall.SysProcAttr{Ptrace: true, Pdeathsig: syscall.SIGKILL, Setpgid: true}}
	pid, err := syscall.ForkExec(p.path, []string{"vbench-lifecycle-child"}, attr)
	if errors.Is(err, unix.EPERM) {
		return nil, fmt.Errorf("%w: spawning the traced child: %w", ErrPtrace, err)
	}
	if err != nil {
		return nil, fmt.Errorf("spawning the child: %w", err)
	}
	t := &tracee{pid: pid}
	if err := t.wait(); err != nil {
		t.kill()
		return nil, fmt.Errorf("waiting for the child's exec stop: %w", err)
	}
	if err := unix.PtraceGetRegs(pid, &t.exec); err != nil {
		t.kill()
		return nil, fmt.Errorf("%w: PTRACE_GETREGS: %w", ErrPtrace, err)
	}
	t.code = pc(&t.exec)
	base := (sp(&t.exec) - 0x8000) &^ 0xfff
	t.stack = base + 0x2000
	t.table = base + 0x2000
	t.data = base + 0x3000
	return t, nil
}

// wait waits for the child to stop with SIGTRAP (its breakpoint); any
// other stop or its end is an error naming what happened.
func (t *tracee) wait() error {
	var ws unix.WaitStatus
	for {
		_, err := unix.Wait4(t.pid, &ws, 0, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("wait4(%d): %w", t.pid, err)
		}
		break
	}
	switch {
	case ws.Stopped() && ws.StopSignal() == unix.SIGTRAP:
		return nil
	case ws.Stopped():
		var r unix.PtraceRegs
		at := ""
		if unix.PtraceGetRegs(t.pid, &r) == nil {
			at = fmt.Sprintf(" at pc %#x", pc(&r))
		}
		return fmt.Errorf("child stopped by %v%s", ws.StopSignal(), at)
	case ws.Exited():
		t.pid = 0
		return fmt.Errorf("child exited with status %d", ws.ExitStatus())
	case ws.Signaled():
		t.pid = 0
		return fmt.Errorf("child killed by %v", ws.Signal())
	}
	return fmt.Errorf("wait4(%d): status %#x", t.pid, uint32(ws))
}

// kill ends the child and reaps it.
func (t *tracee) kill() {
	if t == nil || t.pid == 0 {
		return
	}
	unix.Kill(t.pid, unix.SIGKILL)
	for {
		var ws unix.WaitStatus
		_, err := unix.Wait4(t.pid, &ws, 0, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil || ws.Exited() || ws.Signaled() {
			break
		}
	}
	t.pid = 0
}

func (t *tracee) poke(addr uint64, b []byte) error {
	if _, err := unix.PtracePokeData(t.pid, uintptr(addr), b); err != nil {
		return fmt.Errorf("%w: PTRACE_POKEDATA at %#x: %w", ErrPtrace, addr, err)
	}
	return nil
}

func (t *tracee) peek(addr uint64, n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := unix.PtracePeekData(t.pid, uintptr(addr), b); err != nil {
		return nil, fmt.Errorf("%w: PTRACE_PEEKDATA at %#x: %w", ErrPtrace, addr, err)
	}
	return b, nil
}

// resume sets the registers and lets the child run to its breakpoint.
func (t *tracee) resume(r *unix.PtraceRegs) error {
	if err := unix.PtraceSetRegs(t.pid, r); err != nil {
		return fmt.Errorf("%w: PTRACE_SETREGS: %w", ErrPtrace, err)
	}
	if err := unix.PtraceCont(t.pid, 0); err != nil {
		return fmt.Errorf("%w: PTRACE_CONT: %w", ErrPtrace, err)
	}
	// The child only runs a few syscalls or one vDSO call before its
	// breakpoint; one that has not stopped after stepTimeout never will
	// (a vDSO call looping on a clock page gone wrong): it is killed, and
	// wait reports that.
	pid := t.pid
	timer := time.AfterFunc(stepTimeout, func() { unix.Kill(pid, unix.SIGKILL) })
	err := t.wait()
	if !timer.Stop() {
		err = fmt.Errorf("child did not reach its breakpoint within %s (killed): %w", stepTimeout, err)
	}
	return err
}

// stepTimeout bounds one resume of the child (generous for TCG).
const stepTimeout = 10 * time.Second

// sc is one syscall of a chain.
type sc struct {
	nr   uintptr
	args [6]uint64
}

func call(nr uintptr, args ...uint64) sc {
	s := sc{nr: nr}
	copy(s.args[:], args)
	return s
}

// chain runs the syscalls in the child one after the other, with nothing
// in between, and returns their raw results (negative errno on error).
func (t *tracee) chain(calls ...sc) ([]int64, error) {
	if len(calls) > maxEntries {
		return nil, fmt.Errorf("chain of %d syscalls, more than %d", len(calls), maxEntries)
	}
	tab := make([]byte, entrySize*len(calls))
	le := binary.LittleEndian
	for i, c := range calls {
		e := tab[i*entrySize:]
		le.PutUint64(e, uint64(c.nr))
		for j, a := range c.args {
			le.PutUint64(e[8+8*j:], a)
		}
		le.PutUint64(e[56:], ^uint64(0))
	}
	if err := t.poke(t.table, tab); err != nil {
		return nil, err
	}
	r := t.exec
	setChain(&r, t.code, t.table, uint64(len(calls)), t.stack)
	if err := t.resume(&r); err != nil {
		return nil, err
	}
	out, err := t.peek(t.table, len(tab))
	if err != nil {
		return nil, err
	}
	res := make([]int64, len(calls))
	for i := range res {
		res[i] = int64(le.Uint64(out[i*entrySize+56:]))
	}
	return res, nil
}

// callFn calls the function at fn in the child with two arguments and
// returns what it returned.
func (t *tracee) callFn(fn, a0, a1 uint64) (uint64, error) {
	r := t.exec
	setCall(&r, t.code, fn, a0, a1, t.stack)
	if err := t.resume(&r); err != nil {
		return 0, err
	}
	if err := unix.PtraceGetRegs(t.pid, &r); err != nil {
		return 0, fmt.Errorf("%w: PTRACE_GETREGS: %w", ErrPtrace, err)
	}
	return retval(&r), nil
}

// maps reads the child's /proc/PID/maps.
func (t *tracee) maps() (proc.Maps, error) { return proc.ReadMaps(t.pid) }

// errnoOf turns a raw syscall result into an errno (0 for success).
func errnoOf(r int64) unix.Errno {
	if r < 0 && r >= -4095 {
		return unix.Errno(-r)
	}
	return 0
}

// errnoName is "ENOMEM" for ENOMEM.
func errnoName(e unix.Errno) string {
	if n := unix.ErrnoName(e); n != "" {
		return n
	}
	return "errno " + strconv.Itoa(int(e))
}

// onThread runs f on a goroutine locked to a fresh OS thread and waits for
// it. The thread is not unlocked afterwards, so it exits with the
// goroutine: its children (PR_SET_PDEATHSIG) are killed with it if any
// were left, and no other goroutine runs on a thread that was a tracer.
func onThread(f func()) {
	done := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		defer close(done)
		f()
	}()
	<-done
}
