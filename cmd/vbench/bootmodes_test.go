package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBootmodesBadInput: each kind of bad input is one line on stderr and
// exit status 2, before anything is booted.
func TestBootmodesBadInput(t *testing.T) {
	dir := t.TempDir()
	kernel := filepath.Join(dir, "vmlinuz")
	b := make([]byte, 0x400)
	copy(b[0x202:], "HdrS")
	if err := os.WriteFile(kernel, b, 0o644); err != nil {
		t.Fatal(err)
	}
	notKernel := filepath.Join(dir, "notes.txt")
	os.WriteFile(notKernel, []byte(strings.Repeat("hello\n", 200)), 0o644)

	t.Setenv("VBENCH_CACHE", filepath.Join(dir, "cache"))
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"no kernel flag", []string{"bootmodes"}, "--kernel is required"},
		{"missing kernel", []string{"bootmodes", "--kernel", filepath.Join(dir, "nope")}, "no such file"},
		{"not a kernel", []string{"bootmodes", "--kernel", notKernel}, "not a kernel image"},
		{"unknown mode", []string{"bootmodes", "--kernel", kernel, "--modes", "xonly,sometimes"}, "unknown mode \"sometimes\""},
		{"no qemu", []string{"bootmodes", "--kernel", kernel, "--qemu", filepath.Join(dir, "no-qemu")}, "not found"},
		{"bad accel", []string{"bootmodes", "--kernel", kernel, "--accel", "hvf"}, "--accel"},
		{"bad timeout", []string{"bootmodes", "--kernel", kernel, "--timeout", "0s"}, "--timeout"},
		{"bad parallel", []string{"bootmodes", "--kernel", kernel, "--parallel", "-1"}, "--parallel: -1"},
		{"no init", []string{"bootmodes", "--kernel", kernel, "--init", notKernel}, "--init"},
		{"timeline, empty cache", []string{"bootmodes", "--timeline", "--series", "6.1,7.3"}, ".ci/fetch-kernel 6.1"},
	} {
		t.Run(c.name, func(t *testing.T) { wantUsageError(t, c.args, c.want) })
	}
}

func TestBootmodesHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := exitCode(run([]string{"bootmodes", "--help"}, &stdout, &stderr), &stderr); code != exitOK {
		t.Fatalf("--help exit %d: %s", code, stderr.String())
	}
	for _, w := range []string{"--kernel", "--modes", "Examples:", "CGO_ENABLED=0"} {
		if !strings.Contains(stdout.String(), w) {
			t.Errorf("--help lacks %q", w)
		}
	}
}
