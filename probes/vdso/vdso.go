// Package vdso finds the functions of the vDSO the kernel maps into every
// process, by parsing the ELF image at getauxval(AT_SYSINFO_EHDR).
//
// No libc and no cgo: Open reads the auxiliary vector (unix.Auxv), sizes the
// image from its program headers, copies it and parses the copy. Parse reads
// the dynamic symbols from the program headers alone — PT_LOAD, PT_DYNAMIC
// and its DT_SYMTAB, DT_STRTAB, DT_HASH or DT_GNU_HASH, DT_VERSYM and
// DT_VERDEF — as the Go runtime (runtime/vdso_linux.go) and the kernel's
// sample parser (tools/testing/selftests/vDSO/parse_vdso.c) do; section
// headers, which a loaded image need not carry, are never read.
//
// Addresses: a symbol's run-time address is the image's base plus the
// symbol's value, moved by the first PT_LOAD's p_offset - p_vaddr (zero for
// every x86-64 and arm64 vDSO so far, which are linked at address 0).
//
// The parser is architecture-neutral (ELF64, little-endian); the names and
// the version to look up are per architecture: symbols_amd64.go,
// symbols_arm64.go. A third architecture is one more such file.
package vdso

import (
	"errors"
	"sort"
)

// ErrNoVDSO is returned when the process has no vDSO (vdso=0 at boot).
var ErrNoVDSO = errors.New("no vDSO mapped (AT_SYSINFO_EHDR is 0)")

// ErrBadImage is wrapped by every error about an image that is not a
// usable vDSO (truncated, not ELF, inconsistent tables).
var ErrBadImage = errors.New("bad vDSO image")

// Symbol is one dynamic symbol of the image.
type Symbol struct {
	Name    string
	Version string // e.g. "LINUX_2.6"; "" when unversioned
	Value   uint64 // link-time address (st_value)
	Size    uint64
	Func    bool    // STT_FUNC
	Defined bool    // st_shndx != SHN_UNDEF
	Addr    uintptr // run-time address: base + Value + load bias
}

// Image is a parsed vDSO.
type Image struct {
	Base uintptr // where it is mapped (AT_SYSINFO_EHDR); 0 for a file
	Size int     // bytes of image parsed
	syms []Symbol
	// versioned is false when no symbol carries a version (no DT_VERSYM):
	// Lookup then matches by name alone, as the Go runtime
	// (runtime/vdso_linux.go) and parse_vdso.c do.
	versioned bool
}

// Parse parses a vDSO image whose first byte is mapped at base (pass 0 for
// an image read from a file: Addr then equals the link-time address).
// Every error wraps ErrBadImage.
func Parse(image []byte, base uintptr) (*Image, error) {
	syms, bias, err := parse(image)
	if err != nil {
		return nil, err
	}
	return newImage(image, base, bias, syms), nil
}

func newImage(image []byte, base uintptr, bias int64, syms []Symbol) *Image {
	versioned := false
	for i := range syms {
		syms[i].Addr = uintptr(int64(base) + int64(syms[i].Value) + bias)
		versioned = versioned || syms[i].Version != ""
	}
	return &Image{Base: base, Size: len(image), syms: syms, versioned: versioned}
}

// Lookup returns the run-time address of the function name with this
// architecture's Version (LINUX_2.6 on x86-64, LINUX_2.6.39 on arm64), e.g.
// "__vdso_clock_gettime" or "__kernel_clock_gettime" (any version-less
// symbol of that name when the image has no symbol versions at all).
func (im *Image) Lookup(name string) (uintptr, bool) {
	if im == nil {
		return 0, false
	}
	for _, s := range im.syms {
		if s.Name == name && (s.Version == Version || !im.versioned && s.Version == "") && s.Defined && s.Func {
			return s.Addr, true
		}
	}
	return 0, false
}

// Symbols returns the image's dynamic symbols (without the null symbol at
// index 0), sorted by name then version.
func (im *Image) Symbols() []Symbol {
	out := append([]Symbol(nil), im.syms...)
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].Version < out[j].Version
	})
	return out
}
