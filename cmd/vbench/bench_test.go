package main

import (
	"bytes"
	"encoding/csv"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/perf/benchfmt"

	"github.com/vbench-dev/vbench/report"
	"github.com/vbench-dev/vbench/runfile"
)

func TestBenchBadNames(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string // in the one-line error
	}{
		{[]string{"--functions", "time,nanosleep"}, `unknown function "nanosleep" (valid: gettimeofday, time, clock_gettime, clock_getres, getcpu, getrandom, floor)`},
		{[]string{"--paths", "int80"}, `unknown path "int80" (valid: syscall, vdso, vsyscall, rseq)`},
		{[]string{"--clocks", "MONOTONIC,SGI_CYCLE"}, `unknown clock "SGI_CYCLE" (valid: REALTIME, MONOTONIC,`},
		{[]string{"--count", "0"}, "--count 0"},
		{[]string{"--benchtime", "0s"}, "--benchtime 0s"},
		{[]string{"--bogus"}, "unknown flag: --bogus"},
		// Bounds, each named in the one line.
		{[]string{"--count", "9223372036854775807", "--benchtime", "1ns", "--functions", "time", "--paths", "vdso", "--latency=false"}, "at most 10000|1 to 10000"},
		{[]string{"--count", "10000000000"}, "1 to 10000"},
		{[]string{"--count", "2000000000"}, "1 to 10000"},
		{[]string{"--benchtime", "1h"}, "at most 10s"},
		{[]string{"--retry-noisy", "2h"}, "0 (off) to 1h0m0s"},
		{[]string{"--retry-noisy", "-1s"}, "--retry-noisy -1s"},
		{[]string{"--cpu", "-5"}, "--cpu -5"},
		{[]string{"--cpu", "100000"}, "--cpu 100000: not a CPU this process may run on"},
		// Outputs are checked before any work.
		{[]string{"--json", "/nonexistent-dir/run.json"}, "--json /nonexistent-dir/run.json"},
		{[]string{"--benchfmt", "/nonexistent-dir/bench.txt"}, "--benchfmt /nonexistent-dir/bench.txt"},
		{[]string{"--json", "-", "--benchfmt", "-"}, "--json - and --benchfmt - would all write to standard output"},
		{[]string{"--csv", "-", "--benchfmt", "-"}, "--benchfmt - and --csv - would all write to standard output"},
		{[]string{"--csv", "/nonexistent-dir/cells.csv"}, "--csv /nonexistent-dir/cells.csv"},
		{[]string{"extra"}, `unexpected argument "extra"`},
		// An empty list is an error whichever way it is written.
		{[]string{"--functions", ","}, "--functions: an empty name"},
		{[]string{"--functions="}, "--functions: an empty name"},
		{[]string{"--clocks", ",MONOTONIC"}, "--clocks: an empty name"},
	} {
		wantUsageErrorAny(t, append([]string{"bench"}, tc.args...), tc.want)
	}
}

// wantUsageErrorAny is wantUsageError with alternatives separated by '|'.
func wantUsageErrorAny(t *testing.T, args []string, want string) {
	t.Helper()
	stdout, stderr, code := runCLI(t, args...)
	found := false
	for _, alt := range strings.Split(want, "|") {
		found = found || strings.Contains(stderr, alt)
	}
	if code != exitBadArgs || !found || strings.Count(stderr, "\n") != 1 || stdout != "" {
		t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit 2 and one line containing %q", args, code, stdout, stderr, want)
	}
}

// TestBenchJSONToStdout: with --json -, standard output holds only the run
// file, and the table goes to standard error.
func TestBenchJSONToStdout(t *testing.T) {
	useSyscallOnlyDoors(t)
	stdout, stderr, code := runCLI(t, "bench", "--functions", "time", "--paths", "syscall", "--count", "2", "--benchtime", "100us", "--latency=false", "--json", "-")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	r, err := runfile.Decode(strings.NewReader(stdout), "stdout")
	if err != nil {
		t.Fatalf("stdout is not a run file: %v\n%s", err, stdout)
	}
	if r.Bench == nil || len(r.Bench.Cells) != 1 || r.Bench.Order != runfile.OrderInterleaved {
		t.Errorf("run file bench %+v", r.Bench)
	}
	if !strings.Contains(stderr, "ns/call") || !strings.Contains(stderr, "round-robin") {
		t.Errorf("table not on stderr:\n%s", stderr)
	}
}

// TestBenchSIGTERMWritesWhatWasMeasured stops a long bench with SIGTERM:
// the run file is written, marked interrupted, and the exit status is 143.
func TestBenchSIGTERMWritesWhatWasMeasured(t *testing.T) {
	useSyscallOnlyDoors(t)
	// Hold SIGTERM for the test too, so that a signal arriving before the
	// command listens cannot kill the test binary.
	hold := make(chan os.Signal, 1)
	signal.Notify(hold, syscall.SIGTERM)
	defer signal.Stop(hold)

	out := filepath.Join(t.TempDir(), "run.json")
	bench := filepath.Join(t.TempDir(), "bench.txt")
	done := make(chan struct{})
	var stdout, stderr string
	var code int
	go func() {
		defer close(done)
		stdout, stderr, code = runCLI(t, "bench", "--functions", "time,getcpu", "--paths", "syscall", "--count", "10000",
			"--benchtime", "5ms", "--latency=false", "--json", out, "--benchfmt", bench)
	}()
	time.Sleep(300 * time.Millisecond)
	syscall.Kill(os.Getpid(), syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("bench did not stop on SIGTERM")
	}
	if code != 143 || !strings.Contains(stderr, "interrupted by SIGTERM") {
		t.Errorf("exit %d, stderr %q; want 143 naming SIGTERM", code, stderr)
	}
	r, err := runfile.ReadFile(out)
	if err != nil {
		t.Fatalf("run file after SIGTERM: %v", err)
	}
	if r.Bench == nil || !r.Bench.Interrupted || len(r.Bench.Cells) != 2 {
		t.Fatalf("bench %+v: want 2 cells, interrupted", r.Bench)
	}
	if _, err := os.Stat(bench); err != nil {
		t.Errorf("benchfmt file: %v", err)
	}
	if !strings.Contains(stdout, "Interrupted") {
		t.Errorf("table does not say it was interrupted:\n%s", stdout)
	}
}

// TestBenchOutputs runs a tiny bench through the syscall path only (the
// doors are closed, see syscallOnly) and reads back both output files.
func TestBenchOutputs(t *testing.T) {
	useSyscallOnlyDoors(t)

	dir := t.TempDir()
	jsonPath, benchPath, csvPath := filepath.Join(dir, "bench.json"), filepath.Join(dir, "bench.txt"), filepath.Join(dir, "cells.csv")
	var stdout, stderr bytes.Buffer
	err := run([]string{"bench", "--functions", "time,clock_gettime,floor", "--clocks", "monotonic,CLOCK_TAI",
		"--count", "2", "--benchtime", "100us", "--latency=false", "--json", jsonPath, "--benchfmt", benchPath, "--csv", csvPath}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("%v\n%s", err, stdout.String())
	}
	for _, want := range []string{"function", "vs vdso", "unavailable (vsyscall=none)", "no vDSO", "CPU lacks rdtscp", "verify: "} {
		found := false
		for _, alt := range strings.Split(want, "|") {
			found = found || strings.Contains(stdout.String(), alt)
		}
		if !found {
			t.Errorf("table lacks %q:\n%s", want, stdout.String())
		}
	}

	r, err := runfile.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	if r.Bench == nil || r.Verify == nil || r.Finished.Before(r.Started) {
		t.Fatalf("run file: bench %v, verify %v, started %v finished %v", r.Bench != nil, r.Verify != nil, r.Started, r.Finished)
	}
	var measured []string
	for _, c := range r.Bench.Cells {
		if c.Unavailable == "" {
			measured = append(measured, "Benchmark"+c.Name())
		}
	}
	wantNames := []string{"BenchmarkTime/path=syscall", "BenchmarkClockGettime/clock=MONOTONIC/path=syscall",
		"BenchmarkClockGettime/clock=TAI/path=syscall", "BenchmarkFloor/op=empty", "BenchmarkFloor/op=rdtsc"}
	for _, n := range wantNames {
		if !slices.Contains(measured, n) {
			t.Errorf("run file lacks a measured %s (has %q)", n, measured)
		}
	}

	// The CSV: a header and one record per cell, the measured ones with
	// their median.
	cf, err := os.Open(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(cf).ReadAll()
	cf.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1+len(r.Bench.Cells) || !slices.Equal(recs[0][:4], []string{"function", "clock", "path", "median_ns"}) {
		t.Fatalf("CSV has %d records (want %d), header %q", len(recs), 1+len(r.Bench.Cells), recs[0])
	}
	for i, c := range r.Bench.Cells {
		if got := recs[1+i][3]; (c.Summary != nil) != (got != "") {
			t.Errorf("CSV record %d (%s): median_ns %q, summary %v", i, c.Name(), got, c.Summary)
		}
	}

	f, err := os.Open(benchPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd := benchfmt.NewReader(f, benchPath)
	lines := map[string]int{}
	for rd.Scan() {
		res, ok := rd.Result().(*benchfmt.Result)
		if !ok {
			t.Errorf("not a result: %v", rd.Result())
			continue
		}
		name := "Benchmark" + res.Name.String()
		lines[name]++
		if v, ok := res.Value("sec/op"); !ok || !(v > 0) || res.Iters <= 0 {
			t.Errorf("%s: %d iters, sec/op %v %v", name, res.Iters, v, ok)
		}
		// Only the keys that name the program: benchstat splits runs
		// whose keys differ into separate tables.
		var keys []string
		for _, c := range res.Config {
			keys = append(keys, c.Key)
		}
		if !slices.Equal(keys, report.BenchfmtKeys) {
			t.Errorf("%s: configuration keys %q, want %q", name, keys, report.BenchfmtKeys)
		}
	}
	if err := rd.Err(); err != nil {
		t.Fatal(err)
	}
	for _, n := range measured {
		if lines[n] != r.Bench.Count {
			t.Errorf("%s: %d lines, want one per sample (%d)", n, lines[n], r.Bench.Count)
		}
	}
	if len(lines) != len(measured) {
		t.Errorf("benchfmt names %v, measured cells %q", lines, measured)
	}
}
