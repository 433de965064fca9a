package main

import (
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/vbench-dev/vbench/plots"
	"github.com/vbench-dev/vbench/report"
	"github.com/vbench-dev/vbench/runfile"
)

func init() {
	register(&command{name: "compare", summary: "compare runs, e.g. across vsyscall= boot modes", run: runCompare})
}

const compareExamples = `  vbench compare results/*/run.json
  vbench compare emulate.json xonly.json none.json --label emulate,xonly,none --out modes
  vbench compare a.json b.json --min-change 10% --out cmp --format png,svg
  vbench compare results/*/run.json --fleet --csv matrix.csv    the fleet view (9 runs on without --fleet)

The first run is the base. Timing: each cell's median, and for the other
runs the ratio to the base when they differ, "~" when not. A difference
needs the Mann-Whitney U test (as benchstat runs it) to hold after the
Holm-Bonferroni correction over all cells (family-wise alpha 0.05), and a
change of the median of at least --min-change (5%). ASLR: effective bits
per region with their 95% intervals; a region differs when the intervals
are disjoint. Verify: the checks whose status changed. Environment: every
difference that can move a cost (PTI, mitigations, clocksource, kernel,
CPU, virtualization, vsyscall mode). The tables are the ones report.md
shows for several runs.

From 9 runs on (--fleet, --fleet=false to choose), the fleet view instead:
runs grouped by kernel, clocksource, vsyscall mode, PTI and mitigations=,
virtualization and CPU model; per group and headline cell the number of
runs, the median of their medians and [first-third quartile]; the runs
whose vDSO fell back where others' did not, the lowest ASLR entropy per
region, and the outliers, each with its label. --csv FILE writes the full
matrix. Files are read one at a time.

` + outRule

func runCompare(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("compare", "vbench compare RUN.json RUN.json... [--label a,b,c] [--out DIR]", compareExamples, stdout)
	labels := labelsFlag(fs)
	out := fs.String("out", "", "`DIR` to write the comparison figure into (default: no file)")
	formats := fs.StringSlice("format", []string{plots.PNG}, "figure formats with --out: png, svg or both")
	minChange := fs.String("min-change", "5%", "smallest change of a median counted as a difference (\"0\": any significant change)")
	fleet := fs.Bool("fleet", false, fmt.Sprintf("the fleet view: runs grouped by what can move a cost (default: from %d runs on; --fleet=false for a column per run)", report.FleetMin))
	csvOut := fs.String("csv", "", "with the fleet view, write the full matrix (a row per run, a column per cell and region) to `FILE` ('-': standard output)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() < 2 {
		return usageErrorf("compare: name at least two run files (see 'vbench compare --help')")
	}
	if !fs.Changed("fleet") {
		*fleet = fs.NArg() >= report.FleetMin
	}
	if *csvOut != "" && !*fleet {
		return usageErrorf("compare: --csv is the fleet view's matrix: add --fleet, or name %d runs or more", report.FleetMin)
	}
	if *fleet {
		if *out != "" {
			return usageErrorf("compare: --out with the fleet view: 'vbench report' draws the fleet's figures")
		}
		if err := checkOutFile("compare", "--csv", *csvOut); err != nil {
			return err
		}
		f, err := readFleet(fs.Args(), *labels)
		if err != nil {
			return err
		}
		text := stdout
		if *csvOut == "-" {
			text = stderr
		}
		if err := f.WriteText(text); err != nil {
			return err
		}
		if *csvOut != "" {
			if err := writeOut(*csvOut, stdout, f.Matrix().CSV); err != nil {
				return failedf("compare: --csv %v", err)
			}
		}
		return nil
	}
	mc, err := parsePercent(*minChange)
	if err != nil {
		return usageErrorf("compare: --min-change %q: %v", *minChange, err)
	}
	fmts, err := plots.ParseFormats(*formats)
	if err != nil {
		return usageErrorf("compare: --format: %v", err)
	}
	runs, err := readRuns(fs.Args())
	if err != nil {
		return err
	}
	if len(*labels) > len(runs) {
		return usageErrorf("compare: %d labels for %d runs", len(*labels), len(runs))
	}
	var pl report.Placement
	if *out != "" {
		// Checked before anything is drawn.
		if pl, err = report.PlanDir(*out); err != nil {
			return usageErrorf("compare: --out: %v", err)
		}
	}
	c := report.Compare(runs, *labels, report.Config{MinChange: mc})
	if err := c.WriteText(stdout); err != nil {
		return err
	}
	if *out == "" {
		return nil
	}
	f := plots.Compare(runs, c.Labels, c.Verdict)
	if f.Empty != "" {
		fmt.Fprintf(stdout, "\nno figure: %s\n", f.Empty)
		return nil
	}
	// Drawn in a new directory and put in place when complete, keeping
	// what else --out held (report.ReplaceDir), or file by file into an
	// --out that cannot be replaced.
	if n := pl.Notice(); n != "" {
		fmt.Fprintf(stdout, "\ncompare: %s", n)
	}
	var files []string
	err = report.ReplaceDir(*out, func(tmp string) error {
		var err error
		files, err = f.SaveIn(tmp, fmts)
		return err
	})
	if err != nil {
		return failedf("compare: %v", err)
	}
	for _, name := range files {
		fmt.Fprintf(stdout, "\nfigure: %s", filepath.Join(*out, name))
	}
	fmt.Fprintln(stdout)
	return nil
}

// readFleet reads run files into a fleet view, keeping only what it
// needs of each (a few hundred bytes a run instead of the whole file).
// Files are decoded by one worker per CPU, at most twice as many in
// flight as workers, and added in the order given: the first bad file
// named is the first in that order.
func readFleet(paths, labels []string) (*report.Fleet, error) {
	if len(labels) > len(paths) {
		return nil, usageErrorf("%d labels for %d runs", len(labels), len(paths))
	}
	type result struct {
		run *runfile.Run
		err error
	}
	workers := max(1, min(runtime.GOMAXPROCS(0), 4))
	slots := make([]chan result, len(paths))
	for i := range slots {
		slots[i] = make(chan result, 1)
	}
	jobs := make(chan int)
	stop := make(chan struct{})
	defer close(stop)
	for w := 0; w < workers; w++ {
		go func() {
			for i := range jobs {
				runs, err := readRuns([]string{paths[i]})
				var r *runfile.Run
				if err == nil {
					r = runs[0]
				}
				slots[i] <- result{r, err}
			}
		}()
	}
	// A token per file in flight, given back once it is added.
	tokens := make(chan struct{}, 2*workers)
	go func() {
		defer close(jobs)
		for i := range paths {
			select {
			case tokens <- struct{}{}:
			case <-stop:
				return
			}
			select {
			case jobs <- i:
			case <-stop:
				return
			}
		}
	}()
	f := report.NewFleet()
	for i, p := range paths {
		res := <-slots[i]
		<-tokens
		if res.err != nil {
			return nil, res.err
		}
		l := ""
		if i < len(labels) {
			l = labels[i]
		}
		f.Add(res.run, l, p)
	}
	return f, nil
}

// parsePercent reads "5%" or "0.05" as 0.05.
func parsePercent(s string) (float64, error) {
	s = strings.TrimSpace(s)
	scale := 1.0
	if t, ok := strings.CutSuffix(s, "%"); ok {
		s, scale = t, 0.01
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 || v*scale >= 10 {
		return 0, fmt.Errorf("want a percentage such as 5%% or a fraction such as 0.05")
	}
	return v * scale, nil
}
