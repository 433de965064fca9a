package aslr

import "testing"

// The branch offsets of reportCode are hand-computed from its listing: the
// code must still have the listing's length and its labels where the
// branches land.
func TestReportCodeListing(t *testing.T) {
	c := reportCode()
	if len(c) != 0xa0 {
		t.Fatalf("%d bytes, the listing has 0xa0", len(c))
	}
	for _, l := range []struct {
		name      string
		branch    int // offset of the rel8 branch
		target    int
		firstByte byte
	}{
		{"jnz env", 0x26, 0x21, 0x48},
		{"jz done", 0x32, 0x6d, 0xb8},
		{"jne aux", 0x64, 0x28, 0x48},
		{"jmp aux", 0x6b, 0x28, 0x48},
	} {
		if got := l.branch + 2 + int(int8(c[l.branch+1])); got != l.target || c[got] != l.firstByte {
			t.Errorf("%s at %#x lands at %#x (byte %#x), want %#x", l.name, l.branch, got, c[got], l.target)
		}
	}
}
