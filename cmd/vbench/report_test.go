package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vbench-dev/vbench/probes"
	"github.com/vbench-dev/vbench/runfile"
	"github.com/vbench-dev/vbench/study"
)

// The fixture runs of package report (real runs, report/testdata/README.md):
// three vsyscall modes in QEMU guests, then a host run.
var fixtureRuns = []string{
	filepath.Join("..", "..", "report", "testdata", "emulate.json"),
	filepath.Join("..", "..", "report", "testdata", "xonly.json"),
	filepath.Join("..", "..", "report", "testdata", "none.json"),
	filepath.Join("..", "..", "report", "testdata", "host.json"),
}

// inEmptyDir runs the test in a new empty working directory, and returns
// it: what a command leaves there by surprise is then visible.
func inEmptyDir(t *testing.T) string {
	t.Helper()
	for i, p := range fixtureRuns {
		abs, err := filepath.Abs(p)
		if err != nil {
			t.Fatal(err)
		}
		fixtureRuns[i] = abs
	}
	dir := t.TempDir()
	t.Chdir(dir)
	return dir
}

func TestCompareCommand(t *testing.T) {
	cwd := inEmptyDir(t)
	args := append([]string{"compare", "--label", "emulate,xonly,none"}, fixtureRuns[:3]...)
	stdout, stderr, code := runCLI(t, args...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"emulate: QEMU guest", "vs base", "Gettimeofday/path=vsyscall", "~ (p=", "n/a",
		"Holm-Bonferroni", "vsyscall mode: emulate (emulate); xonly (xonly); none (none)", "ASLR:", "verify:"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "#1") || strings.Contains(stdout, "figure:") {
		t.Errorf("output numbers the runs or names a figure:\n%s", stdout)
	}
	// No --out: nothing written, least of all into the working directory.
	if ents, _ := os.ReadDir(cwd); len(ents) != 0 {
		t.Errorf("compare without --out wrote %v into the working directory", ents)
	}
	out := filepath.Join(cwd, "cmp")
	stdout, stderr, code = runCLI(t, append([]string{"compare", "--out", out, "--format", "png,svg"}, fixtureRuns[:2]...)...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, f := range []string{"compare.png", "compare.svg"} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
		if !strings.Contains(stdout, filepath.Join(out, f)) {
			t.Errorf("stdout does not name %s", f)
		}
	}
}

func TestCompareFlags(t *testing.T) {
	for _, args := range [][]string{
		{"compare", "--min-change", "lots", fixtureRuns[0], fixtureRuns[1]},
		{"compare", "--min-change", "-3%", fixtureRuns[0], fixtureRuns[1]},
		{"compare", "--format", "gif", "--out", t.TempDir(), fixtureRuns[0], fixtureRuns[1]},
		{"report", "--format", "jpeg", "--out", t.TempDir(), fixtureRuns[0]},
	} {
		_, stderr, code := runCLI(t, args...)
		if code != exitBadArgs || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want one line and exit %d", args, code, stderr, exitBadArgs)
		}
	}
	for _, tt := range []struct {
		in   string
		want float64
	}{{"5%", 0.05}, {"0.1", 0.1}, {"0", 0}, {"12.5%", 0.125}} {
		if got, err := parsePercent(tt.in); err != nil || got != tt.want {
			t.Errorf("parsePercent(%q) = %v, %v", tt.in, got, err)
		}
	}
}

func TestReportCommand(t *testing.T) {
	out := filepath.Join(t.TempDir(), "r")
	stdout, stderr, code := runCLI(t, "report", "--out", out, "--format", "svg,png", fixtureRuns[3])
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, filepath.Join(out, "report.md")) {
		t.Errorf("stdout %q does not say where the report is", stdout)
	}
	for _, f := range []string{"report.md", "cost.png", "latency.png", "aslr-bits.png", "cost.svg", "latency-cdf.svg"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	// A guest run has no per-call latencies: no latency figure.
	out = filepath.Join(t.TempDir(), "g")
	if _, stderr, code := runCLI(t, "report", "--out", out, fixtureRuns[1]); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "latency.png")); err == nil {
		t.Error("latency.png written for a run without latencies")
	}
}

func TestBadRunFiles(t *testing.T) {
	dir := t.TempDir()
	good, err := os.ReadFile(fixtureRuns[1])
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"truncated.json": string(good[:len(good)/3]),
		"garbage.json":   "this is not JSON\n",
		"old.json":       `{"schema": 0, "tool": "vbench"}`,
		"future.json":    `{"schema": 99, "tool": "vbench"}`,
		"other.json":     `{"schema": 1, "tool": "benchstat"}`,
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	say := map[string]string{
		"truncated.json": "truncated",
		"garbage.json":   "not a vbench run file",
		"old.json":       "unsupported schema version 0",
		"future.json":    "unsupported schema version 99",
		"other.json":     "not a vbench run file",
		"missing.json":   "no such file",
	}
	for name, want := range say {
		path := filepath.Join(dir, name)
		for _, args := range [][]string{
			{"compare", "--out", "", fixtureRuns[1], path},
			{"report", "--out", filepath.Join(dir, "out"), path},
		} {
			_, stderr, code := runCLI(t, args...)
			if code != exitBadArgs {
				t.Errorf("%s %s: exit %d, want %d", args[0], name, code, exitBadArgs)
			}
			if !strings.Contains(stderr, path) || !strings.Contains(stderr, want) || strings.Count(stderr, "\n") != 1 {
				t.Errorf("%s %s: stderr %q, want one line naming the file and %q", args[0], name, stderr, want)
			}
		}
	}
}

func TestCompareUsage(t *testing.T) {
	for _, args := range [][]string{
		{"compare", fixtureRuns[0]},
		{"compare", "--label", "a,b,c,d", fixtureRuns[0], fixtureRuns[1]},
		{"report"},
		{"run", "extra"},
		{"run", "--samples", "-5"},
	} {
		_, stderr, code := runCLI(t, args...)
		if code != exitBadArgs || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want one line and exit %d", args, code, stderr, exitBadArgs)
		}
	}
	for _, cmd := range []string{"run", "report", "compare"} {
		stdout, _, code := runCLI(t, cmd, "--help")
		if code != exitOK || !strings.Contains(stdout, "Examples:") {
			t.Errorf("%s --help: exit %d, %q", cmd, code, stdout)
		}
	}
}

// TestRunQuick runs the whole study, small, with only the syscall path
// (no vDSO, no vsyscall: nothing that can fault), and checks the results
// directory.
func TestRunQuick(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the study")
	}
	useSyscallOnlyDoors(t)
	out := t.TempDir()
	stdout, stderr, code := runCLI(t, "run", "--quick", "--samples", "100", "--out", out, "--label", "test")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	ents, err := os.ReadDir(out)
	if err != nil || len(ents) != 1 || !ents[0].IsDir() || !strings.Contains(ents[0].Name(), "-vsyscall-") || strings.Contains(ents[0].Name(), "=") {
		t.Fatalf("results directory holds %v (%v), want one run directory", ents, err)
	}
	dir := filepath.Join(out, ents[0].Name())
	for _, f := range []string{"run.json", "bench.txt", "report.md", "cost.png", "aslr-bits.png"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	if !strings.Contains(stdout, filepath.Join(dir, "report.md")) {
		t.Errorf("stdout does not say where the report is:\n%s", stdout)
	}
	txt, _ := os.ReadFile(filepath.Join(dir, "bench.txt"))
	if !strings.Contains(string(txt), "BenchmarkGettimeofday/path=syscall ") || !strings.Contains(string(txt), " ns/op") {
		t.Errorf("bench.txt is not in the benchmark format:\n%.300s", txt)
	}
	// The run it wrote reads back and reports.
	_, stderr, code = runCLI(t, "report", "--out", filepath.Join(t.TempDir(), "again"), filepath.Join(dir, "run.json"))
	if code != exitOK {
		t.Errorf("report of the new run: exit %d: %s", code, stderr)
	}
}

// A part that fails (here bench, asked for a function that does not
// exist) is reported in report.md and the rest of the study still runs.
func TestRunGoesOnAfterAFailedPart(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the study")
	}
	useSyscallOnlyDoors(t)
	old := studyRun
	studyRun = func(ctx context.Context, cfg study.Config, r *runfile.Run) *probes.Doors {
		cfg.Bench.Functions = []runfile.Function{"frobnicate"}
		return old(ctx, cfg, r)
	}
	t.Cleanup(func() { studyRun = old })
	out := t.TempDir()
	stdout, stderr, code := runCLI(t, "run", "--quick", "--samples", "50", "--out", out)
	if code != exitPartial {
		t.Fatalf("exit %d, want %d (a part produced nothing): %s", code, exitPartial, stderr)
	}
	if !strings.Contains(stderr, "the bench part produced nothing (bench: ") || strings.Contains(stderr, "aslr part") {
		t.Errorf("the empty part is not named, with why, in the last line:\n%s", stderr)
	}
	if !strings.Contains(stderr, "bench:") || !strings.Contains(stdout, "failed: bench:") {
		t.Errorf("the failed part is not reported:\nstdout %s\nstderr %s", stdout, stderr)
	}
	ents, _ := os.ReadDir(out)
	if len(ents) != 1 {
		t.Fatalf("results directory holds %v", ents)
	}
	md, err := os.ReadFile(filepath.Join(out, ents[0].Name(), "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "Parts of this run failed") || !strings.Contains(string(md), "- bench: ") || !strings.Contains(string(md), "aslr-bits.png") {
		t.Errorf("report.md does not show the failure and the ASLR part")
	}
	if _, err := os.Stat(filepath.Join(out, ents[0].Name(), "bench.txt")); err == nil {
		t.Error("bench.txt written without bench results")
	}
}

// An ASLR part that gathers nothing (here: a target that cannot be
// spawned) makes run exit 3, naming the part and why, after writing the
// rest.
func TestRunExitsPartialWithoutASLR(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the study")
	}
	useSyscallOnlyDoors(t)
	old := studyRun
	studyRun = func(ctx context.Context, cfg study.Config, r *runfile.Run) *probes.Doors {
		cfg.ASLR.Target = filepath.Join(t.TempDir(), "no-such-target")
		cfg.ASLR.Ceiling = 0
		return old(ctx, cfg, r)
	}
	t.Cleanup(func() { studyRun = old })
	out := t.TempDir()
	_, stderr, code := runCLI(t, "run", "--quick", "--samples", "20", "--out", out)
	if code != exitPartial {
		t.Fatalf("exit %d, want %d: %s", code, exitPartial, stderr)
	}
	if !strings.Contains(stderr, "the aslr part produced nothing (aslr") || strings.Contains(stderr, "bench part") {
		t.Errorf("stderr does not name the aslr part and why:\n%s", stderr)
	}
	if ents, _ := os.ReadDir(out); len(ents) != 1 {
		t.Errorf("the rest was not written: %v", ents)
	}
}
