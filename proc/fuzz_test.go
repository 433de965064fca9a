package proc

import (
	"bytes"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
)

// The fuzz targets run as ordinary tests on their seeds; scripts/fuzz runs
// them all with the fuzzing engine, e.g.
//
//	go test ./proc -run '^$' -fuzz '^FuzzParseMaps$' -fuzztime 30s -fuzzminimizetime 0

func seed(f *testing.F, file string) []byte {
	b, err := os.ReadFile("testdata/" + file)
	if err != nil {
		f.Fatal(err)
	}
	return b
}

// FuzzParseMaps: no panic, errors wrap ErrMalformedMaps, and what the
// parser reads it round-trips: the mappings printed as the kernel prints
// them (Mapping.AppendLine) parse back to the same mappings.
func FuzzParseMaps(f *testing.F) {
	f.Add(seed(f, "maps-xonly-6.18.txt"))
	f.Add([]byte("7f00-7f01 rw-p 00000000 fe:00 12 /tmp/a file (deleted)\n"))
	f.Add([]byte("7f00-7f01 r--s 00000000 00:05 3 \n\n00400000-00452000 r-xp 00000000 08:02 173521      /usr/bin/dbus-daemon"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ms, err := AppendMaps(nil, b)
		if err != nil {
			if !errors.Is(err, ErrMalformedMaps) {
				t.Fatalf("error %q does not wrap ErrMalformedMaps", err)
			}
			return
		}
		var text []byte
		for _, m := range ms {
			text = append(m.AppendLine(text), '\n')
		}
		back, err := AppendMaps(nil, text)
		if err != nil {
			t.Fatalf("reparse of\n%s: %v", text, err)
		}
		if !slices.Equal(back, ms) {
			t.Fatalf("round trip changed the mappings:\n got %+v\nwant %+v", back, ms)
		}
		viaReader, err := ParseMaps(bytes.NewReader(b))
		if err != nil || !slices.Equal(viaReader, ms) {
			t.Fatalf("ParseMaps and AppendMaps disagree: %v", err)
		}
	})
}

// FuzzParseStat: no panic, errors wrap ErrMalformedStat, and a parsed line
// has its pid, state and at least the four fields up to ppid.
func FuzzParseStat(f *testing.F) {
	f.Add(seed(f, "stat-cat-6.18.txt"))
	f.Add(seed(f, "stat-comm-paren-6.18.txt"))
	f.Add([]byte("1 (init) S 0 1 1 0 -1 4194560\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseStat(b)
		if err != nil {
			if !errors.Is(err, ErrMalformedStat) {
				t.Fatalf("error %q does not wrap ErrMalformedStat", err)
			}
			return
		}
		if s.NFields < 4 || s.State == 0 || !strings.Contains(string(b), "("+s.Comm+")") {
			t.Fatalf("parsed %+v from %q", s, b)
		}
	})
}

// FuzzParseAuxv: no panic, errors wrap ErrMalformedAuxv, and a parsed
// vector holds no AT_NULL and fewer entries than the input has pairs.
func FuzzParseAuxv(f *testing.F) {
	f.Add(seed(f, "auxv-cat-6.18.bin"))
	f.Add(make([]byte, 16))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := ParseAuxv(b)
		if err != nil {
			if !errors.Is(err, ErrMalformedAuxv) {
				t.Fatalf("error %q does not wrap ErrMalformedAuxv", err)
			}
			return
		}
		if len(a) >= len(b)/16 {
			t.Fatalf("%d entries from %d bytes", len(a), len(b))
		}
		for _, e := range a {
			if e.Type == AT_NULL {
				t.Fatal("AT_NULL inside the vector")
			}
		}
	})
}

// FuzzParseCPUInfo: no panic, errors wrap ErrMalformedCPUInfo, and flags
// are single words.
func FuzzParseCPUInfo(f *testing.F) {
	f.Add(seed(f, "cpuinfo-epyc.txt"))
	f.Add([]byte("processor\t: 0\nmodel name\t: A\nflags\t\t: fpu tsc\n\nprocessor\t: 1\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseCPUInfo(bytes.NewReader(b))
		if err != nil {
			if !errors.Is(err, ErrMalformedCPUInfo) {
				t.Fatalf("error %q does not wrap ErrMalformedCPUInfo", err)
			}
			return
		}
		for _, fl := range append(c.Flags, c.Bugs...) {
			if fl == "" || strings.ContainsAny(fl, " \t\n") {
				t.Fatalf("flag %q", fl)
			}
		}
	})
}

// FuzzBootParam: no panic, and a parameter found is a name=value (or bare
// name) argument before any "--".
func FuzzBootParam(f *testing.F) {
	f.Add("console=ttyS0 vsyscall=emulate quiet vsyscall=none -- vsyscall=xonly", "vsyscall")
	f.Add("quiet", "quiet")
	f.Fuzz(func(t *testing.T, cmdline, name string) {
		v, ok := BootParam(cmdline, name)
		if !ok {
			if v != "" {
				t.Fatalf("not found but value %q", v)
			}
			return
		}
		args, _, _ := strings.Cut(" "+strings.Join(strings.Fields(cmdline), " ")+" ", " -- ")
		if !slices.Contains(strings.Fields(args), name+"="+v) && !(v == "" && slices.Contains(strings.Fields(args), name)) {
			t.Fatalf("%q = %q is not an argument of %q", name, v, cmdline)
		}
	})
}
