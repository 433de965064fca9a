package main

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vbench-dev/vbench/probes"
	"github.com/vbench-dev/vbench/probes/vdso"
	"github.com/vbench-dev/vbench/probes/vsyscall"
	"github.com/vbench-dev/vbench/runfile"
)

// syscallOnly stands in for probes.Discover: no vDSO, vsyscall=none, so
// verify runs its syscall checks and skips the rest without starting the
// vsyscall probe children (this test binary has no TestMain for them).
func syscallOnly() *probes.Doors {
	return &probes.Doors{
		VDSOErr:  vdso.ErrNoVDSO,
		Vsyscall: vsyscall.Observed{Mode: vsyscall.None, ReadProbe: "SIGSEGV", CallProbe: "SIGSEGV", ModeSource: "maps"},
	}
}

func TestVerifyCommandJSON(t *testing.T) {
	old := discoverDoors
	discoverDoors = syscallOnly
	defer func() { discoverDoors = old }()

	out := filepath.Join(t.TempDir(), "verify.json")
	var stdout, stderr bytes.Buffer
	if err := run([]string{"verify", "--brief", "--json", out}, &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stdout.String())
	}
	for _, want := range []string{"PASS  clock_gettime MONOTONIC: syscall <= syscall", "SKIP  gettimeofday via vdso: unavailable: no vDSO mapped", "vsyscall=none", " 0 fail,"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, stdout.String())
		}
	}
	r, err := runfile.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if r.Verify == nil || !r.Verify.Passed || len(r.Verify.Checks) == 0 || r.Finished.IsZero() {
		t.Errorf("run file verify %+v finished %v", r.Verify, r.Finished)
	}
}

func TestVerifyCommandBadInput(t *testing.T) {
	for _, args := range [][]string{
		{"verify", "--cpu", "x"},
		{"verify", "--cpu", "-5"},
		{"verify", "--cpu", "100000"},
		{"verify", "--bogus"},
		{"verify", "extra"},
	} {
		var stdout, stderr bytes.Buffer
		err := run(args, &stdout, &stderr)
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != exitBadArgs {
			t.Errorf("%q: %v, want a usage error (exit 2)", args, err)
			continue
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: error spans lines: %q", args, err)
		}
	}
	var stdout bytes.Buffer
	if err := run([]string{"verify", "--help"}, &stdout, &stdout); exitCode(err, &stdout) != exitOK {
		t.Errorf("--help: %v", err)
	}
	if !strings.Contains(stdout.String(), "vbench verify --cpu 1") {
		t.Errorf("--help has no examples:\n%s", stdout.String())
	}
}
