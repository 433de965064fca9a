package report

import (
	"fmt"
	"strings"

	"github.com/vbench-dev/vbench/runfile"
)

// aslrSamplingWords says, from the run file's fields (runfile.ASLRSampling),
// how the ASLR part sampled: the method, the time left out of the rate,
// checks that could not be made, and, for a run sampled until narrow,
// which regions were measured and which stayed bounds, and why.
func aslrSamplingWords(a *runfile.ASLR) string {
	var parts []string
	switch a.Method {
	case runfile.MethodChain:
		parts = append(parts, fmt.Sprintf("Exec chains: every image reported itself and executed itself again; %d samples checked against /proc.", a.Checked))
	case runfile.MethodSelfReport:
		parts = append(parts, fmt.Sprintf("Fresh self-reporting spawns; %d samples checked against /proc.", a.Checked))
	case runfile.MethodPtrace:
		parts = append(parts, "Each spawn read through ptrace at its exec stop.")
	}
	if a.Ceiling > 0 {
		parts = append(parts, fmt.Sprintf("%.2fx the vfork+execve ceiling (%.0f/s).", a.CeilingFraction, a.Ceiling))
	}
	if a.Stalled > 0 {
		parts = append(parts, fmt.Sprintf("The rate leaves out %.1f s in which vbench was stopped.", a.Stalled.Seconds()))
	}
	if a.CheckSkipped != "" {
		parts = append(parts, "No sample could be checked against /proc: "+a.CheckSkipped+".")
	}
	if a.NarrowBits > 0 {
		var measured, open []string
		for _, n := range a.NarrowStatus {
			switch n.Status {
			case "estimate", "constant", "absent":
				measured = append(measured, n.Name)
			case "wide":
				open = append(open, fmt.Sprintf("%s (an estimate %.2f bits wide)", n.Name, n.Width))
			case "bound":
				open = append(open, n.Name+" (an upper bound: too few equal pairs)")
			}
		}
		switch {
		case a.NarrowReached:
			parts = append(parts, fmt.Sprintf("Sampled until every region was measured (95%% interval at most %.2g bits).", a.NarrowBits))
		case len(open) > 0:
			why := "the budget ran out"
			if !a.BudgetSpent {
				why = "sampling stopped"
			}
			parts = append(parts, fmt.Sprintf("Sampled until %s: measured %s; not %s.", why, strings.Join(measured, ", "), strings.Join(open, ", ")))
		}
	}
	return strings.Join(parts, " ")
}
