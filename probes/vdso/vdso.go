// Package vdso finds the functions of the vDSO the kernel maps into every
// process, by parsing the ELF image at getauxval(AT_SYSINFO_EHDR).
//
// No libc and no cgo: Open reads the auxiliary vector (unix.Auxv), sizes the
// image from its program headers, copies it and parses the copy. Parse reads
// the dynamic symbol table through the section headers with debug/elf when
// they are present (they are on x86-64 kernels to date), and otherwise from
// the program headers alone — PT_DYNAMIC and its DT_SYMTAB, DT_STRTAB,
// DT_HASH or DT_GNU_HASH, DT_VERSYM and DT_VERDEF — which is all the Go
// runtime (runtime/vdso_linux.go) and the kernel's sample parser
// (tools/testing/selftests/vDSO/parse_vdso.c) rely on.
//
// Addresses: a symbol's run-time address is the image's base plus the
// symbol's value, moved by the first PT_LOAD's p_offset - p_vaddr (zero for
// every x86-64 vDSO so far, which is linked at address 0).
package vdso

import (
	"errors"
	"fmt"
	"sort"
)

// ErrNoVDSO is returned when the process has no vDSO (vdso=0 at boot).
var ErrNoVDSO = errors.New("no vDSO mapped (AT_SYSINFO_EHDR is 0)")

// ErrBadImage is wrapped by every error about an image that is not a
// usable vDSO (truncated, not ELF, inconsistent tables).
var ErrBadImage = errors.New("bad vDSO image")

// Source says which headers the symbols were read from.
type Source string

const (
	FromSections Source = "section headers"
	FromProgram  Source = "program headers"
)

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
	Base   uintptr // where it is mapped (AT_SYSINFO_EHDR); 0 for a file
	Size   int     // bytes of image parsed
	Source Source  // which headers gave the symbols
	// Fallback says why the section headers were not used when Source is
	// FromProgram, e.g. that they lie past the mapped image.
	Fallback string
	syms     []Symbol
	// versioned is false when no symbol carries a version (no DT_VERSYM):
	// Lookup then matches by name alone, as the Go runtime
	// (runtime/vdso_linux.go) and parse_vdso.c do.
	versioned bool
}

// Parse parses a vDSO image whose first byte is mapped at base (pass 0 for
// an image read from a file: Addr then equals the link-time address). It
// uses the section headers when they are present and readable, and the
// program headers otherwise.
func Parse(image []byte, base uintptr) (*Image, error) {
	bias, err := loadBias(image)
	if err != nil {
		return nil, err
	}
	syms, src, err := parseSections(image)
	if err != nil || syms == nil {
		var perr error
		syms, perr = parseDynamic(image)
		if perr != nil {
			if err != nil {
				return nil, fmt.Errorf("%w (section headers: %v)", perr, err)
			}
			return nil, perr
		}
		src = FromProgram
	}
	im := newImage(image, base, bias, syms, src)
	if src == FromProgram {
		im.Fallback = "no section headers"
		if err != nil {
			im.Fallback = err.Error()
		}
	}
	return im, nil
}

// parseWith is Parse restricted to one kind of headers (for tests).
func parseWith(image []byte, base uintptr, src Source) (*Image, error) {
	bias, err := loadBias(image)
	if err != nil {
		return nil, err
	}
	var syms []Symbol
	if src == FromSections {
		syms, _, err = parseSections(image)
		if err == nil && syms == nil {
			err = fmt.Errorf("%w: no section headers", ErrBadImage)
		}
	} else {
		syms, err = parseDynamic(image)
	}
	if err != nil {
		return nil, err
	}
	return newImage(image, base, bias, syms, src), nil
}

func newImage(image []byte, base uintptr, bias int64, syms []Symbol, src Source) *Image {
	versioned := false
	for i := range syms {
		syms[i].Addr = uintptr(int64(base) + int64(syms[i].Value) + bias)
		versioned = versioned || syms[i].Version != ""
	}
	return &Image{Base: base, Size: len(image), Source: src, syms: syms, versioned: versioned}
}

// Lookup returns the run-time address of the function name with version
// LINUX_2.6, e.g. "__vdso_clock_gettime" (any version-less symbol of that
// name when the image has no symbol versions at all).
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
