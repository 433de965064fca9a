package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestGlibcRseqEnv(t *testing.T) {
	glibc := []byte("7f0000000000-7f0000028000 r--p 00000000 fe:01 1234 /usr/lib/x86_64-linux-gnu/libc.so.6\n")
	static := []byte("00400000-00401000 r-xp 00000000 fe:01 99 /usr/local/bin/vbench\n")
	for _, c := range []struct {
		name    string
		env     []string
		maps    []byte
		want    []string // nil: no re-exec
		wantSet string   // the GLIBC_TUNABLES entry expected
	}{
		{name: "static", env: []string{"HOME=/root"}, maps: static},
		{name: "glibc", env: []string{"HOME=/root"}, maps: glibc, wantSet: "GLIBC_TUNABLES=glibc.pthread.rseq=0"},
		{name: "other tunables kept", env: []string{"GLIBC_TUNABLES=glibc.malloc.check=3"}, maps: glibc,
			wantSet: "GLIBC_TUNABLES=glibc.malloc.check=3:glibc.pthread.rseq=0"},
		{name: "told already", env: []string{"GLIBC_TUNABLES=glibc.pthread.rseq=0"}, maps: glibc},
		{name: "user chose rseq=1", env: []string{"GLIBC_TUNABLES=glibc.pthread.rseq=1"}, maps: glibc},
		{name: "opted out", env: []string{"VBENCH_KEEP_GLIBC_RSEQ=1"}, maps: glibc},
	} {
		got := glibcRseqEnv(c.env, c.maps)
		if c.wantSet == "" {
			if got != nil {
				t.Errorf("%s: re-exec with %q, want none", c.name, got)
			}
			continue
		}
		if !slices.Contains(got, c.wantSet) {
			t.Errorf("%s: environment %q lacks %q", c.name, got, c.wantSet)
		}
		if again := glibcRseqEnv(got, c.maps); again != nil {
			t.Errorf("%s: a second exec would follow the first: %q", c.name, again)
		}
	}
}

// A vbench linked with glibc (CGO_ENABLED=1, as `go run` builds it where gcc
// exists) measures the rseq door: it re-executes itself with glibc's own
// registration off. Without the re-exec the cell is unavailable (EINVAL:
// glibc's area is registered on the thread).
func TestCgoBuildMeasuresRseq(t *testing.T) {
	if testing.Short() {
		t.Skip("builds vbench with cgo")
	}
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("no gcc: a cgo build is not possible here")
	}
	vb := filepath.Join(t.TempDir(), "vbench-cgo")
	build := exec.Command("go", "build", "-o", vb, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=1")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	if out, _ := exec.Command("ldd", vb).CombinedOutput(); !strings.Contains(string(out), "libc.so") {
		t.Skipf("the cgo build is not linked with glibc here (ldd: %s)", strings.TrimSpace(string(out)))
	}
	cell := func(extraEnv ...string) (measured bool, why string) {
		t.Helper()
		cmd := exec.Command(vb, "bench", "--functions", "getcpu", "--paths", "rseq", "--count", "2",
			"--benchtime", "1ms", "--latency=false", "--quiet", "--json", "-")
		cmd.Env = append(os.Environ(), extraEnv...)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("vbench bench: %v", err)
		}
		var run struct {
			Bench struct {
				Cells []struct {
					Path        string          `json:"path"`
					Summary     json.RawMessage `json:"summary"`
					Unavailable string          `json:"unavailable"`
				} `json:"cells"`
			} `json:"bench"`
		}
		if err := json.Unmarshal(out, &run); err != nil {
			t.Fatalf("run file: %v", err)
		}
		for _, c := range run.Bench.Cells {
			if c.Path == "rseq" {
				return len(c.Summary) > 0 && string(c.Summary) != "null", c.Unavailable
			}
		}
		t.Fatalf("no rseq cell in %s", out)
		return false, ""
	}
	if ok, why := cell(); !ok {
		t.Errorf("cgo build: the rseq cell was not measured (%s)", why)
	}
	if ok, why := cell("VBENCH_KEEP_GLIBC_RSEQ=1"); ok || !strings.Contains(why, "another rseq area") {
		t.Errorf("with glibc's registration kept: measured %v, reason %q; want unavailable naming glibc's area", ok, why)
	}
}
