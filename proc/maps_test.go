package proc

import (
	"errors"
	"os"
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
		"7f00 rw-p 00000000 fe:00 12",         // no '-'
		"zz-7f01 rw-p 00000000 fe:00 12",      // bad hex
		"7f01-7f00 rw-p 00000000 fe:00 12",    // end below start
		"7f00-7f01 rw 00000000 fe:00 12",      // short perms
		"7f00-7f01 rw-p 00000000 fe:00",       // missing inode
		"7f00-7f01 rw-p 00000000 fe:00 inode", // bad inode
	} {
		_, err := ParseMaps(strings.NewReader(line + "\n"))
		if !errors.Is(err, ErrMalformedMaps) {
			t.Errorf("%q: err = %v, want ErrMalformedMaps", line, err)
		}
	}
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
