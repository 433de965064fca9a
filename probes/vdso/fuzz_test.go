package vdso

import (
	"errors"
	"testing"
)

// FuzzParse feeds Parse and imageSize malformed images, seeded with the
// real vDSO, the same without section headers or cut at its PT_LOAD, and
// synthetic images with each kind of hash table: none may panic, every
// error must wrap ErrBadImage, a size must be whole pages within maxImage,
// and every symbol Lookup returns must be one Symbols lists.
//
//	go test ./probes/vdso -run '^$' -fuzz FuzzParse -fuzztime 30s -fuzzminimizetime 0
func FuzzParse(f *testing.F) {
	image := readFixture(f)
	f.Add(image)
	f.Add(stripSections(image))
	f.Add(image[:0x1542])
	for _, o := range synSeeds() {
		b, _ := o.build()
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		const base = 0x7f0000000000
		im, err := Parse(b, base)
		if err != nil {
			if !errors.Is(err, ErrBadImage) {
				t.Fatalf("Parse error %q does not wrap ErrBadImage", err)
			}
		} else {
			syms := im.Symbols()
			if len(syms) > maxSyms {
				t.Fatalf("%d symbols from %d bytes", len(syms), len(b))
			}
			for _, s := range syms {
				if addr, ok := im.Lookup(s.Name); ok && !im.has(s.Name, addr) {
					t.Fatalf("Lookup(%q) = %#x, not a listed symbol", s.Name, addr)
				}
			}
		}
		if n, err := imageSize(b, 4096); err != nil {
			if !errors.Is(err, ErrBadImage) {
				t.Fatalf("imageSize error %q does not wrap ErrBadImage", err)
			}
		} else if n <= 0 || n%4096 != 0 || n > maxImage {
			t.Fatalf("imageSize = %d", n)
		}
	})
}

// has reports whether a symbol name is listed at addr.
func (im *Image) has(name string, addr uintptr) bool {
	for _, s := range im.syms {
		if s.Name == name && s.Addr == addr {
			return true
		}
	}
	return false
}
