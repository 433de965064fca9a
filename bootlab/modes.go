package bootlab

import (
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Input errors, wrapped with detail.
var (
	ErrUnknownMode = errors.New("unknown mode")
	ErrNotKernel   = errors.New("not a bzImage kernel")
	ErrNotStatic   = errors.New("executable is dynamically linked")
	ErrNoQEMU      = errors.New("QEMU not found")
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

// Kernel is one --kernel given: its path, and the name its runs are filed
// under (the file name without "vmlinuz-": "6.1.0-50-cloud-amd64").
type Kernel struct {
	Path string
	Name string
}

// Dir is a file-name-safe form of Name, for the kernel's output directory.
func (k Kernel) Dir() string { return Mode{Name: k.Name}.Dir() }

// ParseKernels checks every --kernel (see checkKernel) before anything
// boots, and names each. Two kernels with the same name are refused: their
// runs would land in the same directory.
func ParseKernels(paths []string) ([]Kernel, error) {
	var out []Kernel
	seen := map[string]string{}
	for _, p := range paths {
		if err := checkKernel(p); err != nil {
			return nil, err
		}
		name := strings.TrimPrefix(filepath.Base(p), "vmlinuz-")
		if prev, ok := seen[name]; ok {
			return nil, fmt.Errorf("%s and %s would both be filed as %q", prev, p, name)
		}
		seen[name] = p
		out = append(out, Kernel{Path: p, Name: name})
	}
	return out, nil
}

// checkKernel checks that path is an x86 bzImage: the setup header's magic
// "HdrS" at offset 0x202 (Documentation/arch/x86/boot.rst).
func checkKernel(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return err
	} else if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s: %w (not a regular file)", path, ErrNotKernel)
	}
	var magic [4]byte
	if _, err := f.ReadAt(magic[:], 0x202); err != nil {
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("%s: %w (too short)", path, ErrNotKernel)
		}
		return err
	}
	if string(magic[:]) != "HdrS" {
		return fmt.Errorf("%s: %w (no \"HdrS\" magic at offset 0x202; give a vmlinuz, e.g. from /boot)", path, ErrNotKernel)
	}
	return nil
}

// CheckStatic checks that the ELF executable at path has no PT_INTERP
// program header, i.e. can run as /init without a dynamic loader.
func CheckStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s: %w", path, ErrNotStatic)
		}
	}
	return nil
}

// FindQEMU returns the QEMU binary to use: name if it holds a '/', else
// name (default qemu-system-x86_64) looked up on PATH.
func FindQEMU(name string) (string, error) {
	if name == "" {
		name = "qemu-system-x86_64"
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%w: no %s on PATH (install it, e.g. apt-get install qemu-system-x86, or pass --qemu PATH)", ErrNoQEMU, name)
	}
	return p, nil
}
