package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/vbench-dev/vbench/internal/progress"
	"github.com/vbench-dev/vbench/probes"
	"github.com/vbench-dev/vbench/report"
	"github.com/vbench-dev/vbench/runfile"
	"github.com/vbench-dev/vbench/study"
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
  vbench bench --csv cells.csv               as CSV, a row per cell of every context: function,clock,path,median_ns,...,context,vs_plain

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

// benchArgs is what bench's flags ask for, checked.
type benchArgs struct {
	study                              study.Config
	jsonOut, metricsOut, benchOut, csv string
	label                              string
	quiet                              bool
	table                              io.Writer // where the table goes: stdout, or stderr when data take stdout
}

// parseBench parses and checks bench's flags, before any work: names,
// bounds (the configuration's Validate, in flags' words) and where the
// results will go.
func parseBench(args []string, stdout, stderr io.Writer) (*benchArgs, error) {
	def := probes.DefaultBenchConfig()
	fs := newFlags("bench", "vbench bench [flags]", benchExamples, stdout)
	functions := fs.StringSlice("functions", nil, "functions to time, comma-separated (default all: "+runfile.Join(runfile.BenchFunctions(), ",")+")")
	paths := fs.StringSlice("paths", nil, "paths to take (default all: "+runfile.Join(runfile.Paths, ",")+")")
	clocks := fs.StringSlice("clocks", nil, "clocks for clock_gettime and clock_getres (default all but the auxiliary ones: "+runfile.Join(runfile.DefaultClocks(), ",")+"; or "+runfile.Join(runfile.AuxClocks, ",")+")")
	ctxNames := contextsFlag(fs)
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
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, usageErrorf("bench: unexpected argument %q (see 'vbench bench --help')", fs.Arg(0))
	}
	// An empty list given is a mistake, as an empty name in a list is
	// ("--functions ," and "--functions ''" alike); leave the flag out for all.
	for _, l := range []struct {
		flag  string
		names []string
	}{{"functions", *functions}, {"paths", *paths}, {"clocks", *clocks}} {
		if fs.Changed(l.flag) && (len(l.names) == 0 || slices.Contains(l.names, "")) {
			return nil, usageErrorf("bench: --%s: an empty name (leave the flag out for all)", l.flag)
		}
	}
	cfg := def
	cfg.Functions, cfg.Paths, cfg.Clocks = words[runfile.Function](*functions), words[runfile.Path](*paths), words[runfile.Clock](*clocks)
	ctxs, err := parseContexts("bench", *ctxNames)
	if err != nil {
		return nil, err
	}
	cfg.Contexts = ctxs
	cfg.CPU, cfg.Count, cfg.Benchtime = *cpu, *count, *benchtime
	cfg.CellByCell, cfg.RetryNoisy = *cellByCell, *retryNoisy
	cfg.Latency = *latency && !*noLatency
	a := &benchArgs{study: study.Config{Parts: []runfile.Part{runfile.PartBench, runfile.PartVerify}, Bench: cfg, VerifyBrief: true},
		jsonOut: *jsonOut, metricsOut: *metricsOut, benchOut: *benchOut, csv: *csvOut, label: *label, quiet: *quiet}
	if err := a.study.Validate(); err != nil {
		return nil, configError("bench", err)
	}
	// Found out now, not after the measuring: where the results will go.
	var dashes []string
	for _, o := range []struct{ flag, path string }{{"--json", a.jsonOut}, {"--benchfmt", a.benchOut}, {"--csv", a.csv}} {
		if o.path == "-" {
			dashes = append(dashes, o.flag+" -")
		}
		if err := checkOutFile("bench", o.flag, o.path); err != nil {
			return nil, err
		}
	}
	if err := checkMetricsFile("bench", a.metricsOut); err != nil {
		return nil, err
	}
	if len(dashes) > 1 {
		return nil, usageErrorf("bench: %s would all write to standard output; give all but one a file", strings.Join(dashes, " and "))
	}
	deprecated(fs, stderr, "no-latency", "--latency=false")
	a.table = textOut(stdout, stderr, a.jsonOut, a.benchOut, a.csv)
	return a, nil
}

func runBench(args []string, stdout, stderr io.Writer) error {
	a, err := parseBench(args, stdout, stderr)
	if err != nil {
		return err
	}
	// The study's bench and verify parts: the same checks as `vbench
	// verify --quick` after the bench, not after a Ctrl-C.
	ctx := onInterrupt()
	defer ctx.stop()
	run := runfile.New(sysenv.Collect())
	run.Label = a.label
	scfg := a.study
	scfg.Doors = discoverDoors()
	var bar *progress.Bar
	var benchErr error
	scfg.Progress = func(_ runfile.Part, unit string, done, total int) {
		if bar == nil {
			bar = progress.New(infoWriter(stderr, a.quiet), "bench", unit, total)
		}
		bar.Set(done)
	}
	scfg.Failed = func(part runfile.Part, err error) {
		if part == runfile.PartBench && !errors.Is(err, context.Canceled) {
			benchErr = err // not a Ctrl-C, which keeps what was measured
		}
	}
	studyRun(ctx, scfg, run)
	bar.Done()
	switch {
	case benchErr != nil:
		return failedf("bench: %v", benchErr)
	case run.Bench == nil:
		return ctx.interruptedf("bench: interrupted by %s before anything was measured")
	}
	if err := a.write(run, stdout); err != nil {
		return err
	}
	if err := ctx.interrupted("bench"); err != nil {
		return err // a signal: what was measured is written
	}
	if v := run.Verify; v != nil && !v.Passed {
		return failedf("bench: verify failed (run 'vbench verify' for every check)")
	}
	return nil
}

// write prints the tables and writes the files asked for.
func (a *benchArgs) write(run *runfile.Run, stdout io.Writer) error {
	tb := report.BenchTable(run.Bench)
	tb.Text(a.table)
	if ct := report.ContextTable(run.Bench); ct != nil {
		fmt.Fprintln(a.table)
		ct.Text(a.table)
	}
	if v := run.Verify; v != nil {
		fmt.Fprintf(a.table, "\nverify: %s\n", report.VerifySummary(v))
	}
	if a.jsonOut != "" {
		if err := writeOut(a.jsonOut, stdout, run.Encode); err != nil {
			return failedf("bench: --json %v", err)
		}
	}
	if err := writeMetrics("bench", a.metricsOut, run); err != nil {
		return err
	}
	if a.benchOut != "" {
		if err := writeOut(a.benchOut, stdout, func(w io.Writer) error { return report.WriteBenchfmt(w, run) }); err != nil {
			return failedf("bench: --benchfmt %v", err)
		}
	}
	if a.csv != "" {
		if err := writeOut(a.csv, stdout, report.BenchCSVTable(run.Bench).CSV); err != nil {
			return failedf("bench: --csv %v", err)
		}
	}
	return nil
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
