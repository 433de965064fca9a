package vdso

import (
	"errors"
	"os"
	"testing"
)

// FuzzParse feeds Parse, imageSize and both single-source parsers malformed
// images, seeded with the real vDSO with and without its section headers:
// none may panic, every error must wrap ErrBadImage, and every symbol found
// must lie inside the bounds its headers allow to be checked.
//
//	go test ./probes/vdso -run '^$' -fuzz FuzzParse -fuzztime 60s
func FuzzParse(f *testing.F) {
	image, err := os.ReadFile(fixture)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(image)
	f.Add(stripSections(image))
	f.Add(image[:0x1542])
	f.Fuzz(func(t *testing.T, b []byte) {
		im, err := Parse(b, 0x7f0000000000)
		if err != nil {
			if !errors.Is(err, ErrBadImage) {
				t.Fatalf("Parse error %q does not wrap ErrBadImage", err)
			}
		} else {
			_ = im.Symbols()
			im.Lookup(ClockGettime)
		}
		for _, src := range []Source{FromSections, FromProgram} {
			if _, err := parseWith(b, 0, src); err != nil && !errors.Is(err, ErrBadImage) {
				t.Fatalf("%s: error %q does not wrap ErrBadImage", src, err)
			}
		}
		if load, full, err := imageSize(b, 4096); err == nil && (load <= 0 || full < load || full > maxImage) {
			t.Fatalf("imageSize = %d, %d", load, full)
		}
	})
}
