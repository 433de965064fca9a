package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
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
  vbench bench --retry-noisy 2s              more samples of noisy cells, for up to 2 s
  vbench bench --json - | jq .bench.cells    the run on standard output, the table on standard error

Samples are taken round-robin across the cells (one sample of each cell
per round), so that the machine's slow drift falls on every cell alike;
--cell-by-cell takes them cell by cell. Around each sample the kernel's
counters are read (page faults, context switches, migrations, steal time,
preemptions, syscalls entered; cycles and instructions where there is a
PMU): the table shows syscalls and page faults per call, and flags cells
that are noisy. Ctrl-C or SIGTERM stops the bench and writes what was
measured, marked interrupted (exit status 130 or 143).
`

func runBench(args []string, stdout, stderr io.Writer) error {
	def := probes.DefaultBenchConfig()
	fs := newFlags("bench", "vbench bench [flags]", benchExamples, stdout)
	functions := fs.StringSlice("functions", nil, "functions to time, comma-separated (default all: "+strings.Join(probes.BenchFunctions, ",")+")")
	paths := fs.StringSlice("paths", nil, "paths to take (default all: "+strings.Join(probes.BenchPaths, ",")+")")
	clocks := fs.StringSlice("clocks", nil, "clocks for clock_gettime and clock_getres (default all: "+strings.Join(probes.ClockNames(), ",")+")")
	cpu := fs.Int("cpu", def.CPU, "CPU to pin the timed thread to (-1: the one it starts on)")
	count := fs.Int("count", def.Count, fmt.Sprintf("samples per cell (at most %d)", probes.MaxCount))
	benchtime := fs.Duration("benchtime", def.Benchtime, fmt.Sprintf("target time per sample (at most %v)", probes.MaxBenchtime))
	cellByCell := fs.Bool("cell-by-cell", false, "take all samples of a cell before the next (default: one sample of each cell per round)")
	retryNoisy := fs.Duration("retry-noisy", 0, fmt.Sprintf("time budget for more samples of cells whose interval is wider than ±5%% or whose samples are bimodal (0: none; at most %v)", probes.MaxRetryNoisy))
	latency := fs.Bool("latency", def.Latency, "also time calls one by one with the "+probes.CounterName+" (p50, p90, p99, p99.9, max)")
	noLatency := fs.Bool("no-latency", false, "skip the per-call latency mode")
	jsonOut := fs.String("json", "", "write the whole run (environment, samples, summaries) as JSON to `FILE` ('-': standard output)")
	benchOut := fs.String("benchfmt", "", "write the samples in Go benchmark format (for benchstat) to `FILE` ('-': standard output)")
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
	cfg.CellByCell, cfg.RetryNoisy = *cellByCell, *retryNoisy
	cfg.Latency = *latency && !*noLatency
	if cfg.Count < 1 {
		return usageErrorf("bench: --count %d: need at least 1 sample", cfg.Count)
	}
	if cfg.Benchtime <= 0 {
		return usageErrorf("bench: --benchtime %v: need a positive duration", cfg.Benchtime)
	}
	if err := cfg.CheckBounds(); err != nil {
		return usageErrorf("bench: %v", err)
	}
	if err := checkCPUFlag(*cpu); err != nil {
		return usageErrorf("bench: %v", err)
	}
	cfg, err := cfg.NormalizeNames()
	if err != nil {
		return usageErrorf("bench: %v", err)
	}
	// Found out now, not after the measuring: where the results will go.
	if *jsonOut == "-" && *benchOut == "-" {
		return usageErrorf("bench: --json - and --benchfmt - would both write to standard output; give one a file")
	}
	for _, o := range []struct{ flag, path string }{{"--json", *jsonOut}, {"--benchfmt", *benchOut}} {
		if o.path != "" && o.path != "-" {
			if err := atomicfile.Check(o.path); err != nil {
				return usageErrorf("bench: %s %v", o.flag, err)
			}
		}
	}
	// With data on standard output, the table goes to standard error.
	table := stdout
	if *jsonOut == "-" || *benchOut == "-" {
		table = stderr
	}

	ctx := onInterrupt()
	defer ctx.stop()
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
	stopped := errors.Is(err, context.Canceled) && b != nil
	switch {
	case errors.Is(err, probes.ErrBadCPU), errors.Is(err, probes.ErrBadConfig):
		return usageErrorf("bench: %v", err)
	case err != nil && !stopped:
		return failedf("bench: %v", err)
	}
	run.Bench = b

	// The same checks as `vbench verify`, briefly; not after a Ctrl-C.
	var v *runfile.Verify
	if !stopped {
		v = verify.Run(verify.Config{CPU: b.CPU, Brief: true, Doors: doors})
		run.Verify = v
	} else {
		run.Errors = append(run.Errors, "bench: interrupted: cells hold the samples taken so far; verify did not run")
	}
	run.Finished = time.Now().UTC()

	writeBenchTable(table, b)
	if v != nil {
		fmt.Fprintln(table)
		fmt.Fprintln(table, verifySummary(v))
	}

	if *jsonOut != "" {
		if err := writeOut(*jsonOut, stdout, run.Encode); err != nil {
			return failedf("bench: --json %v", err)
		}
	}
	if *benchOut != "" {
		if err := writeOut(*benchOut, stdout, func(w io.Writer) error { return writeBenchfmt(w, run) }); err != nil {
			return failedf("bench: --benchfmt %v", err)
		}
	}
	if err := ctx.interrupted("bench"); err != nil {
		return err // a signal: what was measured is written
	}
	if !v.Passed {
		return failedf("bench: verify failed (run 'vbench verify' for every check)")
	}
	return nil
}

// checkCPUFlag is the one check of --cpu: -1 (or omitted) is the CPU the
// command starts on; any other value must be a CPU this process may run on.
func checkCPUFlag(cpu int) error {
	if cpu < -1 {
		return fmt.Errorf("--cpu %d: want a CPU number or -1", cpu)
	}
	return probes.CheckCPU(cpu)
}

// writeOut writes an output file atomically, or to stdout for "-".
func writeOut(path string, stdout io.Writer, fill func(io.Writer) error) error {
	if path == "-" {
		return fill(stdout)
	}
	return atomicfile.Write(path, fill)
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
// syscalls and page faults per call (counted), cycles and instructions per
// call where the machine has a PMU, the latency mode's p50 and p99 if it
// ran, and the notes, the noise flag among them. A legend follows: how the
// samples were taken, and once each counter that could not be read.
func writeBenchTable(w io.Writer, b *runfile.Bench) {
	hasLat, hasSys, hasPF, hasHW := false, false, false, false
	for _, c := range b.Cells {
		hasLat = hasLat || c.Latency != nil
		if p := c.PerCall; p != nil {
			hasSys = hasSys || p.Syscalls != nil
			hasPF = hasPF || p.PageFaults != nil
			hasHW = hasHW || p.Cycles != nil || p.Instructions != nil
		}
	}
	head := []string{"function", "clock", "path", "ns/call", "±", "vs vdso"}
	if hasSys {
		head = append(head, "sys/call")
	}
	if hasPF {
		head = append(head, "pf/call")
	}
	if hasHW {
		head = append(head, "cycles", "instr")
	}
	if hasLat {
		head = append(head, "p50", "p99")
	}
	head = append(head, "notes")
	const firstNumber = 3 // columns from here on are right-aligned, but notes
	count := func(v *float64) string {
		if v == nil {
			return "-"
		}
		return runfile.FormatCount(*v)
	}
	big := func(v *float64) string {
		if v == nil {
			return "-"
		}
		return report.FormatNS(*v)
	}
	rows := [][]string{head}
	for _, c := range b.Cells {
		row := []string{c.Function, dash(c.Clock), dash(c.Path)}
		var notes []string
		if c.Unavailable != "" || c.Summary == nil {
			row = append(row, "-")
			for len(row) < len(head)-1 {
				row = append(row, "")
			}
			notes = append(notes, c.Unavailable)
		} else {
			s := c.Summary
			ci := math.Max(s.Hi-s.Median, s.Median-s.Lo) / s.Median * 100
			row = append(row, report.FormatNS(s.Median), fmt.Sprintf("%.0f%%", ci), vdsoRatio(b, c))
			p := c.PerCall
			if p == nil {
				p = &runfile.PerCall{}
			}
			if hasSys {
				row = append(row, count(p.Syscalls))
			}
			if hasPF {
				row = append(row, count(p.PageFaults))
			}
			if hasHW {
				row = append(row, big(p.Cycles), big(p.Instructions))
			}
			if hasLat {
				if l := c.Latency; l != nil {
					row = append(row, report.FormatNS(l.P50), report.FormatNS(l.P99))
				} else {
					row = append(row, "", "")
				}
			}
			notes = append(notes, c.Notes...)
			if n := c.NoiseNote(); n != "" {
				notes = append(notes, n)
			}
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
	switch b.Order {
	case runfile.OrderCellByCell:
		fmt.Fprintln(w, "Samples taken cell by cell (--cell-by-cell): drift of the machine during the run falls on some cells and not others.")
	case runfile.OrderInterleaved:
		fmt.Fprintln(w, "Samples taken round-robin, one of each cell per round, every cell calibrated first: slow drift falls on every cell alike.")
	}
	if b.Interrupted {
		fmt.Fprintln(w, "Interrupted: cells hold the samples taken so far.")
	}
	fmt.Fprintf(w, "vs vdso: median over the vDSO median of the same call. The vsyscall page has no %s entry: no rows.\n", noVsyscall())
	if hasSys || hasPF || hasHW {
		var parts []string
		if hasSys {
			src := "syscalls entered"
			if c, ok := b.Counter(runfile.CounterSyscalls); ok && c.Source != "" {
				src += " (" + firstClause(c.Source) + ")"
			}
			parts = append(parts, "sys: "+src)
		}
		if hasPF {
			parts = append(parts, "pf: page faults (perf software event; a vsyscall call is one fault the kernel emulates)")
		}
		if hasHW {
			parts = append(parts, "cycles, instr: hardware counters")
		}
		fmt.Fprintf(w, "Per call, counted: %s.\n", strings.Join(parts, "; "))
	}
	// Each reason once, with every counter it applies to.
	var reasons []string
	names := map[string][]string{}
	for _, c := range b.Counters {
		if c.Unavailable != "" {
			if names[c.Unavailable] == nil {
				reasons = append(reasons, c.Unavailable)
			}
			names[c.Unavailable] = append(names[c.Unavailable], c.Name)
		}
	}
	for _, r := range reasons {
		fmt.Fprintf(w, "%s: unavailable: %s.\n", strings.Join(names[r], ", "), r)
	}
	fmt.Fprintf(w, "noisy: 95%% interval wider than ±%.0f%%, samples in two groups (bimodal), or steal time, preemptions or migrations seen while the cell ran.\n", runfile.NoisyCI*100)
	if b.RetryNoisy > 0 {
		fmt.Fprintf(w, "--retry-noisy %v: cells with a wide interval or bimodal samples were sampled again within that budget.\n", b.RetryNoisy)
	}
	if hasLat {
		fmt.Fprintf(w, "p50, p99: single calls timed with the %s (%.3f GHz, advancing in steps of %.1f ns), timer overhead subtracted.\n",
			probes.CounterName, b.TSCHz/1e9, b.TSCStepNs)
	}
}

// firstClause is s up to its first "; " or " (": the counter's source
// without the detail the run file keeps.
func firstClause(s string) string {
	if i := strings.Index(s, " ("); i >= 0 {
		s = s[:i]
	}
	if i := strings.Index(s, "; "); i >= 0 {
		s = s[:i]
	}
	return s
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
