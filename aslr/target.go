package aslr

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// vbench's own targets are static-PIE ELF programs it builds in memory:
// one PT_LOAD segment holding the headers and a few hundred bytes of code,
// and a PT_GNU_STACK asking for a non-executable stack. They are written to
// a memfd and executed through /proc/self/fd/N, so they exist on every
// machine, including a bare initramfs where vbench is /init, and no binary
// is kept in git. This file is the generic builder; the machine code of
// each architecture is in target_GOARCH.go (reportCode, exitCode), so a new
// architecture is one file.
//
// The programs:
//
//   - the reporting target (reportCode), what is sampled: at its entry
//     point it reads its own initial stack and auxiliary vector, calls
//     brk(0), writes one record (selfreport.go) to its standard output, a
//     pipe, stops itself if asked to (a byte on its standard input), and
//     exits; no ptrace and no /proc read is needed per sample. The chain
//     variant (reportCode(true), chain.go) executes itself again instead
//     of exiting;
//   - the exiting program (exitCode): exit_group(0) and nothing else, the
//     cheapest program the kernel can run, spawned to measure the ceiling
//     (ceiling.go), by the vfork stub (vforkCode), which does what a C
//     program would: vfork and execve in a loop, and by the no-op chain
//     (noopChainCode), which only executes itself again.
//
// Every one of them is executed as chainPath, "/proc/self/fd/3": the child
// is given the program's file at descriptor 3 (chainFD), so a fresh spawn
// and a re-execution see the same file name (AT_EXECFN, the first string
// at the top of the stack), the same argv and the same empty envp, and so
// the same stack layout.
//
// Where the kernel puts them (fs/binfmt_elf.c:load_elf_binary): an ET_DYN
// without PT_INTERP is a "loader", loaded with load_bias 0 and neither
// MAP_FIXED nor MAP_FIXED_NOREPLACE, that is wherever mmap's top-down
// allocator puts it: just below mm->mmap_base, in the mmap region, with
// vm.mmap_rnd_bits of entropy. A PIE with an interpreter would instead go
// at ELF_ET_DYN_BASE plus its own random offset, and its interpreter into
// the mmap region. For such a loader the kernel also moves brk away from
// the executable, to ELF_ET_DYN_BASE (2/3 of TASK_SIZE, 0x5555...), before
// arch_randomize_brk adds its own 1 GiB of page-granular randomness: the
// heap start of this target is therefore independent of the executable
// (measured: heap at 0x5555..., exe next to the vDSO at 0x7f...).
//
// Because the target is ET_DYN without an interpreter, the "mmap" region
// of a sample is the executable itself (see sample.go).

const (
	targetName  = "vbench-aslr-target"
	ehdrSize    = 64
	phdrSize    = 56
	targetPhnum = 2
	// codeOffset is where the code starts in the file and, since the
	// segment maps file offset 0 at the load base, in memory.
	codeOffset = ehdrSize + targetPhnum*phdrSize
	// targetPhoff is e_phoff: AT_PHDR - targetPhoff is the load base.
	targetPhoff = ehdrSize
	// chainFD is the descriptor of the program's file in its children, and
	// chainPath the name they execute it by.
	chainFD   = 3
	chainPath = "/proc/self/fd/3"
	// vforkBatch is how many spawns the vfork stub makes per byte written.
	vforkBatch = 16
)

// targetELF returns the reporting target, the chain variant if chain; nil
// where this architecture has no machine code for it (target_GOARCH.go).
func targetELF(chain bool) []byte { return buildELF(reportCode(chain)) }

// exitELF returns the program that only exits.
func exitELF() []byte { return buildELF(exitCode()) }

// noopChainELF returns the program that only executes itself again.
func noopChainELF() []byte { return buildELF(noopChainCode()) }

// vforkELF returns the vfork+execve stub.
func vforkELF() []byte { return buildELF(vforkCode()) }

// buildELF wraps code in a static-PIE ELF for targetMachine.
func buildELF(code []byte) []byte {
	if code == nil {
		return nil
	}
	size := uint64(codeOffset + len(code))
	var b bytes.Buffer
	le := binary.LittleEndian
	ident := [elf.EI_NIDENT]byte{0x7f, 'E', 'L', 'F', byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT), byte(elf.ELFOSABI_NONE)}
	binary.Write(&b, le, elf.Header64{
		Ident:     ident,
		Type:      uint16(elf.ET_DYN),
		Machine:   uint16(targetMachine),
		Version:   uint32(elf.EV_CURRENT),
		Entry:     codeOffset, // p_vaddr 0 maps file offset 0 at the load base
		Phoff:     targetPhoff,
		Ehsize:    ehdrSize,
		Phentsize: phdrSize,
		Phnum:     targetPhnum,
	})
	binary.Write(&b, le, elf.Prog64{
		Type:   uint32(elf.PT_LOAD),
		Flags:  uint32(elf.PF_R | elf.PF_X),
		Filesz: size,
		Memsz:  size,
		Align:  0x1000,
	})
	binary.Write(&b, le, elf.Prog64{
		Type:  uint32(elf.PT_GNU_STACK),
		Flags: uint32(elf.PF_R | elf.PF_W),
		Align: 16,
	})
	b.Write(code)
	return b.Bytes()
}

// cat joins the pieces of a program's machine code.
func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// target is the program sampled.
type target struct {
	path  string // what execve is given
	label string // what the result names
	// fd, for vbench's programs, is a read-only descriptor of the file,
	// which children get at chainFD and execute as path (chainPath); -1
	// for a --target.
	fd int
	// loader is true for an ET_DYN without PT_INTERP: the kernel loads it
	// in the mmap region, so its base stands for the mmap base.
	loader bool
	// reports is true for vbench's reporting target: it writes its own
	// layout to its standard output (selfreport.go).
	reports bool
	cleanup func()
}

// ErrTarget is wrapped by errors about the --target program: missing, not a
// regular executable file.
var ErrTarget = errors.New("bad target")

// ErrNoBuiltin is wrapped by the error of a run asking for vbench's own
// target on an architecture it has no machine code for.
var ErrNoBuiltin = errors.New("no built-in target for this architecture")

// openTarget prepares the program to spawn: path, or vbench's own target
// when path is "".
func openTarget(path string) (*target, error) {
	if path == "" {
		return builtinTarget(targetELF(false), "builtin self-reporting static-PIE", true)
	}
	if err := checkTarget(path); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrTarget, err)
	}
	t := &target{path: abs, label: path, fd: -1, cleanup: func() {}}
	if f, err := elf.Open(abs); err == nil { // not an ELF (a script): no loader
		t.loader = isLoader(f)
		f.Close()
	}
	return t, nil
}

func isLoader(f *elf.File) bool {
	if f.Type != elf.ET_DYN {
		return false
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return false
		}
	}
	return true
}

// builtinTarget writes img, one of vbench's programs, to a memfd. The
// memfd is created with MFD_EXEC where the kernel knows it (6.3+,
// vm.memfd_noexec); older kernels reject the flag with EINVAL and are
// asked again without it. Where memfds cannot be had, a temporary file is
// used instead.
func builtinTarget(img []byte, what string, reports bool) (*target, error) {
	if img == nil {
		return nil, fmt.Errorf("%w: %w (%s): give --target PATH", ErrTarget, ErrNoBuiltin, targetArch)
	}
	label := what + " (" + strconv.Itoa(len(img)) + " bytes, "
	fd, err := unix.MemfdCreate(targetName, unix.MFD_CLOEXEC|unix.MFD_EXEC)
	if errors.Is(err, unix.EINVAL) {
		fd, err = unix.MemfdCreate(targetName, unix.MFD_CLOEXEC)
	}
	if err != nil {
		return tempTarget(img, label, reports)
	}
	if _, err := unix.Write(fd, img); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("writing the target to a memfd: %w", err)
	}
	// execve refuses a file open for writing (ETXTBSY: deny_write_access in
	// fs/exec.c), so keep only a read-only descriptor of it.
	ro, err := unix.Open("/proc/self/fd/"+strconv.Itoa(fd), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	unix.Close(fd)
	if err != nil {
		return tempTarget(img, label, reports)
	}
	return &target{
		path:    chainPath,
		fd:      ro,
		label:   label + "memfd)",
		loader:  true,
		reports: reports,
		cleanup: func() { unix.Close(ro) },
	}, nil
}

// ownPath names the program's file in vbench itself (path names it in the
// children).
func (t *target) ownPath() string {
	if t.fd >= 0 {
		return "/proc/self/fd/" + strconv.Itoa(t.fd)
	}
	return t.path
}

// files is the children's descriptor table: fds 0, 1 and 2 as given (-1:
// closed), then the program's file at chainFD.
func (t *target) files(stdin, stdout, stderr int) []uintptr {
	f := []uintptr{uintptr(stdin), uintptr(stdout), uintptr(stderr)}
	if t.fd >= 0 {
		f = append(f, uintptr(t.fd))
	}
	return f
}

func tempTarget(img []byte, label string, reports bool) (*target, error) {
	f, err := os.CreateTemp("", targetName+"-*")
	if err != nil {
		return nil, fmt.Errorf("no memfd and no temporary directory for the target: %w", err)
	}
	name := f.Name()
	_, werr := f.Write(img)
	cerr := f.Close()
	if err := errors.Join(werr, cerr, os.Chmod(name, 0o700)); err != nil {
		os.Remove(name)
		return nil, fmt.Errorf("writing the target: %w", err)
	}
	fd, err := unix.Open(name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		os.Remove(name)
		return nil, fmt.Errorf("opening the target: %w", err)
	}
	return &target{path: chainPath, fd: fd, label: label + name + ")", loader: true, reports: reports,
		cleanup: func() { unix.Close(fd); os.Remove(name) }}, nil
}
