package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vbench-dev/vbench/aslr"
	"github.com/vbench-dev/vbench/internal/atomicfile"
	"github.com/vbench-dev/vbench/internal/progress"
	"github.com/vbench-dev/vbench/plots"
	"github.com/vbench-dev/vbench/probes"
	"github.com/vbench-dev/vbench/report"
	"github.com/vbench-dev/vbench/runfile"
	"github.com/vbench-dev/vbench/study"
	"github.com/vbench-dev/vbench/sysenv"
	"golang.org/x/sys/unix"
)

func init() {
	register(&command{name: "run", summary: "run the whole study and write a report", run: runRun})
}

const runExamples = `  vbench                                   the whole study, report under results/
  vbench run --quick                       a smaller study in a few seconds
  vbench run --out /tmp/r --label "xonly, idle machine" --samples 20000
  vbench run --quick --json - | jq .bench.cpu    the run file on standard output too

The study: the environment block, every clock call through every path
(bench, with the per-call latency mode), the correctness checks (quick),
each in the --contexts asked for, and spawns for the ASLR entropy of the
vDSO and the other regions until each is measured (at most 20 s). It writes
OUT/HOST-KERNEL-vsyscall-MODE-TIME/ with run.json, bench.txt (for
benchstat), the PNG figures and report.md. A part that fails is reported
in report.md and the rest goes on; if a part (bench, verify, aslr) then
produced nothing, vbench run says which and why and exits with status 3
once the rest is written (1: nothing at all could be measured).

` + outRule + `Here --out names the directory the run's own directory is made in.
`

// studyConfig is what `vbench run` measures, sized to finish in well under
// a minute on a 2-core VM: about 56 cells x 10 samples x 8 ms, a 15 ms
// latency pass per cell, and ASLR sampled until every region is measured
// or aslr.DefaultBudget (20 s) runs out; --quick: 1000 samples.
func studyConfig(quick bool) (probes.BenchConfig, int) {
	cfg := probes.DefaultBenchConfig()
	cfg.Count, cfg.Benchtime = 10, 8*time.Millisecond
	cfg.LatencyCalls, cfg.LatencyTime = 5000, 15*time.Millisecond
	samples := 0
	if quick {
		cfg.Count, cfg.Benchtime = 6, 2*time.Millisecond
		cfg.LatencyCalls, cfg.LatencyTime = 1000, 3*time.Millisecond
		samples = 1000
	}
	return cfg, samples
}

// runArgs is what run's flags ask for, checked.
type runArgs struct {
	study               study.Config
	samples             int // the ASLR samples asked for: 0 until narrow, study.SkipASLR
	out                 string
	formats             []string
	jsonOut, metricsOut string
	label               string
	quiet               bool
	summary             io.Writer // stdout, or stderr when the run file takes stdout
}

// parseRun parses and checks run's flags, before any work: the study's
// configuration (its Validate, in flags' words), the memory ASLR sampling
// needs, and where the results will go.
func parseRun(args []string, stdout, stderr io.Writer) (*runArgs, error) {
	fs := newFlags("run", "vbench [run] [flags]", runExamples, stdout)
	out := fs.String("out", resultsDir, "`DIR` to make the run's directory in")
	quick := quickFlag(fs, "fewer samples: a rough study in a few seconds")
	samples := fs.Int("samples", 0, "ASLR samples (0: until every region is measured, at most 20 s, or 1000 with --quick; -1 skips the ASLR part)")
	label := labelFlag(fs)
	cpu := cpuFlag(fs, "the timed thread")
	ctxNames := contextsFlag(fs)
	formats := fs.StringSlice("format", []string{plots.PNG}, "figure formats: png, svg or both")
	jsonOut := jsonFlag(fs, "everything, as in its run.json")
	metricsOut := metricsFlag(fs)
	quiet := quietFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	fmts, err := plots.ParseFormats(*formats)
	if err != nil {
		return nil, usageErrorf("run: --format: %v", err)
	}
	if fs.NArg() > 0 {
		return nil, usageErrorf("run: unexpected argument %q (see 'vbench run --help')", fs.Arg(0))
	}
	cfg, nSamples := studyConfig(*quick)
	cfg.CPU = *cpu
	if cfg.Contexts, err = parseContexts("run", *ctxNames); err != nil {
		return nil, err
	}
	switch {
	case *samples > 0:
		nSamples = *samples
	case *samples < -1:
		return nil, usageErrorf("run: --samples %d: give a positive count (at most %d), or -1 to skip ASLR", *samples, aslr.MaxSamples)
	case *samples == -1:
		nSamples = study.SkipASLR
	}
	a := &runArgs{
		study:   study.Config{Bench: cfg, VerifyBrief: true, ASLR: aslr.Config{Samples: nSamples, Ceiling: aslr.DefaultCeiling}},
		samples: nSamples, out: *out, formats: fmts, jsonOut: *jsonOut, metricsOut: *metricsOut, label: *label, quiet: *quiet,
	}
	if nSamples == 0 {
		a.study.ASLRBudget = aslr.DefaultBudget // until narrow, at most this long
	}
	if err := a.study.Validate(); err != nil {
		return nil, configError("run", err)
	}
	if nSamples != study.SkipASLR {
		if note, err := checkASLRMemory("run", &a.study.ASLR); err != nil {
			return nil, err
		} else if note != "" {
			fmt.Fprintf(infoWriter(stderr, *quiet), "run: aslr: %s\n", note)
		}
		if note, err := sizeWorkers("run", &a.study.ASLR); err != nil {
			return nil, err
		} else if note != "" {
			fmt.Fprintf(infoWriter(stderr, *quiet), "run: aslr: %s\n", note)
		}
	}
	// Found out now, not after the study: where the results will go.
	if err := atomicfile.CheckDir(*out); err != nil {
		return nil, usageErrorf("run: --out %v", err)
	}
	if err := checkOutFile("run", "--json", *jsonOut); err != nil {
		return nil, err
	}
	if err := checkMetricsFile("run", *metricsOut); err != nil {
		return nil, err
	}
	a.summary = textOut(stdout, stderr, *jsonOut)
	return a, nil
}

func runRun(args []string, stdout, stderr io.Writer) error {
	a, err := parseRun(args, stdout, stderr)
	if err != nil {
		return err
	}
	ctx := onInterrupt()
	defer ctx.stop()
	run := runfile.New(sysenv.Collect())
	run.Label = a.label
	scfg := a.study
	scfg.Doors = discoverDoors()
	bars := &partBars{w: infoWriter(stderr, a.quiet), stderr: stderr}
	scfg.Progress, scfg.Failed = bars.progress, bars.failed
	studyRun(ctx, scfg, run)
	bars.done()

	if run.Bench == nil && run.ASLR == nil {
		if err := ctx.interruptedf("run: interrupted by %s before anything was measured"); err != nil {
			return err
		}
		return failedf("run: nothing could be measured: %s", strings.Join(run.Errors, "; "))
	}
	// Signals are still caught while the results are written, and ignored:
	// the directory is complete or absent, never a temporary left behind.
	dir, err := writeRunDir(a.out, run, a.formats)
	if err != nil {
		return failedf("run: %v", err)
	}
	if a.jsonOut != "" {
		if err := writeOut(a.jsonOut, stdout, run.Encode); err != nil {
			return failedf("run: --json %v", err)
		}
	}
	if err := writeMetrics("run", a.metricsOut, run); err != nil {
		return err
	}
	summarize(a.summary, run)
	fmt.Fprintf(a.summary, "\nreport: %s\n", filepath.Join(dir, report.ReportFile))
	if err := ctx.interrupted("run"); err != nil {
		return err
	}
	if empty := emptyParts(run, a.samples != study.SkipASLR); len(empty) > 0 {
		return &exitError{exitPartial, fmt.Errorf("run: %s; the rest is in %s (exit status %d)", strings.Join(empty, "; "), dir, exitPartial)}
	}
	return nil
}

// partBars draws a progress bar per part of the study on w (nothing where
// w is not a terminal), and says on stderr what failed.
type partBars struct {
	w, stderr io.Writer
	bars      map[runfile.Part]*progress.Bar
}

func (p *partBars) progress(part runfile.Part, unit string, done, total int) {
	if p.bars == nil {
		p.bars = map[runfile.Part]*progress.Bar{}
	}
	if _, ok := p.bars[part]; !ok {
		p.bars[part] = progress.New(p.w, string(part), unit, total)
	}
	p.bars[part].Set(done)
	if done == total {
		p.bars[part].Done()
	}
}

func (p *partBars) failed(part runfile.Part, err error) {
	if b := p.bars[part]; b != nil {
		b.Done()
	}
	fmt.Fprintf(p.stderr, "vbench: %s: %v (going on)\n", part, err)
}

func (p *partBars) done() {
	for _, b := range p.bars {
		b.Done()
	}
}

// emptyParts names each part of the study that ran but produced nothing,
// with why (its entry in run.Errors, or that none was recorded). aslr
// counts only when it was asked for (--samples -1 skips it).
func emptyParts(run *runfile.Run, aslrAsked bool) []string {
	why := func(part string) string {
		for _, e := range run.Errors {
			if strings.HasPrefix(e, part+":") || strings.HasPrefix(e, part+" ") {
				return e
			}
		}
		return part + ": no reason recorded"
	}
	var out []string
	if run.Bench == nil || len(run.Bench.Cells) == 0 {
		out = append(out, "the bench part produced nothing ("+why(string(runfile.PartBench))+")")
	}
	if run.Verify == nil || len(run.Verify.Checks) == 0 {
		out = append(out, "the verify part produced nothing ("+why(string(runfile.PartVerify))+")")
	}
	if aslrAsked && (run.ASLR == nil || run.ASLR.Samples == 0) {
		out = append(out, "the aslr part produced nothing ("+why(string(runfile.PartASLR))+")")
	}
	return out
}

// studyRun is study.Run; tests wrap it to make a part fail.
var studyRun = study.Run

// runDirName is HOST-KERNEL-vsyscall-MODE-TIME, with characters that do not
// belong in a file name replaced. It holds no '=': benchstat reads an
// argument with '=' as "label=file", so `benchstat results/*/bench.txt`
// would fail on such names.
func runDirName(r *runfile.Run) string {
	mode := r.Env.VsyscallMode
	if mode == "" {
		mode = "unknown"
	}
	name := fmt.Sprintf("%s-%s-vsyscall-%s-%s", r.Env.Hostname, r.Env.KernelRelease, mode, r.Started.UTC().Format("20060102T150405Z"))
	return strings.Map(func(c rune) rune {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', strings.ContainsRune("-_.+", c):
			return c
		}
		return '_'
	}, name)
}

// writeRunDir writes run.json, bench.txt, the figures and report.md into a
// temporary directory beside the final one and renames it into place, so
// a results directory is either complete or absent.
func writeRunDir(out string, run *runfile.Run, formats []string) (string, error) {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return "", err
	}
	name := runDirName(run)
	tmp, err := os.MkdirTemp(out, "."+name+".tmp")
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
		if err := atomicfile.Write(filepath.Join(tmp, "bench.txt"), func(w io.Writer) error { return report.WriteBenchfmt(w, run) }); err != nil {
			return "", err
		}
	}
	if _, err := report.Write(context.Background(), tmp, []*runfile.Run{run}, report.Options{Formats: formats}); err != nil {
		return "", err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return "", err
	}
	final, err := renameUnique(tmp, filepath.Join(out, name))
	if err != nil {
		return "", err
	}
	ok = true
	return final, nil
}

// renameUnique renames dir to want, or to want-2, want-3, ... when a run
// started in the same second holds the name already: the name is taken by
// renameat2(RENAME_NOREPLACE), so two runs finishing at once cannot take
// (or replace) the same directory.
func renameUnique(dir, want string) (string, error) {
	for i := 1; i <= 100; i++ {
		final := want
		if i > 1 {
			final = fmt.Sprintf("%s-%d", want, i)
		}
		err := unix.Renameat2(unix.AT_FDCWD, dir, unix.AT_FDCWD, final, unix.RENAME_NOREPLACE)
		switch {
		case err == nil:
			return final, nil
		case errors.Is(err, unix.EEXIST), errors.Is(err, unix.ENOTEMPTY):
			continue
		case errors.Is(err, unix.EINVAL), errors.Is(err, unix.ENOSYS):
			// A file system without RENAME_NOREPLACE: check, then rename.
			if _, serr := os.Lstat(final); serr == nil {
				continue
			}
			return final, os.Rename(dir, final)
		default:
			return "", err
		}
	}
	return "", fmt.Errorf("%s and 99 more names like it already exist", want)
}

// summarize prints the headline of the run: every path of each call
// (runfile.Headlines: clock_gettime on MONOTONIC), the verify verdict, the
// vDSO's entropy, and what failed.
func summarize(w io.Writer, run *runfile.Run) {
	fmt.Fprintf(w, "vbench: %s\n", run.DefaultLabel())
	if b := run.Bench; b != nil {
		for _, h := range runfile.Headlines() {
			var parts []string
			for _, p := range runfile.Paths {
				c, ok := b.Find(h.Function, h.Clock, p)
				switch {
				case !ok:
					continue
				case c.Summary == nil:
					parts = append(parts, string(p)+" n/a")
				default:
					parts = append(parts, fmt.Sprintf("%s %s ns", p, report.FormatNS(c.Summary.Median)))
				}
			}
			if len(parts) > 0 {
				fmt.Fprintf(w, "  %-24s %s\n", strings.TrimSpace(string(h.Function)+" "+string(h.Clock)), strings.Join(parts, ", "))
			}
		}
	}
	for _, h := range report.ContextHeadlines {
		if v := report.HeadlineValue(h, run.Bench); v != "" {
			fmt.Fprintf(w, "  %-40s %s\n", h.Name(), v)
		}
	}
	if run.Verify != nil {
		fmt.Fprintf(w, "  verify: %s\n", report.VerifySummary(run.Verify))
	}
	if run.Lifecycle != nil {
		fmt.Fprintf(w, "  lifecycle: %s\n", report.LifecycleSummary(run.Lifecycle))
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
