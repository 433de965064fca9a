package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/vbench-dev/vbench/aslr"
	"github.com/vbench-dev/vbench/aslr/analysis"
	"github.com/vbench-dev/vbench/internal/console"
	"github.com/vbench-dev/vbench/internal/progress"
	"github.com/vbench-dev/vbench/limits"
	"github.com/vbench-dev/vbench/report"
	"github.com/vbench-dev/vbench/runfile"
	"github.com/vbench-dev/vbench/sysenv"
)

func init() {
	register(&command{name: "aslr", summary: "sample the vDSO base across spawns and measure its entropy", run: runAslr})
}

const aslrExamples = `  vbench aslr                                  sample until every region is measured (at most 20 s)
  vbench aslr --samples 100000 --json aslr.json
  vbench aslr --budget 1m                      a minute to measure every region
  vbench aslr --no-randomize --samples 2000    the control: as under 'setarch -R'
  vbench aslr --method both --samples 40000    exec chains against fresh spawns, region by region
  vbench aslr --target /bin/true --samples 2000
  vbench aslr --samples-csv samples.csv        raw bases, one line per sample
  vbench aslr --from-csv samples.csv           re-estimate from such a file, no spawning

vbench's own target reports itself: it writes its stack pointer, auxv
entries and brk(0) down a pipe. With --method chain (the default) each
worker starts it once and every image executes itself again after
reporting, so a sample is one execve: no fork, no exit, no wait. With
--method spawn each sample is a fresh spawn that exits; --method ptrace
stops every spawn at execve and reads /proc instead, as for a --target.
The first sample of each worker, the first 8 and about 1 in 100 after
that are checked without ptrace: the target stops itself, vbench reads
/proc/PID/maps, auxv, stat and syscall and continues it, and the bases must
equal the self-reported ones, or the run stops naming the region.
Without --samples, sampling goes on until every region's figure is an
estimate whose 95% interval is at most 0.2 bits wide, or --budget runs out;
the output says which regions got there. Before and after sampling,
--ceiling measures how fast the same number of workers can vfork+execve a
program that only exits (vbench's own stub, no Go in the loop) and run the
no-op exec chain; the rate is shown as a fraction of both. Ctrl-C or
SIGTERM stops early, reports on the samples gathered (marked interrupted)
and exits 130 or 143. Time in which vbench was stopped (SIGSTOP) is left
out of the rate, and said. The region table fits 100 columns; --wide shows
every estimator, as report.md does.

` + outRule

func runAslr(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("aslr", "vbench aslr [flags]", aslrExamples, stdout)
	samples := fs.Int("samples", 0, "number of samples (0: until every region is measured, or --budget)")
	budget := fs.Duration("budget", aslr.DefaultBudget, "without --samples: sample for at most `DURATION`")
	method := fs.String("method", "", "`METHOD`: chain (the default for the built-in target), spawn, ptrace (the default for --target), or both (chain and spawn, compared)")
	target := fs.String("target", "", "program `PATH` to spawn (default: a tiny static-PIE ELF vbench builds in memory)")
	noRand := fs.Bool("no-randomize", false, "spawn with personality ADDR_NO_RANDOMIZE (as 'setarch -R'): the control run")
	csvOut := fs.String("samples-csv", "", "stream the raw samples as CSV to `FILE` (written as FILE.partial, renamed at the end: a killed run leaves that, which --from-csv reads; '-': standard output)")
	jsonOut := jsonFlag(fs, "environment and estimators")
	metricsOut := metricsFlag(fs)
	label := labelFlag(fs)
	workers := fs.Int("workers", 0, fmt.Sprintf("spawning threads (0: %d here, CPUs+1, at most 4)", aslr.DefaultWorkers()))
	ptrace := fs.Bool("ptrace", false, "the same as --method ptrace")
	ceiling := fs.Duration("ceiling", aslr.DefaultCeiling, "measure the spawn ceiling for `DURATION`, half before sampling and half after (0: do not; not with --target)")
	fromCSV := fs.String("from-csv", "", "re-estimate everything from a samples CSV `FILE` (as --samples-csv writes; some region columns are enough) instead of sampling")
	wide := fs.Bool("wide", false, "every estimator in the region table (about 185 characters wide), as report.md shows it")
	quiet := quietFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErrorf("aslr: unexpected argument %q (see 'vbench aslr --help')", fs.Arg(0))
	}
	if *csvOut == "-" && *jsonOut == "-" {
		return usageErrorf("aslr: --samples-csv - and --json - cannot both go to standard output")
	}
	for flag, p := range map[string]string{"--json": *jsonOut, "--samples-csv": *csvOut} {
		if err := checkOutFile("aslr", flag, p); err != nil {
			return err
		}
	}
	if err := checkMetricsFile("aslr", *metricsOut); err != nil {
		return err
	}
	out := textOut(stdout, stderr, *jsonOut, *csvOut)
	if *fromCSV != "" && *metricsOut != "" {
		return usageErrorf("aslr: --openmetrics with --from-csv: write --json and run 'vbench export' on it")
	}
	if *fromCSV != "" {
		return aslrFromCSV(*fromCSV, *jsonOut, *label, *wide, stdout, out)
	}
	if *budget <= 0 || *budget > aslr.MaxBudget {
		return usageErrorf("aslr: --budget %s: want more than 0, at most %v", *budget, aslr.MaxBudget)
	}
	m := *method
	switch {
	case *ptrace && m != "" && m != aslr.MethodPtrace:
		return usageErrorf("aslr: --ptrace and --method %s", m)
	case *ptrace:
		m = aslr.MethodPtrace
	case m == "spawn":
		m = aslr.MethodSelfReport
	case m == "", m == aslr.MethodChain, m == aslr.MethodPtrace, m == "both":
	default:
		return usageErrorf("aslr: --method %q: want chain, spawn, ptrace or both", m)
	}
	if m == "both" {
		if *samples == 0 {
			return usageErrorf("aslr: --method both needs --samples N (N samples of each method)")
		}
		if *csvOut != "" || *jsonOut != "" || *metricsOut != "" {
			return usageErrorf("aslr: --method both compares two runs: not with --samples-csv, --json or --openmetrics")
		}
	}
	cfg := aslr.Config{Samples: *samples, Target: *target, NoRandomize: *noRand, Workers: *workers, Method: m, Ceiling: *ceiling, Budget: *budget}
	check := cfg
	if m == "both" {
		check.Method = aslr.MethodChain // and spawn, which takes what the chain takes
	}
	if err := check.Validate(); err != nil {
		return configError("aslr", err)
	}
	if m == "both" {
		return aslrBoth(cfg, stdout, stderr, *quiet)
	}
	if note, err := checkASLRMemory("aslr", &cfg); err != nil {
		return err
	} else if note != "" {
		fmt.Fprintf(infoWriter(stderr, *quiet), "aslr: %s\n", note)
	}
	if note, err := sizeWorkers("aslr", &cfg); err != nil {
		return err
	} else if note != "" {
		fmt.Fprintf(infoWriter(stderr, *quiet), "aslr: %s\n", note)
	}

	// Ctrl-C or SIGTERM: stop sampling, estimate and write what was
	// gathered, marked interrupted, then exit 130 or 143.
	ctx := onInterrupt()
	defer ctx.stop()
	run := runfile.New(sysenv.Collect())
	run.Label = *label
	bar := progress.New(infoWriter(stderr, *quiet), "aslr", "samples", max(cfg.Samples, maxSamples(cfg)*boolInt(cfg.Samples == 0)))
	// Under a cgroup memory limit, spawning is paced to what the kernel
	// frees (memPacer), and the unpaced ceiling is not measured.
	sctx, scancel := context.WithCancel(ctx)
	defer scancel()
	pacer := newMemPacer(scancel)
	if pacer != nil && pacer.m.Max < ceilingMemory && cfg.Ceiling > 0 {
		cfg.Ceiling = 0
		fmt.Fprintf(infoWriter(stderr, *quiet), "aslr: ceiling not measured: under the cgroup's %s memory limit, spawning at full speed would leave more kernel memory pending than it allows\n", limits.MiB(pacer.m.Max))
	}
	var res *runfile.ASLR
	study := func(csv io.Writer) error {
		cfg.CSV = csv
		var err error
		res, err = aslrStudy(sctx, cfg, func(done, _ int) { bar.Set(done); pacer.pace() })
		return err
	}
	var err error
	if *csvOut != "" {
		err = writeStream(*csvOut, stdout, study)
	} else {
		err = study(nil)
	}
	bar.Done()
	switch {
	case errors.Is(err, aslr.ErrConfig), errors.Is(err, aslr.ErrTarget):
		return usageErrorf("aslr: %v", err)
	case err != nil:
		return failedf("aslr: %v", err)
	}
	if pacer != nil && pacer.Stopped != "" && res != nil && ctx.Err() == nil {
		// Stopped for memory, not by the user: say so, not "interrupted".
		res.Interrupted = false
	}
	run.ASLR = res
	run.Finished = time.Now().UTC()
	if *jsonOut != "" {
		if err := writeOut(*jsonOut, stdout, run.Encode); err != nil {
			return failedf("aslr: %v", err)
		}
	}
	if err := writeMetrics("aslr", *metricsOut, run); err != nil {
		return err
	}
	fmt.Fprintf(out, "kernel %s, kernel.randomize_va_space=%s, vm.mmap_rnd_bits=%s, vsyscall=%s\n",
		run.Env.KernelRelease, run.Env.Shown("kernel.randomize_va_space", run.Env.RandomizeVASpace), run.Env.Shown("vm.mmap_rnd_bits", run.Env.MmapRndBits), run.Env.VsyscallMode)
	if err := writeAslr(out, run.Env, res, *wide); err != nil {
		return err
	}
	if m := pacer.Summary(); m != "" {
		fmt.Fprintln(out, m)
	}
	if pacer != nil && pacer.Stopped != "" {
		return failedf("aslr: %d of %d samples: %s", res.Samples, cfg.Samples, pacer.Stopped)
	}
	return ctx.interrupted("aslr")
}

// aslrFromCSV re-estimates from a samples file. The kernel the samples
// came from is not in the file: no kernel maxima are given.
func aslrFromCSV(path, jsonOut, label string, wide bool, stdout, out io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return usageErrorf("aslr: --from-csv: %v", err)
	}
	defer f.Close()
	res, info, err := analysis.ReadCSV(f, path)
	if err != nil {
		return usageErrorf("aslr: --from-csv %s: %v", path, err)
	}
	if jsonOut != "" {
		run := runfile.New(runfile.Env{}) // the samples came from elsewhere: not this machine
		run.Label = label
		run.ASLR = res
		run.Finished = time.Now().UTC()
		if err := writeOut(jsonOut, stdout, run.Encode); err != nil {
			return failedf("aslr: %v", err)
		}
	}
	fmt.Fprintf(out, "re-estimated from %s (the kernel it came from is not recorded there: no kernel maxima)\n", path)
	if info.CutLine != 0 {
		fmt.Fprintf(out, "line %d (%q...) has no newline at the end: cut short by a run that was stopped while writing, left out\n", info.CutLine, info.CutText)
	}
	return writeAslr(out, runfile.Env{}, res, wide)
}

// writeAslr prints how the run sampled, then the tables report.md shows
// (report.ASLRTables: regions, the pairs that move together, rules,
// conclusions), narrow unless wide.
func writeAslr(w io.Writer, env runfile.Env, a *runfile.ASLR, wide bool) error {
	// Prose, wrapped at the console's width (report.ProseWidth).
	// A line's leading spaces are kept, its further lines indented by two more.
	say := func(format string, args ...any) {
		line := fmt.Sprintf(format, args...)
		lead := line[:len(line)-len(strings.TrimLeft(line, " "))]
		fmt.Fprintln(w, lead+console.Wrap(line, report.ProseWidth()-len(lead), lead+"  "))
	}
	say("target %s, %s: %d samples in %.2fs, %.0f samples/s (%d workers)", a.Target, aslrMode(a), a.Samples,
		a.Duration.Seconds(), a.Rate, a.Workers)
	if a.Stalled > 0 || a.Continued > 0 {
		say("  the rate leaves out %.2fs in which no sample arrived (vbench stopped or suspended; %d SIGCONT received)", a.Stalled.Seconds(), a.Continued)
	}
	if m := aslr.MethodWords(a); m != "" {
		say("method: %s", m)
	}
	for _, l := range aslr.CeilingLines(a) {
		say("%s", l)
	}
	for _, l := range aslr.NarrowLines(a) {
		say("%s", l)
	}
	if a.InheritedNoRandomize {
		say("NOT RANDOMIZED: vbench runs with the ADDR_NO_RANDOMIZE personality (as under 'setarch -R'), inherited by every spawn: the figures below measure no ASLR")
	}
	if a.Interrupted {
		say("INTERRUPTED after %d of %d samples", a.Samples, a.Requested)
	}
	fmt.Fprintln(w)
	return report.ASLRTables(a, env, wide).Text(w)
}

// aslrMode is the run's randomization, in a few words.
func aslrMode(a *runfile.ASLR) string {
	switch {
	case a.NoRandomize:
		return "ADDR_NO_RANDOMIZE (control)"
	case a.InheritedNoRandomize:
		return "NOT randomized (ADDR_NO_RANDOMIZE inherited, as under 'setarch -R')"
	}
	return "randomized"
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// aslrBoth samples with the chain and with fresh spawns, alternating
// halves so that both see the same load, and compares them region by
// region.
func aslrBoth(cfg aslr.Config, stdout, stderr io.Writer, quiet bool) error {
	ctx := onInterrupt()
	defer ctx.stop()
	bar := progress.New(infoWriter(stderr, quiet), "aslr", "samples", 2*cfg.Samples)
	cmp, runs, err := aslrCompare(ctx, cfg, aslr.MethodChain, aslr.MethodSelfReport, func(done, _ int) { bar.Set(done) })
	bar.Done()
	switch {
	case errors.Is(err, aslr.ErrConfig), errors.Is(err, aslr.ErrTarget):
		return usageErrorf("aslr: %v", err)
	case err != nil:
		return failedf("aslr: %v", err)
	}
	for _, r := range runs {
		fmt.Fprintf(stdout, "%s: %d samples, %.0f samples/s (%d workers)\n", r.Method, r.Samples, r.Rate, r.Workers)
	}
	fmt.Fprintln(stdout)
	for _, l := range aslr.ComparisonLines(cmp) {
		fmt.Fprintln(stdout, l)
	}
	return ctx.interrupted("aslr")
}

// aslrStudy and aslrCompare are aslr.Study and aslr.CompareMethods; the
// examples' test shortens their configurations.
var (
	aslrStudy   = aslr.Study
	aslrCompare = aslr.CompareMethods
)
