package bootlab

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
)

// Arch is what booting a kernel of one architecture under QEMU takes. A
// third architecture is one more entry in arches.
type Arch struct {
	Name   string // as uname -m says it: "x86_64", "aarch64"
	GOARCH string // the Go port whose vbench runs as /init: "amd64", "arm64"

	QEMU       string   // default QEMU binary
	QEMUPkg    string   // the Debian package that has it, for error messages
	Machine    []string // QEMU arguments choosing the machine
	TCGCPU     string   // -cpu under TCG ("" for QEMU's default)
	Console    string   // the serial console device on the kernel command line
	EarlyPrint string   // a command-line option that makes the kernel print from its first moments
	ELF        elf.Machine

	// Vsyscall is true where the kernel has the vsyscall= parameter
	// (arch/x86/entry/vsyscall/vsyscall_64.c): x86-64 only.
	Vsyscall bool

	// magic tells a kernel image of this architecture: bytes at an offset.
	magicOff int64
	magic    string
	what     string // what such an image is called
}

// arches are the architectures the boot lab knows.
var arches = []*Arch{
	{
		Name: "x86_64", GOARCH: "amd64",
		QEMU: "qemu-system-x86_64", QEMUPkg: "qemu-system-x86",
		Console: "ttyS0", EarlyPrint: "earlyprintk=serial,ttyS0,115200",
		ELF: elf.EM_X86_64, Vsyscall: true,
		// The setup header's magic (Documentation/arch/x86/boot.rst).
		magicOff: 0x202, magic: "HdrS", what: "an x86 bzImage",
	},
	{
		Name: "aarch64", GOARCH: "arm64",
		QEMU: "qemu-system-aarch64", QEMUPkg: "qemu-system-arm",
		Machine: []string{"-M", "virt"}, TCGCPU: "max",
		// The virt machine's PL011 UART is at 0x9000000.
		Console: "ttyAMA0", EarlyPrint: "earlycon=pl011,0x9000000",
		ELF: elf.EM_AARCH64,
		// The Image header's magic "ARM\x64" (Documentation/arch/arm64/booting.rst).
		magicOff: 0x38, magic: "ARM\x64", what: "an arm64 Image",
	},
}

// hostArch is the architecture vbench runs on, or nil.
func hostArch() *Arch { return archByGOARCH(runtime.GOARCH) }

func archByGOARCH(goarch string) *Arch {
	for _, a := range arches {
		if a.GOARCH == goarch {
			return a
		}
	}
	return nil
}

// kernelArch reads the architecture of the kernel image at path from its
// header. A file that is no image vbench can boot is an error wrapping
// ErrNotKernel that says what was looked for.
func kernelArch(path string) (*Arch, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return nil, err
	} else if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %w (not a regular file)", path, ErrNotKernel)
	}
	var kinds []string
	for _, a := range arches {
		b := make([]byte, len(a.magic))
		if _, err := f.ReadAt(b, a.magicOff); err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		if bytes.Equal(b, []byte(a.magic)) {
			return a, nil
		}
		kinds = append(kinds, fmt.Sprintf("%s (%q at %#x)", a.what, a.magic, a.magicOff))
	}
	return nil, fmt.Errorf("%s: %w: neither %s nor %s; give a vmlinuz, e.g. from /boot", path, ErrNotKernel, kinds[0], kinds[1])
}

// BinaryArch is the architecture an ELF executable is built for.
func BinaryArch(path string) (*Arch, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	defer f.Close()
	for _, a := range arches {
		if f.Machine == a.ELF {
			return a, nil
		}
	}
	return nil, fmt.Errorf("%s: an executable for %v, which the boot lab does not know", path, f.Machine)
}
