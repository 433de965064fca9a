package runfile

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

// TestHexAddresses: a written run carries each address as a hex string
// beside its number, equal to it; a reader ignores the strings, so a file
// without them or with a wrong one reads as the same run, and writing it
// again gives the strings of its numbers.
func TestHexAddresses(t *testing.T) {
	r := fullRun()
	var buf bytes.Buffer
	if err := r.Encode(&buf); err != nil {
		t.Fatal(err)
	}
	var raw struct {
		ASLR struct {
			Regions  []map[string]json.RawMessage
			Vsyscall map[string]any
		}
	}
	if err := json.Unmarshal(buf.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	if len(raw.ASLR.Regions) != len(r.ASLR.Regions) {
		t.Fatalf("%d regions written, want %d", len(raw.ASLR.Regions), len(r.ASLR.Regions))
	}
	for i, g := range r.ASLR.Regions {
		for _, f := range []struct {
			key  string
			want uint64
		}{{"min", g.Min}, {"max", g.Max}} {
			var num json.Number
			var hex string
			if err := json.Unmarshal(raw.ASLR.Regions[i][f.key], &num); err != nil {
				t.Fatalf("%s.%s: %v", g.Name, f.key, err)
			}
			if err := json.Unmarshal(raw.ASLR.Regions[i][f.key+"_hex"], &hex); err != nil {
				t.Fatalf("%s.%s_hex: %v (%s)", g.Name, f.key, err, raw.ASLR.Regions[i][f.key+"_hex"])
			}
			n, err := strconv.ParseUint(num.String(), 10, 64)
			h, herr := strconv.ParseUint(strings.TrimPrefix(hex, "0x"), 16, 64)
			if err != nil || herr != nil || n != f.want || h != f.want || !strings.HasPrefix(hex, "0x") || hex != strings.ToLower(hex) {
				t.Errorf("%s: %s %s, %s_hex %q; want both %#x", g.Name, f.key, num, f.key, hex, f.want)
			}
		}
	}
	if got := raw.ASLR.Vsyscall["addr_hex"]; got != "0xffffffffff600000" {
		t.Errorf("vsyscall addr_hex %v, want 0xffffffffff600000", got)
	}

	// A page never seen has neither addr nor addr_hex.
	r2 := fullRun()
	r2.ASLR.Vsyscall = &Vsyscall{Perms: ""}
	var buf2 bytes.Buffer
	if err := r2.Encode(&buf2); err != nil {
		t.Fatal(err)
	}
	if s := buf2.String(); strings.Contains(s, `"addr"`) || strings.Contains(s, `"addr_hex"`) {
		t.Errorf("an unmapped vsyscall page written with an address:\n%s", s)
	}

	// Read back: the hex strings are ignored, whatever they hold.
	for _, tc := range []struct{ name, from, to string }{
		{"as written", "", ""},
		{"without hex strings", `"min_hex": "0x7f0000000000",`, ""},
		{"with a wrong hex string", `"min_hex": "0x7f0000000000"`, `"min_hex": "0xdead"`},
	} {
		text := buf.String()
		if tc.from != "" {
			if !strings.Contains(text, tc.from) {
				t.Fatalf("%s: %q not in the written run:\n%s", tc.name, tc.from, text)
			}
			text = strings.Replace(text, tc.from, tc.to, 1)
		}
		back, err := Decode(strings.NewReader(text), "run.json")
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := back.ASLR.Regions[0].Min; got != r.ASLR.Regions[0].Min {
			t.Errorf("%s: min read as %#x, want %#x", tc.name, got, r.ASLR.Regions[0].Min)
		}
		var again bytes.Buffer
		if err := back.Encode(&again); err != nil {
			t.Fatal(err)
		}
		if again.String() != buf.String() {
			t.Errorf("%s: written again differs from the first writing", tc.name)
		}
	}
}
