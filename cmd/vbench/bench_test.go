package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/perf/benchfmt"

	"github.com/vbench-dev/vbench/runfile"
)

func TestBenchBadNames(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string // in the one-line error
	}{
		{[]string{"--functions", "time,nanosleep"}, `unknown function "nanosleep" (valid: gettimeofday, time, clock_gettime, clock_getres, getcpu, getrandom, floor)`},
		{[]string{"--paths", "int80"}, `unknown path "int80" (valid: syscall, vdso, vsyscall)`},
		{[]string{"--clocks", "MONOTONIC,SGI_CYCLE"}, `unknown clock "SGI_CYCLE" (valid: REALTIME, MONOTONIC,`},
		{[]string{"--count", "0"}, "--count 0"},
		{[]string{"--benchtime", "0s"}, "--benchtime 0s"},
		{[]string{"--bogus"}, "unknown flag: --bogus"},
		{[]string{"extra"}, `unexpected argument "extra"`},
	} {
		wantUsageError(t, append([]string{"bench"}, tc.args...), tc.want)
	}
}

// TestBenchOutputs runs a tiny bench through the syscall path only (the
// doors are closed, see syscallOnly) and reads back both output files.
func TestBenchOutputs(t *testing.T) {
	useSyscallOnlyDoors(t)

	dir := t.TempDir()
	jsonPath, benchPath := filepath.Join(dir, "bench.json"), filepath.Join(dir, "bench.txt")
	var stdout, stderr bytes.Buffer
	err := run([]string{"bench", "--functions", "time,clock_gettime,floor", "--clocks", "monotonic,CLOCK_TAI",
		"--count", "2", "--benchtime", "100us", "--no-latency", "--json", jsonPath, "--benchfmt", benchPath}, &stdout, &stderr)
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
		for _, k := range []string{"goos", "goarch", "kernel", "vsyscall"} {
			if res.GetConfig(k) == "" {
				t.Errorf("%s: no %q config line", name, k)
			}
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
