package bootlab

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"github.com/vbench-dev/vbench/plots"
	"github.com/vbench-dev/vbench/report"
	"github.com/vbench-dev/vbench/runfile"
)

// Section is one section of bootmodes.md: Write renders it from the lab's
// results (nothing written: the section is left out). A new dimension of
// the lab (lifecycle verdicts, contexts) is one more Section in
// DefaultSections, or one more Column in TimelineColumns.
type Section struct {
	Name  string
	Write func(w io.Writer, d *Doc) error
}

// Doc is what sections render: the results, and the directory bootmodes.md
// is written to, where a section may save figures (listed in Figures).
type Doc struct {
	Results *Results
	Out     string
	Figures []string
}

// DefaultSections are bootmodes.md's sections, in order: the timeline
// table and figure (timeline runs), the kernels x modes table, the ASLR
// table per kernel, each guest's lifecycle checks.
var DefaultSections = []Section{
	{"timeline", writeTimelineSection},
	{"modes", func(w io.Writer, d *Doc) error {
		WriteSummaryMarkdown(w, d.Results.Accels, d.Results.Boots)
		return nil
	}},
	{"aslr", func(w io.Writer, d *Doc) error {
		WriteASLRMarkdown(w, d.Results.Boots)
		return nil
	}},
	{"lifecycle", func(w io.Writer, d *Doc) error {
		WriteLifecycleMarkdown(w, d.Results.Boots)
		return nil
	}},
	{"contexts", func(w io.Writer, d *Doc) error {
		WriteContextsMarkdown(w, d.Results.Boots) // contexts.go
		return nil
	}},
}

// writeTimelineSection writes the timeline tables (one per architecture)
// and the timeline figure, for a timeline run.
func writeTimelineSection(w io.Writer, d *Doc) error {
	if !d.Results.Timeline {
		return nil
	}
	rows := timelineRows(d.Results.Boots)
	WriteTimelineMarkdown(w, rows, TimelineColumns)
	var ks []plots.TimelineKernel
	for _, r := range rows {
		ks = append(ks, plots.TimelineKernel{Label: r.Version, Arch: r.Arch.Name, Run: r.Run})
	}
	f := plots.Timeline(ks, d.Results.Emulated(), "")
	if f.Empty != "" {
		fmt.Fprintf(w, "\nNo timeline figure: %s.\n", f.Empty)
		return nil
	}
	p := filepath.Join(d.Out, f.Name)
	if err := f.Save(p); err != nil {
		return err
	}
	d.Figures = append(d.Figures, p)
	fmt.Fprintf(w, "\n![the vDSO's effective bits and gettimeofday's cost per door, per kernel](%s)\n", f.Name)
	if d.Results.Emulated() {
		fmt.Fprintf(w, "\nThe guests ran under QEMU's software emulation (TCG): their timings are emulated, comparable with each other only; the ASLR figures are the kernels' behaviour.\n")
	}
	return nil
}

// writeReport renders the runs' comparison and full report (package
// report, as `vbench report` does) into dir.
func writeReport(ctx context.Context, dir string, runs []*runfile.Run) (string, error) {
	return report.Write(ctx, dir, runs, report.Options{})
}
