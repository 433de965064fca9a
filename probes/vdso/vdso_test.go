package vdso

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
)

const fixture = "testdata/vdso-6.18-x86_64.so"

func readFixture(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// stripSections returns a copy of image whose ELF header claims no section
// headers, as a loader that only maps program headers would see it.
func stripSections(image []byte) []byte {
	b := append([]byte(nil), image...)
	clear(b[0x28:0x30]) // e_shoff
	clear(b[0x3c:0x40]) // e_shnum, e_shstrndx
	return b
}

// TestParseFixture parses the real 6.18 vDSO from its program headers and
// checks the result against what debug/elf reads from its section headers,
// an independent view of the same table.
func TestParseFixture(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skipf("the fixture is an x86-64 vDSO; Exported and Version are %s's", runtime.GOARCH)
	}
	image := readFixture(t)
	const base = 0x7f0000001000
	im, err := Parse(image, base)
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.NewFile(bytes.NewReader(image))
	if err != nil {
		t.Fatal(err)
	}
	ds, err := f.DynamicSymbols()
	if err != nil {
		t.Fatal(err)
	}
	var want []Symbol
	for _, s := range ds {
		want = append(want, Symbol{Name: s.Name, Version: s.Version, Value: s.Value, Size: s.Size,
			Func: elf.ST_TYPE(s.Info) == elf.STT_FUNC, Defined: s.Section != elf.SHN_UNDEF, Addr: uintptr(base + s.Value)})
	}
	slices.SortFunc(want, func(a, b Symbol) int { return strings.Compare(a.Name+" "+a.Version, b.Name+" "+b.Version) })
	if got := im.Symbols(); !slices.Equal(got, want) || len(got) != 13 {
		t.Errorf("program headers:\n got %+v\nsection headers:\nwant %+v", got, want)
	}
	// Every function vdso.lds.S exports on this kernel (6.18 has
	// getrandom) is found, with version LINUX_2.6, inside the image.
	for _, name := range Exported {
		addr, ok := im.Lookup(name)
		if !ok {
			t.Errorf("%s not found", name)
			continue
		}
		if addr < base || addr >= base+uintptr(len(image)) {
			t.Errorf("%s at %#x, outside the image [%#x, +%d)", name, addr, uintptr(base), len(image))
		}
	}
	// The weak alias and the __vdso_ name are the same function.
	alias, _ := im.Lookup("clock_gettime")
	if addr, _ := im.Lookup(ClockGettime); addr != alias || alias == 0 {
		t.Errorf("clock_gettime at %#x, __vdso_clock_gettime at %#x", alias, addr)
	}
	if _, ok := im.Lookup("__vdso_nonexistent"); ok {
		t.Error("found a symbol that does not exist")
	}
	if _, ok := im.Lookup(Version); ok {
		t.Error("the version's ABS symbol is not a function, Lookup must not return it")
	}
	if im.Base != base || im.Size != len(image) {
		t.Errorf("Base %#x Size %d", im.Base, im.Size)
	}
}

// TestParseIgnoresSectionHeaders: the section headers may be absent or
// cut off (the image as far as PT_LOAD reaches): the symbols are the same.
func TestParseIgnoresSectionHeaders(t *testing.T) {
	image := readFixture(t)
	full, err := Parse(image, 0)
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{
		"stripped":       stripSections(image),
		"cut at PT_LOAD": image[:0x1542],
	} {
		im, err := Parse(b, 0)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !slices.Equal(full.Symbols(), im.Symbols()) {
			t.Errorf("%s: the symbols changed", name)
		}
	}
}

func TestImageSize(t *testing.T) {
	image := readFixture(t)
	if n, err := imageSize(image, 4096); err != nil || n != 2*4096 {
		t.Errorf("imageSize = %d, %v; want two pages (PT_LOAD ends at 0x1542)", n, err)
	}
}

// setLoad rewrites the fixture's PT_LOAD (program header 0).
func setLoad(image []byte, off, filesz uint64) []byte {
	b := append([]byte(nil), image...)
	ph := b[64:]
	binary.LittleEndian.PutUint64(ph[8:], off)
	binary.LittleEndian.PutUint64(ph[32:], filesz)
	return b
}

// TestImageSizeOverflow: p_offset + p_filesz that wraps past 2^64 must be
// refused, not rounded to a size of 0. (FuzzParse found filesz
// 0xfffffffffffffe42, which made the unchecked sum wrap.)
func TestImageSizeOverflow(t *testing.T) {
	image := readFixture(t)
	for name, b := range map[string][]byte{
		"filesz wraps":        setLoad(image, 0x1c0, 0xfffffffffffffe42),
		"offset wraps":        setLoad(image, 0xffffffffffffff00, 0x200),
		"rounding would wrap": setLoad(image, 0, 0xffffffffffffff01),
		"past the copy limit": setLoad(image, 0, maxImage+1),
		"empty":               setLoad(image, 0, 0),
	} {
		if n, err := imageSize(b, 4096); !errors.Is(err, ErrBadImage) {
			t.Errorf("%s: imageSize = %d, %v; want ErrBadImage", name, n, err)
		}
	}
	// Parse does not trip on the same header either.
	if _, err := Parse(setLoad(image, 0x1c0, 0xfffffffffffffe42), 0); !errors.Is(err, ErrBadImage) {
		t.Errorf("Parse: %v", err)
	}
}

func TestParseBadImages(t *testing.T) {
	image := readFixture(t)
	garbage := append([]byte(nil), image...)
	copy(garbage, "NOTELF")
	badDyn := append([]byte(nil), image...)
	clear(badDyn[0x440:0x580]) // .dynamic: the first entry becomes DT_NULL
	class32 := append([]byte(nil), image...)
	class32[elf.EI_CLASS] = byte(elf.ELFCLASS32)
	phentsize := append([]byte(nil), image...)
	phentsize[0x36] = 32
	for name, b := range map[string][]byte{
		"empty":            {},
		"truncated header": image[:40],
		"truncated phdrs":  image[:100],
		"no magic":         garbage,
		"ELF32":            class32,
		"e_phentsize":      phentsize,
		"truncated tables": image[:0x300],
		"empty dynamic":    badDyn,
		"zeros":            make([]byte, 8192),
	} {
		im, err := Parse(b, 0)
		if err == nil {
			t.Errorf("%s: parsed (%d symbols), want an error", name, len(im.Symbols()))
			continue
		}
		if !errors.Is(err, ErrBadImage) {
			t.Errorf("%s: error %q does not wrap ErrBadImage", name, err)
		}
	}
}

func TestOpenLive(t *testing.T) {
	im, err := Open()
	if errors.Is(err, ErrNoVDSO) {
		t.Skip("this process has no vDSO (vdso=0)")
	}
	if err != nil {
		t.Fatal(err)
	}
	base, _ := Addr()
	if !mapped(base, im.Size, os.Getpagesize()) {
		t.Error("mincore says the image Open read is not mapped")
	}
	if mapped(0, 4096, os.Getpagesize()) {
		t.Error("mincore says page 0 is mapped")
	}
	if im.Base != base {
		t.Errorf("Base %#x, AT_SYSINFO_EHDR %#x", im.Base, base)
	}
	for _, name := range Always {
		addr, ok := im.Lookup(name)
		if !ok {
			t.Errorf("%s not found in the live vDSO", name)
			continue
		}
		if addr < im.Base || addr >= im.Base+uintptr(im.Size) {
			t.Errorf("%s at %#x, outside [%#x, +%d)", name, addr, im.Base, im.Size)
		}
	}
}

func TestNoVDSO(t *testing.T) {
	// As under vdso=0: the auxiliary vector has no AT_SYSINFO_EHDR, or 0.
	const atSysinfoEHDR = 33 // include/uapi/linux/auxvec.h, written out to check proc's
	for _, auxv := range [][][2]uintptr{
		nil,
		{{6, 4096}, {25, 0x7ffc0000}},
		{{atSysinfoEHDR, 0}, {6, 4096}},
	} {
		if _, err := addrFrom(auxv); !errors.Is(err, ErrNoVDSO) {
			t.Errorf("auxv %v: %v, want ErrNoVDSO", auxv, err)
		}
	}
	if a, err := addrFrom([][2]uintptr{{6, 4096}, {atSysinfoEHDR, 0x7f0000000000}}); err != nil || a != 0x7f0000000000 {
		t.Errorf("addrFrom = %#x, %v", a, err)
	}
	var im *Image
	if _, ok := im.Lookup(ClockGettime); ok {
		t.Error("a nil Image found a symbol")
	}
}
