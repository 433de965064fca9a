package proc

import (
	"bytes"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
)

func TestParseMapsFixture(t *testing.T) {
	f, err := os.Open("testdata/maps-xonly-6.18.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ms, err := ParseMaps(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) < 10 {
		t.Fatalf("parsed %d mappings, want the whole file", len(ms))
	}
	vs, ok := ms.Find("[vsyscall]")
	if !ok {
		t.Fatal("no [vsyscall] line")
	}
	if vs.Start != 0xffffffffff600000 || vs.End != 0xffffffffff601000 || vs.Perms != "--xp" {
		t.Errorf("[vsyscall] = %v", vs)
	}
	if vs.Readable() || !vs.Executable() {
		t.Errorf("[vsyscall] permissions misread: %v", vs)
	}
	vdso, ok := ms.Find("[vdso]")
	if !ok || vdso.Size() != 2*4096 || vdso.Perms != "r-xp" {
		t.Errorf("[vdso] = %v, %v", vdso, ok)
	}
	exe := ms[0]
	if exe.Path != "/usr/bin/cat" || exe.Offset != 0 || exe.Inode == 0 {
		t.Errorf("first mapping = %+v", exe)
	}
	for i := 1; i < len(ms); i++ {
		if ms[i].Start < ms[i-1].End {
			t.Errorf("mappings out of order at %d: %v after %v", i, ms[i], ms[i-1])
		}
	}
}

func TestParseMapsPathWithSpaces(t *testing.T) {
	ms, err := ParseMaps(strings.NewReader("7f00-7f01 rw-p 00000000 fe:00 12 /tmp/a file (deleted)\n"))
	if err != nil {
		t.Fatal(err)
	}
	if ms[0].Path != "/tmp/a file (deleted)" {
		t.Errorf("path = %q", ms[0].Path)
	}
}

func TestParseMapsMalformed(t *testing.T) {
	for _, line := range []string{
		"7f00 rw-p 00000000 fe:00 12",                                // no '-'
		"zz-7f01 rw-p 00000000 fe:00 12",                             // bad hex
		"7f01-7f00 rw-p 00000000 fe:00 12",                           // end below start
		"7f00-7f01 rw 00000000 fe:00 12",                             // short perms
		"7f00-7f01 rw-p 00000000 fe:00",                              // missing inode
		"7f00-7f01 rw-p 00000000 fe:00 inode",                        // bad inode
		"7f00-7f01 rw-x 00000000 fe:00 12",                           // fourth perm is neither s nor p
		"7f00-7f01 wr-p 00000000 fe:00 12",                           // perms out of order
		"7f00-7f01 rw-p 0000zz00 fe:00 12",                           // bad offset
		"7f00-7f01 rw-p 00000000 fe00 12",                            // device without ':'
		"7f00-7f01 rw-p 00000000 fe: 12",                             // device without minor
		"7f00-7f01 rw-p 00000000 fe:00 99999999999999999999",         // inode overflows
		"10000000000000000-10000000000000001 rw-p 00000000 fe:00 12", // 17 hex digits
	} {
		_, err := ParseMaps(strings.NewReader(line + "\n"))
		if !errors.Is(err, ErrMalformedMaps) {
			t.Errorf("%q: err = %v, want ErrMalformedMaps", line, err)
		}
	}
}

// TestMapsLineRoundTrip: AppendLine prints every line of the fixture
// exactly as the kernel did, padding included.
func TestMapsLineRoundTrip(t *testing.T) {
	b, err := os.ReadFile("testdata/maps-xonly-6.18.txt")
	if err != nil {
		t.Fatal(err)
	}
	ms, err := AppendMaps(nil, b)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != len(ms) {
		t.Fatalf("%d lines, %d mappings", len(lines), len(ms))
	}
	for i, m := range ms {
		if got := string(m.AppendLine(nil)); got != lines[i] {
			t.Errorf("line %d:\n got %q\nwant %q", i+1, got, lines[i])
		}
	}
	short := Mapping{Start: 0x1000, End: 0x2000, Perms: "r--s", Dev: "00:05", Inode: 3}
	if got := string(short.AppendLine(nil)); got != "00001000-00002000 r--s 00000000 00:05 3 " {
		t.Errorf("short addresses: %q", got)
	}
}

// TestAppendMapsReuses: appending to a previous result's storage gives the
// same mappings, and an error leaves dst as it was.
func TestAppendMapsReuses(t *testing.T) {
	b, err := os.ReadFile("testdata/maps-xonly-6.18.txt")
	if err != nil {
		t.Fatal(err)
	}
	first, err := ParseMaps(strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	want := append(Maps(nil), first...)
	again, err := AppendMaps(first[:0], b)
	if err != nil || !slices.Equal(again, want) {
		t.Errorf("reparse into the same storage: %v", err)
	}
	kept, err := AppendMaps(want[:2], []byte("7f00-7f01 rw-p 00000000 fe:00 12\nnot a line\n"))
	if !errors.Is(err, ErrMalformedMaps) || !strings.HasPrefix(err.Error(), "line 2: ") || len(kept) != 2 {
		t.Errorf("error: %v, %d mappings kept", err, len(kept))
	}
}

// BenchmarkParseMaps parses the 38-line fixture, as package aslr does for
// every spawned child (AppendMaps into reused storage), and through
// ParseMaps.
//
//	go test ./proc -run '^$' -bench ParseMaps -benchmem
func BenchmarkParseMaps(b *testing.B) {
	data, err := os.ReadFile("testdata/maps-xonly-6.18.txt")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("AppendMaps", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		var ms Maps
		for b.Loop() {
			if ms, err = AppendMaps(ms[:0], data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ParseMaps", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if _, err := ParseMaps(bytes.NewReader(data)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestReadMapsSelf(t *testing.T) {
	ms, err := ReadMaps(0)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := ms.Find("[stack]"); !ok {
		t.Error("live maps has no [stack]")
	}
}
