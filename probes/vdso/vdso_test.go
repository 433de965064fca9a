package vdso

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
)

const fixture = "testdata/vdso-6.18-x86_64.so"

func readFixture(t *testing.T) []byte {
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

func TestParseFixtureBothPaths(t *testing.T) {
	image := readFixture(t)
	const base = 0x7f0000001000
	secs, err := parseWith(image, base, FromSections)
	if err != nil {
		t.Fatalf("section headers: %v", err)
	}
	dyn, err := parseWith(image, base, FromProgram)
	if err != nil {
		t.Fatalf("program headers: %v", err)
	}
	a, b := secs.Symbols(), dyn.Symbols()
	if !slices.Equal(a, b) {
		t.Errorf("the two parsers disagree:\nsections: %+v\nprogram:  %+v", a, b)
	}
	if len(a) == 0 {
		t.Fatal("no symbols")
	}
	// Every function vdso.lds.S exports on this kernel (6.18 has
	// getrandom) is found, with version LINUX_2.6, inside the image.
	for _, name := range Exported {
		for _, im := range []*Image{secs, dyn} {
			addr, ok := im.Lookup(name)
			if !ok {
				t.Errorf("%s: %s not found", im.Source, name)
				continue
			}
			if addr < base || addr >= base+uintptr(len(image)) {
				t.Errorf("%s: %s at %#x, outside the image [%#x, +%d)", im.Source, name, addr, uintptr(base), len(image))
			}
		}
	}
	// The weak alias and the __vdso_ name are the same function.
	for _, s := range a {
		if s.Name == "clock_gettime" {
			if addr, _ := secs.Lookup(ClockGettime); addr != s.Addr {
				t.Errorf("clock_gettime at %#x, __vdso_clock_gettime at %#x", s.Addr, addr)
			}
		}
	}
	if _, ok := secs.Lookup("__vdso_nonexistent"); ok {
		t.Error("found a symbol that does not exist")
	}
	if _, ok := secs.Lookup("LINUX_2.6"); ok {
		t.Error("the version's ABS symbol is not a function, Lookup must not return it")
	}
}

func TestParseFallsBackWithoutSections(t *testing.T) {
	image := readFixture(t)
	full, err := Parse(image, 0)
	if err != nil {
		t.Fatal(err)
	}
	if full.Source != FromSections {
		t.Errorf("Parse used %s on an image with section headers", full.Source)
	}
	stripped, err := Parse(stripSections(image), 0)
	if err != nil {
		t.Fatal(err)
	}
	if stripped.Source != FromProgram {
		t.Errorf("Parse used %s on an image without section headers", stripped.Source)
	}
	if !slices.Equal(full.Symbols(), stripped.Symbols()) {
		t.Error("stripping the section headers changed the symbols")
	}
	// Section headers cut off (image shorter than e_shoff): falls back too.
	cut := image[:0x1542]
	im, err := Parse(cut, 0)
	if err != nil {
		t.Fatalf("image cut before its section headers: %v", err)
	}
	if im.Source != FromProgram || !strings.Contains(im.Fallback, "past the") {
		t.Errorf("cut image parsed from %s (fallback reason %q)", im.Source, im.Fallback)
	}
}

func TestParseBadImages(t *testing.T) {
	image := readFixture(t)
	garbage := append([]byte(nil), image...)
	copy(garbage, "NOTELF")
	badDyn := stripSections(image)
	clear(badDyn[0x440:0x580]) // .dynamic: the first entry becomes DT_NULL
	for name, b := range map[string][]byte{
		"empty":            {},
		"truncated header": image[:40],
		"truncated phdrs":  image[:100],
		"no magic":         garbage,
		"truncated tables": stripSections(image[:0x300]),
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
		t.Logf("%s: %v", name, err)
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
	if im.Source != FromSections {
		t.Errorf("live vDSO read from the %s (%s); x86 maps its section headers", im.Source, im.Fallback)
	}
	if !mapped(base, im.Size, os.Getpagesize()) {
		t.Error("mincore says the image Open read is not mapped")
	}
	if mapped(0, 4096, os.Getpagesize()) {
		t.Error("mincore says page 0 is mapped")
	}
	if im.Base != base {
		t.Errorf("Base %#x, AT_SYSINFO_EHDR %#x", im.Base, base)
	}
	for _, name := range []string{ClockGettime, Gettimeofday, Time, Getcpu, ClockGetres} {
		addr, ok := im.Lookup(name)
		if !ok {
			t.Errorf("%s not found in the live vDSO", name)
			continue
		}
		if addr < im.Base || addr >= im.Base+uintptr(im.Size) {
			t.Errorf("%s at %#x, outside [%#x, +%d)", name, addr, im.Base, im.Size)
		}
	}
	// The live image and the program-header parse of it agree.
	live := append([]byte(nil), memory(im.Base, im.Size)...)
	dyn, err := parseWith(live, im.Base, FromProgram)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(im.Symbols(), dyn.Symbols()) {
		t.Error("live vDSO: the two parsers disagree")
	}
}

func TestNoVDSO(t *testing.T) {
	// As under vdso=0: the auxiliary vector has no AT_SYSINFO_EHDR, or 0.
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

// TestLookupVersions: a symbol of another version is not LINUX_2.6's; an
// image with no symbol versions at all is matched by name, as the Go runtime
// and parse_vdso.c accept it.
func TestLookupVersions(t *testing.T) {
	im, err := Parse(readFixture(t), 0)
	if err != nil {
		t.Fatal(err)
	}
	want, ok := im.Lookup(ClockGettime)
	if !ok {
		t.Fatal("fixture has no " + ClockGettime)
	}
	other := make([]Symbol, len(im.syms))
	bare := make([]Symbol, len(im.syms))
	for i, s := range im.syms {
		other[i], bare[i] = s, s
		other[i].Version = "LINUX_9.9"
		bare[i].Version = ""
	}
	if _, ok := newImage(readFixture(t), 0, 0, other, FromSections).Lookup(ClockGettime); ok {
		t.Error("found a LINUX_9.9 symbol as LINUX_2.6")
	}
	if got, ok := newImage(readFixture(t), 0, 0, bare, FromSections).Lookup(ClockGettime); !ok || got != want {
		t.Errorf("unversioned image: %#x %v, want %#x", got, ok, want)
	}
	mixed := append([]Symbol{{Name: "x", Version: Version, Func: true, Defined: true}}, bare...)
	if _, ok := newImage(readFixture(t), 0, 0, mixed, FromSections).Lookup(ClockGettime); ok {
		t.Error("a version-less symbol matched in a versioned image")
	}
}
