package report

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/vbench-dev/vbench/runfile"
)

// VerifyTable is the table of the correctness checks, for `vbench verify`
// and report.md alike: status, check, detail. Failures come first, then
// skips, then what was found (INFO lines, which are not checks), then the
// passes (runfile.Statuses), each group in the order the checks ran.
func VerifyTable(v *runfile.Verify) *Table {
	t := &Table{Cols: cols("status", "check", "detail")}
	all := append(append([]runfile.Check(nil), v.Checks...), v.Info...)
	for i := range v.Info {
		if all[len(v.Checks)+i].Status == "" {
			all[len(v.Checks)+i].Status = runfile.StatusInfo
		}
	}
	sort.SliceStable(all, func(i, j int) bool {
		return slices.Index(runfile.Statuses, all[i].Status) < slices.Index(runfile.Statuses, all[j].Status)
	})
	for _, c := range all {
		t.Rows = append(t.Rows, []string{strings.ToUpper(string(c.Status)), c.Label(), runfile.OneLine(c.Detail)})
	}
	for _, ci := range v.Contexts {
		if ci.Unavailable != "" {
			t.Notes = append(t.Notes, fmt.Sprintf("%s: unavailable: %s.", ci.Name, ci.Unavailable))
		}
	}
	return t
}

// VerifySummary is one line on the checks, the same wherever it is shown:
// "35 checks: 33 pass, 0 fail, 2 skip", and the failed checks by name.
func VerifySummary(v *runfile.Verify) string {
	n, failed := v.Counts()
	s := fmt.Sprintf("%d checks: %d pass, %d fail, %d skip", len(v.Checks), n[runfile.StatusPass], n[runfile.StatusFail], n[runfile.StatusSkip])
	if len(failed) > 0 {
		s += " (failed: " + strings.Join(failed, "; ") + ")"
	}
	switch {
	case v.ClockSteps == 1:
		s += "; 1 round taken again: CLOCK_REALTIME was set during it (a clock step, not a kernel bug)"
	case v.ClockSteps > 1:
		s += fmt.Sprintf("; %d rounds taken again: CLOCK_REALTIME was set during them (clock steps, not kernel bugs)", v.ClockSteps)
	}
	return s
}
