// Package report turns vbench result files (package runfile) into a
// report directory: the figures of package plots (PNG, SVG) and a
// report.md that shows them beside the tables, for one run or several; and
// it lines runs up for `vbench compare` (Compare): timing cells with a
// Mann-Whitney U test per cell, Holm-Bonferroni corrected, and a minimum
// change; ASLR regions by their 95% intervals (compare_aslr.go); verify
// checks that changed status; the environment facts that can move a cost
// (compare_env.go).
//
// It only reads runs: it measures nothing and never changes a run. A
// report directory is written whole or not at all (ReplaceDir), so a
// reader never sees half of one, nor new figures beside an old report.md.
package report

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/vbench-dev/vbench/internal/atomicfile"
	"github.com/vbench-dev/vbench/plots"
	"github.com/vbench-dev/vbench/runfile"
)

// ReportFile is the name of the Markdown report in a report directory.
const ReportFile = "report.md"

// Figures returns the figures for one run: the timing figures when it has
// timings, the ASLR figures when it has ASLR results. prefix is put before
// each file name (for several runs in one directory).
func Figures(r *runfile.Run, prefix string) []*plots.Figure {
	var figs []*plots.Figure
	sub := subtitle(r)
	if r.Bench != nil {
		figs = append(figs, plots.Cost(r.Bench, sub), plots.Latency(r.Bench, sub), plots.LatencyCDF(r.Bench, sub))
		if nonPlain(r.Bench) {
			figs = append(figs, plots.ContextCost(r.Bench, sub))
		}
	}
	if r.ASLR != nil {
		short := labelled(r, machine(r, false))
		figs = append(figs, plots.BitStrip(r.ASLR, short), plots.VDSOHistogram(r.ASLR, short), plots.Effective(r.ASLR, r.Env, short))
	}
	for _, f := range figs {
		f.Name = prefix + f.Name
	}
	return figs
}

// subtitle names the machine a figure comes from.
func subtitle(r *runfile.Run) string { return labelled(r, machine(r, true)) }

// labelled puts the run's label, if it has one, before s.
func labelled(r *runfile.Run, s string) string {
	if r.Label != "" {
		return r.Label + ": " + s
	}
	return s
}

// machine describes where a run was taken: its host, kernel, vsyscall
// mode and, with clocksource, the clocksource. A QEMU guest has no host name
// ("(none)") and says so instead, with the accelerator.
func machine(r *runfile.Run, clocksource bool) string {
	e := r.Env
	var parts []string
	if e.Guest {
		parts = append(parts, "QEMU guest ("+e.Accel+")")
	} else if e.Hostname != "" {
		parts = append(parts, e.Hostname)
	}
	parts = append(parts, "Linux "+e.KernelRelease, "vsyscall="+e.VsyscallMode)
	if clocksource {
		parts = append(parts, "clocksource "+e.Clocksource)
	}
	return strings.Join(parts, ", ")
}

// emulatedNote warns that timings from a guest without KVM are not
// real-hardware numbers; "" when no run is such a guest.
func emulatedNote(runs []*runfile.Run) string {
	for _, r := range runs {
		if r.Env.Guest && r.Env.Accel != "kvm" {
			return "**Timings from QEMU guests without KVM (software emulation, TCG) are not real-hardware numbers: " +
				"compare them with each other, not with a real machine. What each guest observed of the vsyscall page is real.**\n\n"
		}
	}
	return ""
}

// Options say how Write renders.
type Options struct {
	// Labels name the runs (nil: Labels' defaults).
	Labels []string
	// Formats are the figure formats written, plots.PNG and/or plots.SVG
	// (nil: PNG). report.md shows the PNG when there is one, else the SVG.
	Formats []string
}

// Write renders the runs into dir: each run's figures, the comparison
// figure when there are several runs, and report.md. A figure with nothing
// to draw (plots.Figure.Empty) is not written: report.md says why instead.
// It returns the path of report.md. dir gets the whole report or, on any
// error, stays as it was (ReplaceDir): the report is written in a new
// directory beside it, put in its place once complete; files dir already
// held that the report does not write are kept. Write stops between
// figures once ctx is done (Ctrl-C): it then returns ctx's error and
// leaves dir as it was.
func Write(ctx context.Context, dir string, runs []*runfile.Run, opt Options) (string, error) {
	if len(runs) == 0 {
		return "", fmt.Errorf("no runs to report on")
	}
	err := ReplaceDir(dir, func(tmp string) error { return writeInto(ctx, tmp, runs, opt) })
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, ReportFile), nil
}

// saveFigure saves a figure; tests replace it to make one fail.
var saveFigure = func(f *plots.Figure, dir string, formats []string) error {
	_, err := f.SaveIn(dir, formats)
	return err
}

// writeInto renders the report into dir, a new directory.
func writeInto(ctx context.Context, dir string, runs []*runfile.Run, opt Options) error {
	formats := opt.Formats
	if len(formats) == 0 {
		formats = []string{plots.PNG}
	}
	embed := formats[0]
	if slices.Contains(formats, plots.PNG) {
		embed = plots.PNG
	}
	labels := Labels(runs, opt.Labels)
	var md bytes.Buffer
	var cmp *Comparison
	var cmpFig *plots.Figure
	if len(runs) > 1 {
		cmp = Compare(runs, labels, DefaultConfig)
		cmpFig = plots.Compare(runs, labels, cmp.Verdict)
		if err := saveFigure(cmpFig, dir, formats); err != nil {
			return err
		}
	}
	perRun := make([][]*plots.Figure, len(runs))
	for i, r := range runs {
		prefix := ""
		if len(runs) > 1 {
			prefix = fmt.Sprintf("run%d-", i+1)
		}
		perRun[i] = Figures(r, prefix)
		for _, f := range perRun[i] {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := saveFigure(f, dir, formats); err != nil {
				return err
			}
		}
	}
	if len(runs) == 1 {
		writeRun(&md, runs[0], labels[0], perRun[0], "#", embed)
	} else {
		fmt.Fprintf(&md, "# vbench report: %d runs\n\n", len(runs))
		for i, r := range runs {
			fmt.Fprintf(&md, "%d. **%s**: %s\n", i+1, mdEscape(labels[i]), mdEscape(machine(r, true)))
		}
		fmt.Fprintf(&md, "\n%s## Comparison\n\n", emulatedNote(runs))
		showFigure(&md, []*plots.Figure{cmpFig}, "compare.png", "cost per call across runs", embed)
		cmp.WriteMarkdown(&md)
		for i, r := range runs {
			fmt.Fprintln(&md)
			writeRun(&md, r, fmt.Sprintf("run %d: %s", i+1, labels[i]), perRun[i], "##", embed)
		}
	}
	if err := atomicfile.WriteBytes(filepath.Join(dir, ReportFile), md.Bytes()); err != nil {
		return err
	}
	return ctx.Err()
}

// figure finds a run's figure by its base name (as a PNG, e.g. "cost.png").
func figure(figs []*plots.Figure, base string) *plots.Figure {
	for _, f := range figs {
		if strings.HasSuffix(f.Name, base) {
			return f
		}
	}
	return nil
}

// showFigure embeds the figure in format, or says in words why there is
// none.
func showFigure(w io.Writer, figs []*plots.Figure, base, alt, format string) {
	f := figure(figs, base)
	switch {
	case f == nil:
	case f.Empty != "":
		fmt.Fprintf(w, "No figure of the %s: %s.\n\n", alt, mdEscape(f.Empty))
	default:
		fmt.Fprintf(w, "![%s](%s)\n\n", alt, f.File(format))
	}
}

// writeRun writes one run's section; h is its heading level ("#").
func writeRun(w io.Writer, r *runfile.Run, label string, figs []*plots.Figure, h, format string) {
	show := func(base, alt string) { showFigure(w, figs, base, alt, format) }
	fmt.Fprintf(w, "%s vbench report: %s\n\n", h, mdEscape(label))
	took := ""
	if !r.Finished.IsZero() && r.Finished.After(r.Started) {
		took = fmt.Sprintf(", took %.1f s", r.Finished.Sub(r.Started).Seconds())
	}
	fmt.Fprintf(w, "Run started %s%s; vbench %s, schema %d.\n\n", r.Started.UTC().Format("2006-01-02 15:04:05 UTC"), took,
		r.Env.VbenchVersion, r.Schema)
	if h == "#" { // a report of one run; several runs carry the note once, at the top
		fmt.Fprint(w, emulatedNote([]*runfile.Run{r}))
	}
	if len(r.Errors) > 0 {
		fmt.Fprintf(w, "**Parts of this run failed** (the rest still ran):\n\n")
		for _, e := range r.Errors {
			fmt.Fprintf(w, "- %s\n", mdEscape(e))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "%s# Environment\n\n", h)
	EnvMarkdown(w, r)
	fmt.Fprintf(w, "\n%s# Cost per call\n\n", h)
	if r.Bench == nil {
		fmt.Fprintf(w, "No timing results in this run.\n")
	} else {
		show("cost.png", "cost per call by function and path")
		BenchTable(r.Bench).Markdown(w)
		if ct := ContextTable(r.Bench); ct != nil {
			fmt.Fprintf(w, "\n%s# Contexts: a time namespace, seccomp filters\n\n", h)
			show("cost-contexts.png", "cost per call in each context")
			ct.Markdown(w)
		}
		fmt.Fprintf(w, "\n%s# Latency of single calls\n\n", h)
		if lt := LatencyTable(r.Bench); lt != nil {
			show("latency.png", "latency distribution per cell")
			show("latency-cdf.png", "latency CDF")
			lt.Markdown(w)
		} else {
			fmt.Fprintln(w, "The per-call latency mode did not run.")
		}
	}
	fmt.Fprintf(w, "\n%s# Correctness (verify)\n\n", h)
	if v := r.Verify; v == nil {
		fmt.Fprintln(w, "The correctness checks did not run.")
	} else {
		fmt.Fprintf(w, "%s.\n", mdEscape(VerifySummary(v)))
		if len(v.Checks)+len(v.Info) > 0 {
			fmt.Fprintln(w)
			VerifyTable(v).Markdown(w)
		}
	}
	lifecycleMarkdown(w, r, h)
	fmt.Fprintf(w, "\n%s# ASLR: how well hidden is the vDSO\n\n", h)
	if r.ASLR == nil {
		fmt.Fprintf(w, "No ASLR results in this run.\n")
		return
	}
	show("aslr-bits.png", "address bits per region")
	show("aslr-vdso-hist.png", "histogram of vDSO base addresses")
	show("aslr-effective.png", "effective bits per region against the kernel maximum")
	fmt.Fprintf(w, "%s\n\n", mdEscape(aslrHead(r.ASLR)))
	ASLRTables(r.ASLR, r.Env, true).Markdown(w)
}

// aslrHead is the sentence above the ASLR tables: how many samples of
// what, how fast.
func aslrHead(a *runfile.ASLR) string {
	s := fmt.Sprintf("%d samples of %s", a.Samples, a.Target)
	if a.Rate > 0 {
		s += fmt.Sprintf(" at %.0f/s", a.Rate)
	}
	if a.NoRandomize {
		s += ", ADDR_NO_RANDOMIZE (control run)"
	}
	if a.Interrupted {
		s += fmt.Sprintf(", interrupted (%d requested)", a.Requested)
	}
	if w := aslrSamplingWords(a); w != "" {
		return s + ". " + w
	}
	return s + "."
}
