package proc

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseMeminfo(t *testing.T) {
	f, err := os.Open("testdata/meminfo-6.18.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := ParseMeminfo(f)
	if err != nil {
		t.Fatal(err)
	}
	// The fixture's first lines, as the file says them.
	for name, kb := range map[string]uint64{"MemTotal": 24683584, "MemAvailable": 23649936} {
		if m[name] != kb<<10 {
			t.Errorf("%s = %d, want %d kB", name, m[name], kb)
		}
	}
	for _, bad := range []string{"MemTotal 12 kB\n", "MemTotal: twelve kB\n", "MemTotal: 12 MB\n", "MemTotal: 12 kB x\n", ": 12\n"} {
		if _, err := ParseMeminfo(strings.NewReader(bad)); !errors.Is(err, ErrMalformedMeminfo) {
			t.Errorf("%q: %v, want ErrMalformedMeminfo", bad, err)
		}
	}
	if m, err := ParseMeminfo(strings.NewReader("HugePages_Total:       0\n")); err != nil || m["HugePages_Total"] != 0 {
		t.Errorf("a count without kB: %v %v", m, err)
	}
}

func TestMemAvailable(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile("testdata/meminfo-6.18.txt")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "meminfo"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if v, err := (FS{Root: dir}).MemAvailable(); err != nil || v != 23649936<<10 {
		t.Errorf("MemAvailable = %d, %v", v, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "meminfo"), []byte("MemTotal: 1 kB\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := (FS{Root: dir}).MemAvailable(); !errors.Is(err, ErrNoMemAvailable) {
		t.Errorf("no MemAvailable line: %v", err)
	}
}
