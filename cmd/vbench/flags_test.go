package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vbench-dev/vbench/runfile"
)

// Every command's --help shows examples, and every command that writes
// files by default or on --out states where.
func TestHelpHasExamplesAndTheOutRule(t *testing.T) {
	for _, name := range commandNames() {
		stdout, _, code := runCLI(t, name, "--help")
		if code != exitOK || !strings.Contains(stdout, "\nExamples:\n  vbench") {
			t.Errorf("%s --help: exit %d, no examples:\n%s", name, code, stdout)
		}
		if strings.Contains(stdout, "  --out ") && !strings.Contains(stdout, "results/") {
			t.Errorf("%s --help has --out but does not say where files go by default:\n%s", name, stdout)
		}
		if strings.Contains(stdout, "--brief") || strings.Contains(stdout, "--no-latency") {
			t.Errorf("%s --help lists a deprecated alias:\n%s", name, stdout)
		}
	}
}

// --cpu is checked the same way, with the same words, by every command
// that has it, before any work.
func TestCPUCheckedAlike(t *testing.T) {
	for _, cmd := range []string{"run", "bench", "verify"} {
		wantUsageError(t, []string{cmd, "--cpu", "-5"}, cmd+": --cpu -5: give a CPU number, or -1 for the one vbench starts on")
		wantUsageError(t, []string{cmd, "--cpu", "100000"}, cmd+": --cpu 100000: not a CPU this process may run on")
	}
}

// --json FILE is checked before any work, and '-' puts the run file on
// standard output with the rest of the output on standard error.
func TestJSONFlagAlike(t *testing.T) {
	for _, cmd := range []string{"run", "bench", "verify"} {
		wantUsageError(t, []string{cmd, "--json", "/nonexistent-dir/x.json"}, cmd+": --json /nonexistent-dir/x.json")
	}
	useSyscallOnlyDoors(t)
	stdout, stderr, code := runCLI(t, "verify", "--quick", "--json", "-", "--label", "a, b")
	if code != exitOK {
		t.Fatalf("verify --json -: exit %d: %s", code, stderr)
	}
	r, err := runfile.Decode(strings.NewReader(stdout), "stdout")
	if err != nil {
		t.Fatalf("stdout is not a run file: %v", err)
	}
	if r.Label != "a, b" || r.Verify == nil {
		t.Errorf("run file label %q (want one label, commas kept), verify %v", r.Label, r.Verify != nil)
	}
	if !strings.Contains(stderr, "checks: ") {
		t.Errorf("the checks are not on standard error:\n%s", stderr)
	}
}

// The old spellings still work: bench --no-latency (saying it is
// deprecated) and verify --brief; --label names a bench run.
func TestOldFlagSpellings(t *testing.T) {
	useSyscallOnlyDoors(t)
	out := filepath.Join(t.TempDir(), "run.json")
	_, stderr, code := runCLI(t, "bench", "--functions", "time", "--paths", "syscall", "--count", "2", "--benchtime", "100us",
		"--no-latency", "--label", "idle", "--json", out)
	if code != exitOK || !strings.Contains(stderr, "--no-latency is deprecated: use --latency=false") {
		t.Fatalf("bench --no-latency: exit %d, stderr %q", code, stderr)
	}
	r, err := runfile.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if r.Label != "idle" {
		t.Errorf("bench --label idle: run file label %q", r.Label)
	}
	for _, c := range r.Bench.Cells {
		if c.Latency != nil {
			t.Errorf("%s: latencies taken despite --no-latency", c.Name())
		}
	}
	if _, stderr, code := runCLI(t, "verify", "--brief"); code != exitOK {
		t.Errorf("verify --brief: exit %d: %s", code, stderr)
	}
}

// vbench report without --out writes a new directory under results/.
func TestReportDefaultOutUnderResults(t *testing.T) {
	cwd := inEmptyDir(t)
	stdout, stderr, code := runCLI(t, "report", fixtureRuns[1])
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	matches, _ := filepath.Glob(filepath.Join(cwd, "results", "report-*", "report.md"))
	if len(matches) != 1 || !strings.Contains(stdout, filepath.Join("results", "report-")) {
		t.Errorf("report.md at %v, stdout %q; want one under results/report-TIME/", matches, stdout)
	}
	ents, _ := os.ReadDir(cwd)
	if len(ents) != 1 || ents[0].Name() != "results" {
		t.Errorf("working directory holds %v, want results/ only", ents)
	}
}
