package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/vbench-dev/vbench/plots"
	"github.com/vbench-dev/vbench/report"
	"github.com/vbench-dev/vbench/runfile"
)

func init() {
	register(&command{name: "report", summary: "render PNGs and report.md for existing runs", run: runReport})
}

const reportExamples = `  vbench report results/myhost-6.18.0-vsyscall-xonly-20261123T091500Z/run.json
  vbench report emulate.json xonly.json none.json --out modes --label emulate,xonly,none
  vbench report run.json --out web --format png,svg
  vbench report results/*/run.json --fleet --out fleet-report   the fleet view (9 runs on without --fleet)

From 9 runs on (--fleet, --fleet=false to choose), report.md holds the
fleet view of 'vbench compare' and two figures for all the runs: the
distribution of the runs' medians per headline cell, and of their
effective ASLR bits per region, each group's median marked.

A figure with nothing to draw (no per-call latencies in a run, a vDSO
that never moved) is not written; report.md says why instead. Its tables
are the ones 'vbench bench', 'verify', 'aslr' and 'compare' print.

The report is drawn in a new directory beside --out and put in its place
when complete, keeping the other files --out held (a run's run.json): a
failure or Ctrl-C midway leaves --out as it was. An --out that cannot be
replaced (a mount point, '.', a directory of another user or in a parent
that cannot be written) is written into file by file instead, each file
renamed into place whole, and the command says so.

` + outRule

func runReport(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("report", "vbench report RUN.json... [--out DIR] [--label a,b,c]", reportExamples, stdout)
	out := fs.String("out", "", "`DIR` to write report.md and the figures into (default: a new results/report-TIME/)")
	labels := labelsFlag(fs)
	formats := fs.StringSlice("format", []string{plots.PNG}, "figure formats: png, svg or both (report.md shows the PNG when there is one)")
	fleet := fs.Bool("fleet", false, fmt.Sprintf("the fleet view, one figure per kind for all runs (default: from %d runs on; --fleet=false for every run's figures)", report.FleetMin))
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if !fs.Changed("fleet") {
		*fleet = fs.NArg() >= report.FleetMin
	}
	fmts, err := plots.ParseFormats(*formats)
	if err != nil {
		return usageErrorf("report: --format: %v", err)
	}
	if fs.NArg() == 0 {
		return usageErrorf("report: name at least one run file (see 'vbench report --help')")
	}
	if len(*labels) > fs.NArg() {
		return usageErrorf("report: %d labels for %d runs", len(*labels), fs.NArg())
	}
	// The fleet view keeps a few hundred bytes of each run; the other
	// reads every run whole.
	var runs []*runfile.Run
	var fl *report.Fleet
	var err2 error
	if *fleet {
		fl, err2 = readFleet(fs.Args(), *labels)
	} else {
		runs, err2 = readRuns(fs.Args())
	}
	if err2 != nil {
		return err2
	}
	dir := *out
	if dir == "" {
		dir = defaultOut("report", time.Now())
		if _, err := os.Stat(dir); err == nil {
			return failedf("report: %s already exists", dir)
		}
	}
	// Where it goes is checked before anything is rendered.
	pl, err := report.PlanDir(dir)
	if err != nil {
		return usageErrorf("report: --out: %v", err)
	}
	if n := pl.Notice(); n != "" {
		fmt.Fprintf(stdout, "report: %s\n", n)
	}
	// The report is written whole into a new directory and put in place
	// when complete: Ctrl-C or SIGTERM stops it and leaves dir as it was.
	ctx := onInterrupt()
	defer ctx.stop()
	var path string
	if fl != nil {
		path, err = report.WriteFleet(ctx, dir, fl, fmts)
	} else {
		path, err = report.Write(ctx, dir, runs, report.Options{Labels: *labels, Formats: fmts})
	}
	if err != nil {
		if e := ctx.interruptedf("report: interrupted by %[2]s: %[1]s is as it was", dir); e != nil {
			return e
		}
		return failedf("report: %v", err)
	}
	fmt.Fprintf(stdout, "report: %s\n", path)
	return nil
}

// readRuns reads run files; a missing, corrupt, truncated or
// other-version file is a one-line usage error naming it (exit 2).
func readRuns(paths []string) ([]*runfile.Run, error) {
	var runs []*runfile.Run
	for _, p := range paths {
		r, err := runfile.ReadFile(p)
		switch {
		case err == nil:
			runs = append(runs, r)
		case errors.Is(err, runfile.ErrCorrupt), errors.Is(err, runfile.ErrSchema):
			return nil, usageErrorf("%v", err) // already names the file
		case errors.Is(err, os.ErrNotExist):
			return nil, usageErrorf("%s: no such file", p)
		default:
			return nil, usageErrorf("%v", err)
		}
	}
	return runs, nil
}
