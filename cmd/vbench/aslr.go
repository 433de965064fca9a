package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/vbench-dev/vbench/aslr"
	"github.com/vbench-dev/vbench/aslr/analysis"
	"github.com/vbench-dev/vbench/internal/progress"
	"github.com/vbench-dev/vbench/limits"
	"github.com/vbench-dev/vbench/report"
	"github.com/vbench-dev/vbench/runfile"
	"github.com/vbench-dev/vbench/sysenv"
)

func init() {
	register(&command{name: "aslr", summary: "sample the vDSO base across spawns and measure its entropy", run: runAslr})
}

const aslrExamples = `  vbench aslr                                  5000 spawns of vbench's built-in target
  vbench aslr --samples 100000 --json aslr.json
  vbench aslr --no-randomize                   the control: as under 'setarch -R'
  vbench aslr --target /bin/true --samples 2000
  vbench aslr --samples-csv samples.csv        raw bases, one line per spawn
  vbench aslr --from-csv samples.csv           re-estimate from such a file, no spawning

vbench's own target reports itself: it writes its stack pointer, auxv
entries and brk(0) down a pipe and exits, so a sample is one vfork+exec and
no more. The first samples of each thread and 1 in 100 after that are also
stopped by ptrace at execve, and the bases read from /proc/PID/maps, auxv
and stat must equal the self-reported ones, or the run stops. A --target
(or --ptrace) is sampled that way every time, and killed at the stop.
Before and after sampling, --ceiling measures how fast the same threads can
spawn a program that only exits; the rate is shown as a fraction of that.
Ctrl-C or SIGTERM stops early, reports on the samples gathered (marked
interrupted) and exits 130 or 143. The region table fits 100 columns;
--wide shows every estimator, as report.md does.

` + outRule

func runAslr(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("aslr", "vbench aslr [flags]", aslrExamples, stdout)
	samples := fs.Int("samples", 5000, "number of spawns to sample")
	target := fs.String("target", "", "program `PATH` to spawn (default: a tiny static-PIE ELF vbench builds in memory)")
	noRand := fs.Bool("no-randomize", false, "spawn with personality ADDR_NO_RANDOMIZE (as 'setarch -R'): the control run")
	csvOut := fs.String("samples-csv", "", "stream the raw samples as CSV to `FILE` (written as FILE.partial, renamed at the end: a killed run leaves that, which --from-csv reads; '-': standard output)")
	jsonOut := jsonFlag(fs, "environment and estimators")
	metricsOut := metricsFlag(fs)
	label := labelFlag(fs)
	workers := fs.Int("workers", 0, fmt.Sprintf("spawning threads (0: %d here, CPUs+1, at most 4)", aslr.DefaultWorkers()))
	ptrace := fs.Bool("ptrace", false, "read every sample of the built-in target through ptrace and /proc, as for --target (slower; to compare)")
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
	// The tables go to stderr when a file takes standard output.
	out := stdout
	if toStdout(*jsonOut, *csvOut) {
		out = stderr
	}
	if *fromCSV != "" && *metricsOut != "" {
		return usageErrorf("aslr: --openmetrics with --from-csv: write --json and run 'vbench export' on it")
	}
	if *fromCSV != "" {
		return aslrFromCSV(*fromCSV, *jsonOut, *label, *wide, stdout, out)
	}
	cfg := aslr.Config{Samples: *samples, Target: *target, NoRandomize: *noRand, Workers: *workers, Ptrace: *ptrace, Ceiling: *ceiling}
	if err := cfg.Validate(); err != nil {
		return configError("aslr", err)
	}
	if err := checkASLRMemory("aslr", cfg.Samples); err != nil {
		return err
	}

	// Ctrl-C or SIGTERM: stop sampling, estimate and write what was
	// gathered, marked interrupted, then exit 130 or 143.
	ctx := onInterrupt()
	defer ctx.stop()
	run := runfile.New(sysenv.Collect())
	run.Label = *label
	bar := progress.New(infoWriter(stderr, *quiet), "aslr", "samples", cfg.Samples)
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
		res, err = aslr.Study(sctx, cfg, func(done, _ int) { bar.Set(done); pacer.pace() })
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
	fmt.Fprintf(out, "kernel %s, kernel.randomize_va_space=%d, vm.mmap_rnd_bits=%d, vsyscall=%s\n",
		run.Env.KernelRelease, run.Env.RandomizeVASpace, run.Env.MmapRndBits, run.Env.VsyscallMode)
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
	fmt.Fprintf(w, "target %s, %s: %d samples in %.2fs, %.0f samples/s (%d spawning threads)\n", a.Target, aslrMode(a), a.Samples,
		a.Duration.Seconds(), a.Rate, a.Workers)
	if m := aslr.MethodWords(a); m != "" {
		fmt.Fprintf(w, "method: %s\n", m)
	}
	if a.Ceiling > 0 {
		fmt.Fprintf(w, "ceiling: %.0f spawns/s of a program that only exits (same threads; %.0f before sampling, %.0f after, %.2fs in all): sampling ran at %.0f%% of it\n",
			a.Ceiling, a.CeilingBefore, a.CeilingAfter, a.CeilingDuration.Seconds(), 100*a.CeilingFraction)
		if lo, hi := min(a.CeilingBefore, a.CeilingAfter), max(a.CeilingBefore, a.CeilingAfter); lo > 0 && hi > 1.2*lo {
			fmt.Fprintln(w, "  (the ceiling moved by more than 20% during the run: the machine's load changed; the fraction is rough)")
		}
	}
	if a.InheritedNoRandomize {
		fmt.Fprintln(w, "NOT RANDOMIZED: vbench runs with the ADDR_NO_RANDOMIZE personality (as under 'setarch -R'), inherited by every spawn: the figures below measure no ASLR")
	}
	if a.Interrupted {
		fmt.Fprintf(w, "INTERRUPTED after %d of %d samples\n", a.Samples, a.Requested)
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
