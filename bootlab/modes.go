package bootlab

import (
	"debug/elf"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// Input errors, wrapped with detail.
var (
	ErrUnknownMode = errors.New("unknown mode")
	ErrNotKernel   = errors.New("not a kernel image")
	ErrNotStatic   = errors.New("executable is dynamically linked")
	ErrNoQEMU      = errors.New("QEMU not found")
	ErrWrongArch   = errors.New("wrong architecture for the kernel")
)

// vsyscallModes are the values of the vsyscall= boot parameter
// (arch/x86/entry/vsyscall/vsyscall_64.c, vsyscall_setup).
var vsyscallModes = []string{"emulate", "xonly", "none"}

// Mode is one boot to make.
type Mode struct {
	// Name is the --modes entry: "xonly", or a boot argument like "vdso=0".
	Name string
	// Arg is what goes on the kernel command line: "vsyscall=xonly", or
	// Name itself for an entry holding '='.
	Arg string
}

// Dir is a file-name-safe form of Name, for the mode's output directory.
func (m Mode) Dir() string {
	d := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '=', r == '-', r == '_', r == '.', r == ',':
			return r
		}
		return '_'
	}, m.Name)
	if strings.Trim(d, ".") == "" {
		d = strings.Repeat("_", len(d)+1)
	}
	return d
}

// ParseModes reads a comma-separated --modes list: each entry is a vsyscall=
// mode or, if it contains '=', a boot argument passed as is. Duplicates are
// refused, as are entries with spaces or quotes (they would split the
// kernel command line).
func ParseModes(s string) ([]Mode, error) {
	var out []Mode
	seen := map[string]bool{}
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if strings.ContainsAny(f, " \t\n\"'") {
			return nil, fmt.Errorf("%w %q: a boot argument cannot hold spaces or quotes", ErrUnknownMode, f)
		}
		if seen[f] {
			return nil, fmt.Errorf("mode %q given twice", f)
		}
		seen[f] = true
		if strings.Contains(f, "=") {
			if strings.HasPrefix(f, "=") {
				return nil, fmt.Errorf("%w %q: a boot argument needs a name before '='", ErrUnknownMode, f)
			}
			out = append(out, Mode{Name: f, Arg: f})
			continue
		}
		ok := false
		for _, v := range vsyscallModes {
			ok = ok || f == v
		}
		if !ok {
			return nil, fmt.Errorf("%w %q (valid: %s, or a boot argument like vdso=0)", ErrUnknownMode, f, strings.Join(vsyscallModes, ", "))
		}
		out = append(out, Mode{Name: f, Arg: "vsyscall=" + f})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no modes given", ErrUnknownMode)
	}
	return out, nil
}

// Kernel is one --kernel given: its path, the name its runs are filed
// under (the file name without "vmlinuz-": "6.1.0-50-cloud-amd64"), and its
// architecture, read from the image's header.
type Kernel struct {
	Path string
	Name string
	Arch *Arch
}

// Dir is a file-name-safe form of Name, for the kernel's output directory.
func (k Kernel) Dir() string { return Mode{Name: k.Name}.Dir() }

// ParseKernels checks every --kernel (see kernelArch) before anything
// boots, and names each. Two kernels with the same name are refused: their
// runs would land in the same directory.
func ParseKernels(paths []string) ([]Kernel, error) {
	var out []Kernel
	seen := map[string]string{}
	for _, p := range paths {
		arch, err := kernelArch(p)
		if err != nil {
			return nil, err
		}
		name := strings.TrimPrefix(filepath.Base(p), "vmlinuz-")
		if prev, ok := seen[name]; ok {
			return nil, fmt.Errorf("%s and %s would both be filed as %q", prev, p, name)
		}
		seen[name] = p
		out = append(out, Kernel{Path: p, Name: name, Arch: arch})
	}
	return out, nil
}

// checkKernel checks that path is a kernel image vbench can boot.
func checkKernel(path string) error {
	_, err := kernelArch(path)
	return err
}

// DefaultMode is the one boot of a kernel that has no vsyscall= modes
// (arm64) when --modes names nothing else: no extra argument.
var DefaultMode = Mode{Name: "default"}

// ModesFor is the boots to make of a kernel of architecture a: modes as
// given where the kernel has vsyscall= (x86-64); elsewhere the vsyscall
// modes are left out, the boot arguments kept, and one DefaultMode boot is
// made if nothing is left.
func ModesFor(a *Arch, modes []Mode) []Mode {
	if a.Vsyscall {
		return modes
	}
	var out []Mode
	for _, m := range modes {
		if !slices.Contains(vsyscallModes, m.Name) {
			out = append(out, m)
		}
	}
	if len(out) == 0 {
		out = []Mode{DefaultMode}
	}
	return out
}

// CheckInit checks that the executable at path can be /init of a kernel of
// architecture a: built for a, with no PT_INTERP program header (no dynamic
// loader in the initramfs).
func CheckInit(path string, a *Arch) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	defer f.Close()
	if f.Machine != a.ELF {
		return fmt.Errorf("%s: %w: built for %v, the kernel is %s (build one with GOARCH=%s CGO_ENABLED=0 go build ./cmd/vbench)", path, ErrWrongArch, f.Machine, a.Name, a.GOARCH)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s: %w", path, ErrNotStatic)
		}
	}
	return nil
}

// FindQEMU returns the QEMU binary for kernels of architecture a: name if
// it holds a '/', else name (default a.QEMU) looked up on PATH.
func FindQEMU(name string, a *Arch) (string, error) {
	if name == "" {
		name = a.QEMU
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%w: no %s on PATH (install it, e.g. apt-get install %s, or pass --qemu PATH)", ErrNoQEMU, name, a.QEMUPkg)
	}
	return p, nil
}
