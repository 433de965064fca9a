package aslr

import (
	"bytes"
	"encoding/hex"
	"os"
	"strings"
	"testing"
)

// The machine code, constants patched in from x/sys/unix, proc and
// selfreport.go, must be byte for byte what GNU as made of the listings in
// testdata/amd64 (the listings of the comments in target_amd64.go).
func TestAmd64CodeIsTheListing(t *testing.T) {
	for name, code := range map[string][]byte{
		"report":       reportCode(true),
		"report_spawn": reportCode(false),
		"noop":         noopChainCode(),
		"stub":         vforkCode(),
	} {
		b, err := os.ReadFile("testdata/amd64/" + name + ".hex")
		if err != nil {
			t.Fatal(err)
		}
		want, err := hex.DecodeString(strings.Join(strings.Fields(string(b)), ""))
		if err != nil {
			t.Fatalf("%s.hex: %v", name, err)
		}
		if !bytes.Equal(code, want) {
			for i := range min(len(code), len(want)) {
				if code[i] != want[i] {
					t.Errorf("%s: byte %#x is %#x, the listing has %#x (%d bytes against %d)", name, i, code[i], want[i], len(code), len(want))
					break
				}
			}
			if len(code) != len(want) {
				t.Errorf("%s: %d bytes, the listing %d", name, len(code), len(want))
			}
		}
	}
}
