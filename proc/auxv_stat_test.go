package proc

import (
	"errors"
	"os"
	"testing"
)

func TestParseAuxvFixture(t *testing.T) {
	// Captured with `cat /proc/self/auxv` (a PIE /usr/bin/cat with ld.so)
	// on Linux 6.18.
	b, err := os.ReadFile("testdata/auxv-cat-6.18.bin")
	if err != nil {
		t.Fatal(err)
	}
	a, err := ParseAuxv(b)
	if err != nil {
		t.Fatal(err)
	}
	if want := len(b)/16 - 1; len(a) != want {
		t.Errorf("%d entries, want %d (all but AT_NULL)", len(a), want)
	}
	for _, c := range []struct {
		typ  uint64
		want uint64
	}{
		{AT_SYSINFO_EHDR, 0x7f1ba1f2f000},
		{AT_BASE, 0x7f1ba1f31000},
		{AT_ENTRY, 0x55b80e887130},
		{AT_PHDR, 0x55b80e884040},
		{AT_PAGESZ, 4096},
		{AT_PHENT, 56},
	} {
		got, ok := a.Get(c.typ)
		if !ok || got != c.want {
			t.Errorf("Get(%d) = %#x, %v; want %#x", c.typ, got, ok, c.want)
		}
	}
	if _, ok := a.Get(0x7fff); ok {
		t.Error("Get of an absent type reported found")
	}
}

func TestParseAuxvMalformed(t *testing.T) {
	b, err := os.ReadFile("testdata/auxv-cat-6.18.bin")
	if err != nil {
		t.Fatal(err)
	}
	for name, in := range map[string][]byte{
		"odd length":    b[:len(b)-3],
		"no terminator": b[:len(b)-16],
	} {
		if _, err := ParseAuxv(in); !errors.Is(err, ErrMalformedAuxv) {
			t.Errorf("%s: err = %v, want ErrMalformedAuxv", name, err)
		}
	}
}

func TestReadAuxvSelf(t *testing.T) {
	a, err := ReadAuxv(0)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := a.Get(AT_PAGESZ); !ok || v != uint64(os.Getpagesize()) {
		t.Errorf("AT_PAGESZ = %d, %v; want %d", v, ok, os.Getpagesize())
	}
	ms, err := ReadMaps(0)
	if err != nil {
		t.Fatal(err)
	}
	vdso, ok := ms.Find("[vdso]")
	ehdr, _ := a.Get(AT_SYSINFO_EHDR)
	if ok && ehdr != vdso.Start {
		t.Errorf("AT_SYSINFO_EHDR %#x is not the [vdso] mapping %v", ehdr, vdso)
	}
}

func TestParseStatFixtures(t *testing.T) {
	for _, c := range []struct {
		file     string
		pid      int
		comm     string
		state    byte
		ppid     int
		startBrk uint64
		stack    uint64
	}{
		// `cat /proc/self/stat`
		{"testdata/stat-cat-6.18.txt", 10206, "cat", 'R', 10195, 94442407604224, 140728018405712},
		// a copy of sleep named "we ird) (comm": spaces and parentheses
		{"testdata/stat-comm-paren-6.18.txt", 10201, "we ird) (comm", 'S', 10200, 94053490106368, 140731254977008},
	} {
		b, err := os.ReadFile(c.file)
		if err != nil {
			t.Fatal(err)
		}
		s, err := ParseStat(b)
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		if s.PID != c.pid || s.Comm != c.comm || s.State != c.state || s.PPID != c.ppid {
			t.Errorf("%s: pid %d comm %q state %c ppid %d", c.file, s.PID, s.Comm, s.State, s.PPID)
		}
		if s.StartBrk != c.startBrk || s.StartStack != c.stack {
			t.Errorf("%s: start_brk %d start_stack %d", c.file, s.StartBrk, s.StartStack)
		}
		if s.NFields != 52 || s.NumThreads != 1 {
			t.Errorf("%s: %d fields, %d threads", c.file, s.NFields, s.NumThreads)
		}
		if s.StartCode == 0 || s.EndCode <= s.StartCode || s.EnvEnd <= s.EnvStart {
			t.Errorf("%s: code %#x-%#x env %#x-%#x", c.file, s.StartCode, s.EndCode, s.EnvStart, s.EnvEnd)
		}
	}
}

func TestParseStatMalformed(t *testing.T) {
	for _, in := range []string{"", "12 cat R 1", "x (cat) R 1", "12 (cat)", "12 (cat) RR 1 2", "12 (cat) R 1 zz",
		"1 (init) \x00 0 1", // a state that is no state (found by FuzzParseStat)
		"1 (init) ? 0 1"} {
		if _, err := ParseStat([]byte(in)); !errors.Is(err, ErrMalformedStat) {
			t.Errorf("ParseStat(%q) err = %v, want ErrMalformedStat", in, err)
		}
	}
}

func TestReadStatSelf(t *testing.T) {
	s, err := ReadStat(0)
	if err != nil {
		t.Fatal(err)
	}
	if s.PID != os.Getpid() || s.PPID != os.Getppid() {
		t.Errorf("pid %d ppid %d, want %d %d", s.PID, s.PPID, os.Getpid(), os.Getppid())
	}
	if s.StartBrk == 0 {
		t.Error("start_brk of self reads 0")
	}
}
