package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/perf/benchfmt"

	"github.com/vbench-dev/vbench/internal/atomicfile"
	"github.com/vbench-dev/vbench/internal/progress"
	"github.com/vbench-dev/vbench/probes"
	"github.com/vbench-dev/vbench/probes/verify"
	"github.com/vbench-dev/vbench/report"
	"github.com/vbench-dev/vbench/runfile"
	"github.com/vbench-dev/vbench/sysenv"
)

func init() {
	register(&command{name: "bench", summary: "time every clock call through every path", run: runBench})
}

const benchExamples = `  vbench bench
  vbench bench --functions clock_gettime --clocks MONOTONIC,REALTIME --paths syscall,vdso
  vbench bench --functions time,gettimeofday,getcpu --count 20 --benchtime 50ms
  vbench bench --no-latency --json bench.json --benchfmt bench.txt
  benchstat bench.txt                        (golang.org/x/perf/cmd/benchstat)
  vbench bench --cpu 1 --functions floor
`

func runBench(args []string, stdout, stderr io.Writer) error {
	def := probes.DefaultBenchConfig()
	fs := newFlags("bench", "vbench bench [flags]", benchExamples, stdout)
	functions := fs.StringSlice("functions", nil, "functions to time, comma-separated (default all: "+strings.Join(probes.BenchFunctions, ",")+")")
	paths := fs.StringSlice("paths", nil, "paths to take (default all: "+strings.Join(probes.BenchPaths, ",")+")")
	clocks := fs.StringSlice("clocks", nil, "clocks for clock_gettime and clock_getres (default all: "+strings.Join(probes.ClockNames(), ",")+")")
	cpu := fs.Int("cpu", def.CPU, "CPU to pin the timed thread to (-1: the one it starts on)")
	count := fs.Int("count", def.Count, "samples per cell")
	benchtime := fs.Duration("benchtime", def.Benchtime, "target time per sample")
	latency := fs.Bool("latency", def.Latency, "also time calls one by one with the TSC (p50, p90, p99, p99.9, max)")
	noLatency := fs.Bool("no-latency", false, "skip the per-call latency mode")
	jsonOut := fs.String("json", "", "write the whole run (environment, samples, summaries) as JSON to `FILE`")
	benchOut := fs.String("benchfmt", "", "write the samples in Go benchmark format (for benchstat) to `FILE`")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErrorf("bench: unexpected argument %q (see 'vbench bench --help')", fs.Arg(0))
	}
	cfg := def
	for _, f := range *functions {
		cfg.Functions = append(cfg.Functions, probes.Func(f))
	}
	for _, p := range *paths {
		cfg.Paths = append(cfg.Paths, probes.Path(p))
	}
	cfg.Clocks = *clocks
	cfg.CPU, cfg.Count, cfg.Benchtime = *cpu, *count, *benchtime
	cfg.Latency = *latency && !*noLatency
	if cfg.Count < 1 {
		return usageErrorf("bench: --count %d: need at least 1 sample", cfg.Count)
	}
	if cfg.Benchtime <= 0 {
		return usageErrorf("bench: --benchtime %v: need a positive duration", cfg.Benchtime)
	}
	cfg, err := cfg.NormalizeNames()
	if err != nil {
		return usageErrorf("bench: %v", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	run := runfile.New(sysenv.Collect())
	doors := discoverDoors()
	cfg.Doors = doors
	var bar *progress.Bar
	b, err := probes.Bench(ctx, cfg, func(done, total int) {
		if bar == nil {
			bar = progress.New(stderr, "bench", "cells", total)
		}
		bar.Set(done)
	})
	bar.Done()
	switch {
	case errors.Is(err, probes.ErrBadCPU):
		return usageErrorf("bench: %v", err)
	case err != nil:
		return failedf("bench: %v", err)
	}
	run.Bench = b

	// The same checks as `vbench verify`, briefly.
	v := verify.Run(verify.Config{CPU: b.CPU, Brief: true, Doors: doors})
	run.Verify = v
	run.Finished = time.Now().UTC()

	writeBenchTable(stdout, b)
	fmt.Fprintln(stdout)
	fmt.Fprintln(stdout, verifySummary(v))

	if *jsonOut != "" {
		if err := run.WriteFile(*jsonOut); err != nil {
			return failedf("bench: %v", err)
		}
	}
	if *benchOut != "" {
		if err := atomicfile.Write(*benchOut, func(w io.Writer) error { return writeBenchfmt(w, run) }); err != nil {
			return failedf("bench: %v", err)
		}
	}
	if !v.Passed {
		return failedf("bench: verify failed (run 'vbench verify' for every check)")
	}
	return nil
}

// verifySummary is one line: how many checks passed, failed, were skipped.
func verifySummary(v *runfile.Verify) string {
	n := map[string]int{}
	var failed []string
	for _, c := range v.Checks {
		n[c.Status]++
		if c.Status == verify.Fail {
			failed = append(failed, c.Name)
		}
	}
	s := fmt.Sprintf("verify: %d checks: %d pass, %d fail, %d skip", len(v.Checks), n[verify.Pass], n[verify.Fail], n[verify.Skip])
	if len(failed) > 0 {
		s += " (failed: " + strings.Join(failed, "; ") + ")"
	}
	return s
}

// writeBenchTable prints one row per cell: the median ns/call with the
// half-width of its 95% confidence interval as a percentage (as benchstat
// shows it), the ratio to the vDSO cell of the same function and clock,
// the latency mode's p50 and p99 if it ran, and the notes.
func writeBenchTable(w io.Writer, b *runfile.Bench) {
	hasLat := false
	for _, c := range b.Cells {
		hasLat = hasLat || c.Latency != nil
	}
	head := []string{"function", "clock", "path", "ns/call", "±", "vs vdso"}
	if hasLat {
		head = append(head, "p50", "p99")
	}
	head = append(head, "notes")
	const firstNumber = 3 // columns from here on are right-aligned, but notes
	rows := [][]string{head}
	for _, c := range b.Cells {
		row := []string{c.Function, dash(c.Clock), dash(c.Path)}
		var notes []string
		if c.Unavailable != "" || c.Summary == nil {
			row = append(row, "-", "", "")
			if hasLat {
				row = append(row, "", "")
			}
			notes = append(notes, c.Unavailable)
		} else {
			s := c.Summary
			ci := math.Max(s.Hi-s.Median, s.Median-s.Lo) / s.Median * 100
			row = append(row, report.FormatNS(s.Median), fmt.Sprintf("%.0f%%", ci), vdsoRatio(b, c))
			if hasLat {
				if l := c.Latency; l != nil {
					row = append(row, report.FormatNS(l.P50), report.FormatNS(l.P99))
				} else {
					row = append(row, "", "")
				}
			}
			notes = append(notes, c.Notes...)
		}
		rows = append(rows, append(row, strings.Join(notes, "; ")))
	}
	width := make([]int, len(head))
	for _, r := range rows {
		for i, f := range r {
			width[i] = max(width[i], utf8.RuneCountInString(f))
		}
	}
	for _, r := range rows {
		var line strings.Builder
		for i, f := range r {
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(f))
			switch {
			case i == len(r)-1:
				line.WriteString(f)
			case i >= firstNumber:
				line.WriteString(pad + f + "  ")
			default:
				line.WriteString(f + pad + "  ")
			}
		}
		fmt.Fprintln(w, strings.TrimRight(line.String(), " "))
	}
	ci := "95% confidence interval of the median"
	if b.Count < probes.MinSamplesForCI {
		ci = fmt.Sprintf("range of the samples (a 95%% confidence interval needs --count %d or more)", probes.MinSamplesForCI)
	}
	fmt.Fprintf(w, "\nns/call: median of %d samples of %v each on CPU %d; ±: %s.\n", b.Count, b.Benchtime, b.CPU, ci)
	fmt.Fprintf(w, "vs vdso: median over the vDSO median of the same call. The vsyscall page has no %s entry: no rows.\n", noVsyscall())
	if hasLat {
		fmt.Fprintf(w, "p50, p99: single calls timed with the TSC (%.3f GHz, advancing in steps of %.1f ns), timer overhead subtracted.\n",
			b.TSCHz/1e9, b.TSCStepNs)
	}
}

// noVsyscall lists the calls the vsyscall page has no entry for, e.g.
// "clock_gettime, clock_getres or getrandom".
func noVsyscall() string {
	var fs []string
	for _, c := range probes.Calls {
		if !c.Has(probes.PathVsyscall) {
			fs = append(fs, string(c.Func))
		}
	}
	if len(fs) < 2 {
		return strings.Join(fs, "")
	}
	return strings.Join(fs[:len(fs)-1], ", ") + " or " + fs[len(fs)-1]
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// vdsoRatio is the cell's median over the vDSO median of the same call.
func vdsoRatio(b *runfile.Bench, c runfile.Cell) string {
	if c.Function == string(probes.FuncFloor) {
		return ""
	}
	v, ok := b.Find(c.Function, c.Clock, string(probes.PathVDSO))
	if !ok || v.Summary == nil || v.Summary.Median <= 0 {
		return "-"
	}
	r := c.Summary.Median / v.Summary.Median
	if r >= 10 {
		return fmt.Sprintf("%.0fx", r)
	}
	return fmt.Sprintf("%.2fx", r)
}

// writeBenchfmt writes the run's samples in the Go benchmark format, one
// line per sample in ns/op, under configuration lines describing the
// environment. Names are runfile.Cell.Name with the Benchmark prefix, e.g.
// BenchmarkClockGettime/clock=MONOTONIC/path=syscall. Unavailable cells
// have no samples and no lines.
func writeBenchfmt(w io.Writer, run *runfile.Run) error {
	if run.Bench == nil {
		return errors.New("no bench results to write")
	}
	e := run.Env
	var res benchfmt.Result
	conf := func(k, v string) {
		if v = strings.TrimSpace(v); v != "" {
			res.Config = append(res.Config, benchfmt.Config{Key: k, Value: []byte(v), File: true})
		}
	}
	conf("goos", runtime.GOOS)
	conf("goarch", runtime.GOARCH)
	conf("pkg", "github.com/vbench-dev/vbench/probes")
	conf("cpu", e.CPUModel)
	conf("kernel", e.KernelRelease)
	conf("vsyscall", e.VsyscallMode)
	conf("clocksource", e.Clocksource)
	conf("pinned-cpu", fmt.Sprint(run.Bench.CPU))
	conf("go", e.GoVersion)
	conf("vbench", e.VbenchVersion)
	if run.Label != "" {
		conf("label", run.Label)
	}
	bw := benchfmt.NewWriter(w)
	for _, c := range run.Bench.Cells {
		for _, s := range c.Samples {
			res.Name = benchfmt.Name(c.Name())
			res.Iters = int(c.Iters)
			res.Values = []benchfmt.Value{{Value: s, Unit: "ns/op"}}
			if err := bw.Write(&res); err != nil {
				return err
			}
		}
	}
	return nil
}
