package main

import (
	"bytes"
	"fmt"
	"path/filepath"
	"regexp"
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

// useSyscallOnlyDoors makes the commands under test see syscallOnly's
// doors until the test ends.
func useSyscallOnlyDoors(t *testing.T) {
	old := discoverDoors
	discoverDoors = syscallOnly
	t.Cleanup(func() { discoverDoors = old })
}

func TestVerifyCommandJSON(t *testing.T) {
	useSyscallOnlyDoors(t)

	out := filepath.Join(t.TempDir(), "verify.json")
	var stdout, stderr bytes.Buffer
	// --brief is the old name of --quick, still accepted.
	if err := run([]string{"verify", "--brief", "--json", out}, &stdout, &stderr); err != nil {
		t.Fatalf("%v\n%s", err, stdout.String())
	}
	// The table of report.VerifyTable: status, check, detail, aligned;
	// skips before what was found, found before passes.
	for _, want := range []string{`(?m)^status +check +detail$`, `(?m)^PASS +clock_gettime MONOTONIC: syscall <= syscall +\S`,
		`(?m)^SKIP +gettimeofday via vdso +unavailable: no vDSO mapped`, `vsyscall=none`, ` 0 fail,`, `(?m)^INFO +vdso found +no: `,
		`(?s)^status.*\nSKIP.*\nINFO.*\nPASS`} {
		if !regexp.MustCompile(want).MatchString(stdout.String()) {
			t.Errorf("output does not match %q:\n%s", want, stdout.String())
		}
	}
	r, err := runfile.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if r.Verify == nil || !r.Verify.Passed || len(r.Verify.Checks) == 0 || r.Finished.IsZero() {
		t.Fatalf("run file verify %+v finished %v", r.Verify, r.Finished)
	}
	// Information is kept, but not counted among the checks.
	if len(r.Verify.Info) == 0 {
		t.Error("run file has no verify info")
	}
	if want := fmt.Sprintf("\n%d checks: ", len(r.Verify.Checks)); !strings.Contains(stdout.String(), want) {
		t.Errorf("output lacks %q (info counted as checks?):\n%s", want, stdout.String())
	}
}

func TestVerifyCommandBadInput(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"verify", "--cpu", "x"}, "--cpu"},
		{[]string{"verify", "--cpu", "-5"}, "--cpu"},
		{[]string{"verify", "--cpu", "100000"}, "--cpu"},
		{[]string{"verify", "--bogus"}, "unknown flag: --bogus"},
		{[]string{"verify", "extra"}, "extra"},
		{[]string{"verify", "--json", "/nonexistent-dir/v.json"}, "--json /nonexistent-dir/v.json"},
	} {
		wantUsageError(t, c.args, c.want)
	}
	var stdout bytes.Buffer
	if err := run([]string{"verify", "--help"}, &stdout, &stdout); exitCode(err, &stdout) != exitOK {
		t.Errorf("--help: %v", err)
	}
	if !strings.Contains(stdout.String(), "vbench verify --cpu 1") {
		t.Errorf("--help has no examples:\n%s", stdout.String())
	}
}
