package aslr

import (
	"fmt"
	"strings"

	"github.com/vbench-dev/vbench/runfile"
)

// MethodWords says how the samples of res were read, for renderers; ""
// for a result with no method recorded (samples read from a CSV, run files
// from before self-reporting, which used ptrace).
func MethodWords(res *runfile.ASLR) string {
	checked := fmt.Sprintf("%d of %d samples were also read from /proc while the target stood stopped by itself, and found equal", res.Checked, res.Samples)
	switch {
	case res.CheckSkipped != "":
		checked = "no sample could be checked against /proc: " + res.CheckSkipped + "; vvar and stack, which need /proc, are not reported"
	case res.SPCheckSkipped != "":
		checked += " (sp not checked: " + res.SPCheckSkipped + ")"
	}
	switch res.Method {
	case MethodChain:
		return "exec chain: each worker started the target once; every image wrote its own bases down a pipe and executed itself again (no fork, no exit, no wait, no ptrace per sample); " + checked
	case MethodSelfReport:
		return "self-report: a fresh spawn per sample wrote its own bases down a pipe, no ptrace and no /proc read per sample; " + checked
	case MethodPtrace:
		return "ptrace: each spawn stopped at execve, its /proc/PID/maps, auxv and stat read, then killed"
	}
	return ""
}

// CeilingLines say how the rate compares with the ceilings (ceiling.go).
func CeilingLines(a *runfile.ASLR) []string {
	var out []string
	if a.Ceiling > 0 {
		out = append(out, fmt.Sprintf("vfork ceiling: %.0f/s vfork+execve+wait4 of a program that only exits, by vbench's own stub in %d processes (%.0f before sampling, %.0f after): sampling ran at %.2fx it",
			a.Ceiling, a.Workers, a.CeilingBefore, a.CeilingAfter, a.CeilingFraction))
		if lo, hi := min(a.CeilingBefore, a.CeilingAfter), max(a.CeilingBefore, a.CeilingAfter); lo > 0 && hi > 1.2*lo {
			out = append(out, "  (the ceiling moved by more than 20% during the run: the machine's load changed; the fraction is rough)")
		}
	}
	if a.ChainCeiling > 0 {
		out = append(out, fmt.Sprintf("chain ceiling: %.0f/s re-executions of a no-op exec chain in %d workers: sampling ran at %.0f%% of it",
			a.ChainCeiling, a.Workers, 100*a.ChainFraction))
	}
	return out
}

// NarrowLines say, for a run sampled until narrow, which regions were
// measured and which stayed bounds, and why.
func NarrowLines(a *runfile.ASLR) []string {
	if a.NarrowBits == 0 {
		return nil
	}
	var why string
	switch {
	case a.NarrowReached:
		why = fmt.Sprintf("every region measured (95%% interval at most %.2g bits wide) after %d samples", a.NarrowBits, a.Samples)
	case a.BudgetSpent:
		why = fmt.Sprintf("the budget of %s ran out after %d samples before every region was measured", a.Budget, a.Samples)
	case a.Interrupted:
		why = fmt.Sprintf("interrupted after %d samples, before every region was measured", a.Samples)
	default:
		why = fmt.Sprintf("the cap of %d samples was reached before every region was measured", a.Samples)
	}
	out := []string{"sampled until narrow: " + why}
	var measured, other []string
	for _, n := range a.NarrowStatus {
		switch n.Status {
		case "estimate":
			measured = append(measured, n.Name)
		case "constant", "absent":
			measured = append(measured, n.Name+" ("+n.Status+")")
		case "wide":
			other = append(other, fmt.Sprintf("%s: an estimate, but its interval is %.2f bits wide (about %d samples would make it %.2g)", n.Name, n.Width, n.Needed, a.NarrowBits))
		case "bound":
			w := fmt.Sprintf("%s: an upper bound, too few equal pairs to estimate", n.Name)
			if n.Needed > 0 {
				w += fmt.Sprintf(" (about %d samples would give enough)", n.Needed)
			}
			other = append(other, w)
		}
	}
	if len(measured) > 0 {
		out = append(out, "  measured: "+strings.Join(measured, ", "))
	}
	for _, o := range other {
		out = append(out, "  "+o)
	}
	return out
}
