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

// The default target is a static-PIE x86-64 ELF that vbench builds in
// memory: one PT_LOAD segment holding the headers and three instructions
// (mov eax, SYS_exit_group; xor edi, edi; syscall), and a PT_GNU_STACK
// asking for a non-executable stack. It is written to a memfd and executed
// through /proc/self/fd/N, so it exists on every machine, including a bare
// initramfs where vbench is /init, and no binary is kept in git. It is
// never allowed to run: the sampler kills it at its exec stop.
//
// Where the kernel puts it (fs/binfmt_elf.c:load_elf_binary): an ET_DYN
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
	codeOffset  = ehdrSize + targetPhnum*phdrSize
)

// targetELF returns the bytes of the default target.
func targetELF() []byte {
	// mov eax, imm32 (B8 id); xor edi, edi (31 FF); syscall (0F 05).
	code := []byte{0xb8, 0, 0, 0, 0, 0x31, 0xff, 0x0f, 0x05}
	binary.LittleEndian.PutUint32(code[1:], uint32(unix.SYS_EXIT_GROUP))
	size := uint64(codeOffset + len(code))

	var b bytes.Buffer
	le := binary.LittleEndian
	ident := [elf.EI_NIDENT]byte{0x7f, 'E', 'L', 'F', byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT), byte(elf.ELFOSABI_NONE)}
	binary.Write(&b, le, elf.Header64{
		Ident:     ident,
		Type:      uint16(elf.ET_DYN),
		Machine:   uint16(elf.EM_X86_64),
		Version:   uint32(elf.EV_CURRENT),
		Entry:     codeOffset, // p_vaddr 0 maps file offset 0 at the load base
		Phoff:     ehdrSize,
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

// target is the program sampled.
type target struct {
	path  string // what execve is given
	label string // what the result names
	// loader is true for an ET_DYN without PT_INTERP: the kernel loads it
	// in the mmap region, so its base stands for the mmap base.
	loader  bool
	cleanup func()
}

// ErrTarget is wrapped by errors about the --target program: missing, not a
// regular executable file.
var ErrTarget = errors.New("bad target")

// openTarget prepares the program to spawn: path, or vbench's own target
// when path is "".
func openTarget(path string) (*target, error) {
	if path == "" {
		return builtinTarget()
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrTarget, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %s is not a regular file", ErrTarget, path)
	}
	if unix.Access(path, unix.X_OK) != nil {
		return nil, fmt.Errorf("%w: %s is not executable", ErrTarget, path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrTarget, err)
	}
	t := &target{path: abs, label: path, cleanup: func() {}}
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

// builtinTarget writes targetELF to a memfd. The memfd is created with
// MFD_EXEC where the kernel knows it (6.3+, vm.memfd_noexec); older
// kernels reject the flag with EINVAL and are asked again without it.
// Where memfds cannot be had, a temporary file is used instead.
func builtinTarget() (*target, error) {
	img := targetELF()
	fd, err := unix.MemfdCreate(targetName, unix.MFD_CLOEXEC|unix.MFD_EXEC)
	if errors.Is(err, unix.EINVAL) {
		fd, err = unix.MemfdCreate(targetName, unix.MFD_CLOEXEC)
	}
	if err != nil {
		return tempTarget(img)
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
		return tempTarget(img)
	}
	return &target{
		path:    "/proc/self/fd/" + strconv.Itoa(ro),
		label:   "builtin static-PIE (" + strconv.Itoa(len(img)) + " bytes, memfd)",
		loader:  true,
		cleanup: func() { unix.Close(ro) },
	}, nil
}

func tempTarget(img []byte) (*target, error) {
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
	return &target{path: name, label: "builtin static-PIE (" + strconv.Itoa(len(img)) + " bytes, " + name + ")",
		loader: true, cleanup: func() { os.Remove(name) }}, nil
}
