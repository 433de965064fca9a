package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"time"

	"golang.org/x/perf/benchfmt"

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
  vbench bench --latency=false --json bench.json --benchfmt bench.txt --label idle
  benchstat bench.txt                        (golang.org/x/perf/cmd/benchstat)
  vbench bench --cpu 1 --functions floor
  vbench bench --retry-noisy 2s              more samples of noisy cells, for up to 2 s
  vbench bench --json - | jq .bench.cells    the run on standard output, the table on standard error
  vbench bench --csv cells.csv               the table as CSV: function,clock,path,median_ns,lo_ns,hi_ns,samples,...

Samples are taken round-robin across the cells (one sample of each cell
per round), so that the machine's slow drift falls on every cell alike;
--cell-by-cell takes them cell by cell. Around each sample the kernel's
counters are read (page faults, context switches, migrations, steal time,
preemptions, syscalls entered; cycles and instructions where there is a
PMU): the table shows syscalls and page faults per call, and flags cells
that are noisy. The table is the one report.md shows. Ctrl-C or SIGTERM
stops the bench and writes what was measured, marked interrupted (exit
status 130 or 143).

` + outRule

func runBench(args []string, stdout, stderr io.Writer) error {
	def := probes.DefaultBenchConfig()
	fs := newFlags("bench", "vbench bench [flags]", benchExamples, stdout)
	functions := fs.StringSlice("functions", nil, "functions to time, comma-separated (default all: "+runfile.Join(runfile.BenchFunctions(), ",")+")")
	paths := fs.StringSlice("paths", nil, "paths to take (default all: "+runfile.Join(runfile.Paths, ",")+")")
	clocks := fs.StringSlice("clocks", nil, "clocks for clock_gettime and clock_getres (default all: "+runfile.Join(runfile.Clocks, ",")+")")
	cpu := cpuFlag(fs, "the timed thread")
	count := fs.Int("count", def.Count, fmt.Sprintf("samples per cell (at most %d)", probes.MaxCount))
	benchtime := fs.Duration("benchtime", def.Benchtime, fmt.Sprintf("target time per sample (at most %v)", probes.MaxBenchtime))
	cellByCell := fs.Bool("cell-by-cell", false, "take all samples of a cell before the next (default: one sample of each cell per round)")
	retryNoisy := fs.Duration("retry-noisy", 0, fmt.Sprintf("time budget for more samples of cells whose interval is wider than ±5%% or whose samples are bimodal (0: none; at most %v)", probes.MaxRetryNoisy))
	latency := fs.Bool("latency", def.Latency, "also time calls one by one with the "+probes.CounterName+" (p50, p90, p99, p99.9, max); --latency=false skips it")
	noLatency := fs.Bool("no-latency", false, "deprecated: --latency=false")
	fs.MarkHidden("no-latency")
	jsonOut := jsonFlag(fs, "environment, samples, summaries")
	metricsOut := metricsFlag(fs)
	benchOut := fs.String("benchfmt", "", "write the samples in Go benchmark format (for benchstat) to `FILE` ('-': standard output)")
	csvOut := fs.String("csv", "", "write the table as CSV to `FILE` ('-': standard output): one record per cell, the summary in ns at full precision")
	label := labelFlag(fs)
	quiet := quietFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErrorf("bench: unexpected argument %q (see 'vbench bench --help')", fs.Arg(0))
	}
	// An empty list given is a mistake, as an empty name in a list is
	// ("--functions ," and "--functions ''" alike); leave the flag out for all.
	for _, l := range []struct {
		flag  string
		names []string
	}{{"functions", *functions}, {"paths", *paths}, {"clocks", *clocks}} {
		if fs.Changed(l.flag) && (len(l.names) == 0 || slices.Contains(l.names, "")) {
			return usageErrorf("bench: --%s: an empty name (leave the flag out for all)", l.flag)
		}
	}
	cfg := def
	cfg.Functions, cfg.Paths, cfg.Clocks = words[runfile.Function](*functions), words[runfile.Path](*paths), words[runfile.Clock](*clocks)
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
	if err := checkCPU("bench", *cpu); err != nil {
		return err
	}
	cfg, err := cfg.NormalizeNames()
	if err != nil {
		return usageErrorf("bench: %v", err)
	}
	// Found out now, not after the measuring: where the results will go.
	outs := []struct{ flag, path string }{{"--json", *jsonOut}, {"--benchfmt", *benchOut}, {"--csv", *csvOut}}
	var dashes []string
	for _, o := range outs {
		if o.path == "-" {
			dashes = append(dashes, o.flag+" -")
		}
		if err := checkOutFile("bench", o.flag, o.path); err != nil {
			return err
		}
	}
	if err := checkMetricsFile("bench", *metricsOut); err != nil {
		return err
	}
	if len(dashes) > 1 {
		return usageErrorf("bench: %s would all write to standard output; give all but one a file", strings.Join(dashes, " and "))
	}
	deprecated(fs, stderr, "no-latency", "--latency=false")
	// With data on standard output, the table goes to standard error.
	table := stdout
	if toStdout(*jsonOut, *benchOut, *csvOut) {
		table = stderr
	}

	ctx := onInterrupt()
	defer ctx.stop()
	run := runfile.New(sysenv.Collect())
	run.Label = *label
	doors := discoverDoors()
	cfg.Doors = doors
	var bar *progress.Bar
	b, err := probes.Bench(ctx, cfg, func(done, total int) {
		if bar == nil {
			bar = progress.New(infoWriter(stderr, *quiet), "bench", "cells", total)
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

	// The same checks as `vbench verify --quick`; not after a Ctrl-C.
	var v *runfile.Verify
	if !stopped {
		v = verify.Run(verify.Config{CPU: b.CPU, Brief: true, Doors: doors})
		run.Verify = v
	} else {
		run.Errors = append(run.Errors, "bench: interrupted: cells hold the samples taken so far; verify did not run")
	}
	run.Finished = time.Now().UTC()

	tb := report.BenchTable(b)
	tb.Text(table)
	if v != nil {
		fmt.Fprintf(table, "\nverify: %s\n", report.VerifySummary(v))
	}

	if *jsonOut != "" {
		if err := writeOut(*jsonOut, stdout, run.Encode); err != nil {
			return failedf("bench: --json %v", err)
		}
	}
	if err := writeMetrics("bench", *metricsOut, run); err != nil {
		return err
	}
	if *benchOut != "" {
		if err := writeOut(*benchOut, stdout, func(w io.Writer) error { return writeBenchfmt(w, run) }); err != nil {
			return failedf("bench: --benchfmt %v", err)
		}
	}
	if *csvOut != "" {
		if err := writeOut(*csvOut, stdout, tb.CSV); err != nil {
			return failedf("bench: --csv %v", err)
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

// benchKeys are the only configuration keys bench.txt gives benchstat:
// those of `go test -bench` that say which program ran. benchstat splits
// results into a table per distinct set of file-level keys (its -table
// default is .config, all of them) and lays out the files of one table side
// by side (-col .file); a key that differs between two runs, such as the
// kernel, would put them in separate tables and compare nothing. So the
// environment that differs between runs is written as comment lines
// (benchEnvKeys), which the Go benchmark format ignores
// (golang.org/design/14313-benchmark-format: a line that is neither a
// benchmark result nor "key: value" with a lower-case key is skipped).
var benchKeys = []string{"goos", "goarch", "pkg"}

// benchEnvKeys are the environment lines of bench.txt, in order, each
// written as "# key: value".
var benchEnvKeys = []string{"cpu", "kernel", "vsyscall", "clocksource", "pinned-cpu", "go", "vbench", "label", "started"}

// writeBenchfmt writes the run's samples in the Go benchmark format, one
// line per sample in ns/op: first the environment as "# key: value"
// comment lines (benchEnvKeys), then the configuration lines benchstat
// groups by (benchKeys), so that `benchstat results/*/bench.txt` puts
// runs from different kernels, modes and machines in one table, a column
// per file. Names are runfile.Cell.Name with the Benchmark prefix, e.g.
// BenchmarkClockGettime/clock=MONOTONIC/path=syscall. Unavailable cells
// have no samples and no lines.
func writeBenchfmt(w io.Writer, run *runfile.Run) error {
	if run.Bench == nil {
		return errors.New("no bench results to write")
	}
	e := run.Env
	env := map[string]string{
		"cpu": e.CPUModel, "kernel": e.KernelRelease, "vsyscall": e.VsyscallMode, "clocksource": e.Clocksource,
		"pinned-cpu": fmt.Sprint(run.Bench.CPU), "go": e.GoVersion, "vbench": e.VbenchVersion, "label": run.Label,
		"started": run.Started.UTC().Format(time.RFC3339),
	}
	ew := &errWriter{w: w}
	ew.printf("# The environment of this vbench run, as comments: benchstat would put runs whose\n")
	ew.printf("# \"key: value\" lines differ into separate tables instead of side by side.\n")
	for _, k := range benchEnvKeys {
		// One line each, whatever the value holds: a label with a newline
		// must not start a line benchstat reads.
		if v := strings.Join(strings.Fields(env[k]), " "); v != "" {
			ew.printf("# %s: %s\n", k, v)
		}
	}
	if ew.err != nil {
		return ew.err
	}
	var res benchfmt.Result
	conf := map[string]string{"goos": runtime.GOOS, "goarch": runtime.GOARCH, "pkg": "github.com/vbench-dev/vbench/probes"}
	for _, k := range benchKeys {
		res.Config = append(res.Config, benchfmt.Config{Key: k, Value: []byte(conf[k]), File: true})
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

// errWriter keeps the first write error; later writes are dropped.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, a ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, a...)
	}
}

// words are names given on the command line as runfile's words, checked
// by whoever takes them (probes.BenchConfig.NormalizeNames).
func words[T ~string](names []string) []T {
	var out []T
	for _, n := range names {
		out = append(out, T(n))
	}
	return out
}
