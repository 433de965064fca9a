package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vbench-dev/vbench/probes"
	"github.com/vbench-dev/vbench/probes/verify"
)

func TestMain(m *testing.M) {
	// Commands under test start child probes by re-executing this binary.
	if code, child := probes.RunChildWith(verify.InContext); child {
		os.Exit(code)
	}
	// Tests that need vbench as a process of its own (in a cgroup, under
	// a ulimit) run this binary with VBENCH_TEST_MAIN=1 (vbenchProcess).
	if os.Getenv("VBENCH_TEST_MAIN") == "1" {
		os.Exit(exitCode(runChecked(os.Args[1:], os.Stdout, os.Stderr), os.Stderr))
	}
	os.Exit(m.Run())
}

// runCLI runs vbench in-process and returns its output and exit status.
func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(args, &out, &errb)
	code = exitCode(err, &errb)
	return out.String(), errb.String(), code
}

// wantUsageError runs vbench with args and checks the result is bad input:
// exit status 2, one line on stderr containing want, nothing on stdout.
func wantUsageError(t *testing.T, args []string, want string) {
	t.Helper()
	stdout, stderr, code := runCLI(t, args...)
	if code != exitBadArgs {
		t.Errorf("%q: exit %d, want %d (stderr %q)", args, code, exitBadArgs, stderr)
	}
	if !strings.Contains(stderr, want) || strings.Count(stderr, "\n") != 1 || strings.Contains(stderr, "goroutine") {
		t.Errorf("%q: stderr %q, want one line containing %q", args, stderr, want)
	}
	if stdout != "" {
		t.Errorf("%q: wrote to stdout before failing:\n%s", args, stdout)
	}
}

func TestUnknownCommand(t *testing.T) {
	_, stderr, code := runCLI(t, "frobnicate")
	if code != exitBadArgs {
		t.Errorf("exit %d, want %d", code, exitBadArgs)
	}
	if !strings.Contains(stderr, `unknown command "frobnicate"`) || !strings.Contains(stderr, "bench") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("stderr = %q, want one line naming the valid commands", stderr)
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"help"}, {"-h"}} {
		stdout, _, code := runCLI(t, args...)
		if code != exitOK || !strings.Contains(stdout, "Commands:") || !strings.Contains(stdout, "Examples:") {
			t.Errorf("%v: exit %d, stdout %q", args, code, stdout)
		}
	}
	// Every command has --help with its flags; none of them may fail or
	// print a stack trace.
	for _, name := range commandNames() {
		stdout, stderr, code := runCLI(t, name, "--help")
		if code != exitOK || !strings.Contains(stdout, "vbench "+name) || stderr != "" {
			t.Errorf("%s --help: exit %d, stdout %q, stderr %q", name, code, stdout, stderr)
		}
	}
}

func TestBadFlagEveryCommand(t *testing.T) {
	for _, name := range commandNames() {
		_, stderr, code := runCLI(t, name, "--no-such-flag")
		if code != exitBadArgs {
			t.Errorf("%s --no-such-flag: exit %d, want %d (stderr %q)", name, code, exitBadArgs, stderr)
		}
		if strings.Count(stderr, "\n") != 1 || strings.Contains(stderr, "goroutine") {
			t.Errorf("%s --no-such-flag: stderr %q, want one line", name, stderr)
		}
	}
}

func TestEnv(t *testing.T) {
	stdout, _, code := runCLI(t, "env")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"kernel:", "vsyscall:", "clocksource:", "randomize_va_space:", "mmap_rnd_bits:"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("env output lacks %q", want)
		}
	}
	stdout, _, code = runCLI(t, "env", "--json", "-")
	if code != exitOK || !strings.Contains(stdout, `"vsyscall_mode"`) {
		t.Errorf("env --json: exit %d, %q", code, stdout)
	}
	if _, _, code := runCLI(t, "env", "extra"); code != exitBadArgs {
		t.Errorf("env extra: exit %d", code)
	}
}

func TestHelpUnknownCommand(t *testing.T) {
	_, stderr, code := runCLI(t, "help", "frobnicate")
	if code != exitBadArgs || !strings.Contains(stderr, `unknown command "frobnicate"`) || strings.Count(stderr, "\n") != 1 {
		t.Errorf("help frobnicate: exit %d, stderr %q", code, stderr)
	}
}

func TestLostStdoutIsAFailure(t *testing.T) {
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skip(err)
	}
	defer full.Close()
	var stderr bytes.Buffer
	err = runChecked([]string{"env"}, full, &stderr)
	if code := exitCode(err, &stderr); code != exitFailed || !strings.Contains(stderr.String(), "writing standard output") {
		t.Errorf("env onto /dev/full: exit %d, stderr %q", code, stderr.String())
	}
	if f, ok := any(&checkedWriter{w: full}).(interface{ Fd() uintptr }); !ok || f.Fd() != full.Fd() {
		t.Error("checkedWriter hides the descriptor the progress bar asks for")
	}
}

func TestRunChecksItsInputFirst(t *testing.T) {
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"run", "--cpu", "99999"},
		{"run", "--cpu", "-5"},
		{"run", "--out", filepath.Join(file, "results"), "--samples", "-1"},
	} {
		stdout, stderr, code := runCLI(t, args...)
		if code != exitBadArgs || strings.Count(stderr, "\n") != 1 || stdout != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want one line and exit 2 before any work", args, code, stdout, stderr)
		}
	}
}
