package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const referenceRun = "../../results/vm-6.18.44-fc-v1045-vsyscall-xonly-20261201T124706Z/run.json"

// TestExport: vbench export writes the families atomically; several runs
// get a run label each; bad input is a usage error.
func TestExport(t *testing.T) {
	dir := t.TempDir()
	prom := filepath.Join(dir, "vbench.prom")
	_, stderr, code := runCLI(t, "export", referenceRun, "../../report/testdata/xonly.json", "--label", "host,guest", "--openmetrics", prom)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	b, err := os.ReadFile(prom)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{
		"# TYPE vbench_info gauge\n", `vbench_info{run="host",release=`, `vbench_call_seconds{run="guest",function="clock_gettime",clock="MONOTONIC",path="vdso",context="plain"} `,
		"# HELP vbench_aslr_effective_entropy ", `vbench_verify_failed_checks{run="host"} 0`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("export output lacks %q", want)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("%d files in the directory, want vbench.prom alone", len(ents))
	}
	stdout, _, code := runCLI(t, "export", referenceRun, "--openmetrics", "-")
	if code != 0 || !strings.HasPrefix(stdout, "# HELP vbench_info") || strings.Contains(stdout, `run="`) {
		t.Errorf("--openmetrics -: exit %d, output %.80q", code, stdout)
	}
	wantUsageError(t, []string{"export", referenceRun}, "--openmetrics FILE")
	wantUsageError(t, []string{"export", "--openmetrics", prom}, "name at least one run file")
	wantUsageError(t, []string{"export", "no-such.json", "--openmetrics", prom}, "no-such.json")
	wantUsageError(t, []string{"export", referenceRun, "--openmetrics", filepath.Join(dir, "none", "x.prom")}, "--openmetrics")
	wantUsageError(t, []string{"bench", "--openmetrics", "-"}, "--openmetrics -: give a file")
	wantUsageError(t, []string{"aslr", "--openmetrics", filepath.Join(dir, "none", "x.prom")}, "--openmetrics")
}

// TestBenchOpenMetrics: bench --openmetrics writes what it measured.
func TestBenchOpenMetrics(t *testing.T) {
	prom := filepath.Join(t.TempDir(), "b.prom")
	_, stderr, code := runCLI(t, "bench", "--functions", "time", "--paths", "syscall", "--count", "2", "--benchtime", "100us",
		"--latency=false", "--quiet", "--openmetrics", prom)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	b, err := os.ReadFile(prom)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `vbench_call_seconds{function="time",clock="none",path="syscall",context="plain"} `) {
		t.Errorf("no time syscall cell in:\n%s", b)
	}
}
