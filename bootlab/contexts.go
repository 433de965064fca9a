package bootlab

import (
	"fmt"
	"io"

	"github.com/vbench-dev/vbench/report"
	"github.com/vbench-dev/vbench/runfile"
)

// WriteContextsMarkdown writes the contexts x kernel table of bootmodes.md:
// for the three cells that say what each context costs
// (report.ContextHeadlines: the vDSO's MONOTONIC in a time namespace, the
// syscall under each seccomp filter), one column per boot, each with the
// plain cost beside it; a context a guest could not enter says why. Nothing
// is written when no guest measured a context besides plain.
func WriteContextsMarkdown(w io.Writer, results []Result) {
	var runs []Result
	for _, r := range results {
		if r.Run != nil && r.Run.Bench != nil && (len(r.Run.Bench.Contexts) > 0) {
			runs = append(runs, r)
		}
	}
	if len(runs) == 0 {
		return
	}
	fmt.Fprintf(w, "\n# Contexts in each guest\n\n")
	fmt.Fprintln(w, "Each guest measured its cells in a time namespace (MONOTONIC and BOOTTIME +10 days) and under two seccomp filters "+
		"(a cacheable allowlist; the same with an argument check on the timed syscalls), in children placed there, interleaved with the plain cells. "+
		"Each entry: ns per call in the context (the plain cost, the ratio).")
	fmt.Fprintln(w)
	fmt.Fprint(w, "| cell |")
	for _, r := range runs {
		fmt.Fprintf(w, " %s %s |", mdCell(r.Kernel), mdCell(r.Mode.Name))
	}
	fmt.Fprint(w, "\n|---|")
	for range runs {
		fmt.Fprint(w, "---|")
	}
	fmt.Fprintln(w)
	for _, h := range report.ContextHeadlines {
		fmt.Fprintf(w, "| %s |", mdCell(h.Name()))
		for _, r := range runs {
			v := report.HeadlineValue(h, r.Run.Bench)
			if v == "" {
				v = "not measured"
			}
			fmt.Fprintf(w, " %s |", mdCell(v))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)
	for _, r := range runs {
		for _, ci := range r.Run.Bench.Contexts {
			if ci.Unavailable != "" {
				fmt.Fprintf(w, "- %s, %s: %s unavailable: %s\n", r.Kernel, r.Mode.Name, ci.Name, mdCell(ci.Unavailable))
			}
		}
	}
	if aux := auxLines(runs); len(aux) > 0 {
		fmt.Fprintln(w)
		for _, l := range aux {
			fmt.Fprintln(w, l)
		}
	}
}

// auxLines says, per guest that measured an auxiliary clock, what its
// clock_gettime cost through each door.
func auxLines(runs []Result) []string {
	var out []string
	for _, r := range runs {
		for _, c := range r.Run.Bench.Cells {
			if c.Function != runfile.FuncClockGettime || !isAux(c.Clock) || c.Context.Or() != runfile.ContextPlain {
				continue
			}
			v := "-"
			if c.Summary != nil {
				v = report.FormatNS(c.Summary.Median) + " ns"
			}
			out = append(out, fmt.Sprintf("- %s, %s: clock_gettime %s via %s: %s %s", r.Kernel, r.Mode.Name, c.Clock, c.Path, v, mdCell(fmt.Sprint(c.Notes))))
		}
	}
	return out
}

func isAux(c runfile.Clock) bool {
	for _, a := range runfile.AuxClocks {
		if a == c {
			return true
		}
	}
	return false
}
