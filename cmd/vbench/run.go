package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/vbench-dev/vbench/aslr"
	"github.com/vbench-dev/vbench/internal/atomicfile"
	"github.com/vbench-dev/vbench/internal/progress"
	"github.com/vbench-dev/vbench/probes"
	"github.com/vbench-dev/vbench/probes/verify"
	"github.com/vbench-dev/vbench/report"
	"github.com/vbench-dev/vbench/runfile"
	"github.com/vbench-dev/vbench/sysenv"
)

func init() {
	register(&command{name: "run", summary: "run the whole study and write a report", run: runRun})
}

const runExamples = `  vbench                                   the whole study, report under results/
  vbench run --quick                       a smaller study in a few seconds
  vbench run --out /tmp/r --label "xonly, idle machine" --samples 20000

The study: the environment block, every clock call through every path
(bench, with the per-call latency mode), the correctness checks (brief),
and 5000 spawns for the ASLR entropy of the vDSO. It writes
OUT/HOST-KERNEL-vsyscall=MODE-TIME/ with run.json, bench.txt (for
benchstat), the PNG figures and report.md. A part that fails is reported
in report.md and the rest goes on.
`

// studyConfig is what `vbench run` measures, sized to finish in well under
// a minute on a 2-core VM: about 56 cells x 10 samples x 8 ms, a 15 ms
// latency pass per cell, and 5000 ASLR spawns at about 1500/s.
func studyConfig(quick bool) (probes.BenchConfig, int) {
	cfg := probes.DefaultBenchConfig()
	cfg.Count, cfg.Benchtime = 10, 8*time.Millisecond
	cfg.LatencyCalls, cfg.LatencyTime = 5000, 15*time.Millisecond
	samples := 5000
	if quick {
		cfg.Count, cfg.Benchtime = 6, 2*time.Millisecond
		cfg.LatencyCalls, cfg.LatencyTime = 1000, 3*time.Millisecond
		samples = 1000
	}
	return cfg, samples
}

func runRun(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("run", "vbench [run] [flags]", runExamples, stdout)
	out := fs.String("out", "results", "directory to put the run's directory in")
	quick := fs.Bool("quick", false, "fewer samples: a rough study in a few seconds")
	samples := fs.Int("samples", 0, "ASLR spawns (0: 5000, or 1000 with --quick; -1 skips the ASLR part)")
	label := fs.String("label", "", "name for this run in comparisons (default: vsyscall mode, kernel and host)")
	cpu := fs.Int("cpu", -1, "CPU to pin the timed thread to (-1: the one it starts on)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErrorf("run: unexpected argument %q (see 'vbench run --help')", fs.Arg(0))
	}
	cfg, nSamples := studyConfig(*quick)
	cfg.CPU = *cpu
	switch {
	case *samples > 0:
		nSamples = *samples
	case *samples < -1:
		return usageErrorf("run: --samples %d: give a positive count, or -1 to skip ASLR", *samples)
	case *samples == -1:
		nSamples = 0
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	run := runfile.New(sysenv.Collect())
	run.Label = *label
	fail := func(part string, err error) {
		run.Errors = append(run.Errors, part+": "+oneLine(err.Error()))
		fmt.Fprintf(stderr, "vbench: %s: %v (going on)\n", part, err)
	}

	doors := discoverDoors()
	cfg.Doors = doors
	var bar *progress.Bar
	err := guard(func() error {
		b, err := probes.Bench(ctx, cfg, func(done, total int) {
			if bar == nil {
				bar = progress.New(stderr, "bench", "cells", total)
			}
			bar.Set(done)
		})
		run.Bench = b
		return err
	})
	bar.Done()
	if err != nil {
		fail("bench", err)
	}

	vcpu := cfg.CPU
	if run.Bench != nil {
		vcpu = run.Bench.CPU
	}
	if ctx.Err() == nil {
		if err := guard(func() error {
			run.Verify = verify.Run(verify.Config{CPU: vcpu, Brief: true, Doors: doors})
			return nil
		}); err != nil {
			fail("verify", err)
		}
	}

	if nSamples > 0 && ctx.Err() == nil {
		abar := progress.New(stderr, "aslr", "samples", nSamples)
		err := guard(func() error {
			a, err := aslr.Study(ctx, aslr.Config{Samples: nSamples}, func(done, _ int) { abar.Set(done) })
			run.ASLR = a
			return err
		})
		abar.Done()
		if err != nil {
			fail("aslr", err)
		}
	}
	if ctx.Err() != nil {
		run.Errors = append(run.Errors, "interrupted (Ctrl-C): the parts after it did not run")
	}
	run.Finished = time.Now().UTC()

	if run.Bench == nil && run.ASLR == nil {
		return failedf("run: nothing could be measured: %s", strings.Join(run.Errors, "; "))
	}
	dir, err := writeRunDir(*out, run)
	if err != nil {
		return failedf("run: %v", err)
	}
	summarize(stdout, run)
	fmt.Fprintf(stdout, "\nreport: %s\n", filepath.Join(dir, report.ReportFile))
	return nil
}

// guard runs a part of the study, turning a panic into an error so that
// the other parts still run and the report says what happened.
func guard(part func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return part()
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// runDirName is HOST-KERNEL-vsyscall=MODE-TIME, with characters that
// do not belong in a file name replaced.
func runDirName(r *runfile.Run) string {
	mode := r.Env.VsyscallMode
	if mode == "" {
		mode = "unknown"
	}
	name := fmt.Sprintf("%s-%s-vsyscall=%s-%s", r.Env.Hostname, r.Env.KernelRelease, mode, r.Started.UTC().Format("20060102T150405Z"))
	return strings.Map(func(c rune) rune {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', strings.ContainsRune("-_.=+", c):
			return c
		}
		return '_'
	}, name)
}

// writeRunDir writes run.json, bench.txt, the figures and report.md into a
// temporary directory beside the final one and renames it into place, so
// a results directory is either complete or absent.
func writeRunDir(out string, run *runfile.Run) (string, error) {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return "", err
	}
	final := filepath.Join(out, runDirName(run))
	if _, err := os.Stat(final); err == nil {
		return "", fmt.Errorf("%s already exists", final)
	}
	tmp, err := os.MkdirTemp(out, "."+filepath.Base(final)+".tmp")
	if err != nil {
		return "", err
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(tmp)
		}
	}()
	if err := run.WriteFile(filepath.Join(tmp, "run.json")); err != nil {
		return "", err
	}
	if run.Bench != nil {
		if err := atomicfile.Write(filepath.Join(tmp, "bench.txt"), func(w io.Writer) error { return writeBenchfmt(w, run) }); err != nil {
			return "", err
		}
	}
	if _, err := report.Write(tmp, []*runfile.Run{run}, nil); err != nil {
		return "", err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, final); err != nil {
		return "", err
	}
	ok = true
	return final, nil
}

// summarize prints the headline of the run: the three paths for the calls
// that have all three, the verify verdict, the vDSO's entropy, and what
// failed.
func summarize(w io.Writer, run *runfile.Run) {
	fmt.Fprintf(w, "vbench: %s\n", run.DefaultLabel())
	if b := run.Bench; b != nil {
		for _, fc := range [][2]string{{"gettimeofday", ""}, {"time", ""}, {"getcpu", ""}, {"clock_gettime", "MONOTONIC"}} {
			var parts []string
			for _, p := range probes.BenchPaths {
				c, ok := b.Find(fc[0], fc[1], p)
				switch {
				case !ok:
					continue
				case c.Summary == nil:
					parts = append(parts, p+" n/a")
				default:
					parts = append(parts, fmt.Sprintf("%s %s ns", p, report.FormatNS(c.Summary.Median)))
				}
			}
			if len(parts) > 0 {
				fmt.Fprintf(w, "  %-24s %s\n", strings.TrimSpace(fc[0]+" "+fc[1]), strings.Join(parts, ", "))
			}
		}
	}
	if run.Verify != nil {
		fmt.Fprintf(w, "  %s\n", verifySummary(run.Verify))
	}
	if a := run.ASLR; a != nil {
		for _, r := range a.Regions {
			if r.Name == "vdso" && r.Present > 0 {
				fmt.Fprintf(w, "  aslr: vDSO base %.1f effective bits over %d samples (%.0f/s)\n", r.Effective, a.Samples, a.Rate)
			}
		}
	}
	for _, e := range run.Errors {
		fmt.Fprintf(w, "  failed: %s\n", e)
	}
}
