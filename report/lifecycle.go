package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/vbench-dev/vbench/runfile"
)

// LifecycleTable is the table of the vDSO lifecycle checks (`vbench
// lifecycle`, report.md): one row per check with its verdict, failures
// first, skips with the reason.
func LifecycleTable(l *runfile.Lifecycle) *Table {
	t := &Table{Cols: cols("status", "check", "detail")}
	rank := map[runfile.Status]int{runfile.StatusFail: 0, runfile.StatusSkip: 1, runfile.StatusPass: 2}
	rows := append([]runfile.Check(nil), l.Checks...)
	for i := 1; i < len(rows); i++ { // a stable insertion sort by rank
		for j := i; j > 0 && rank[rows[j].Status] < rank[rows[j-1].Status]; j-- {
			rows[j], rows[j-1] = rows[j-1], rows[j]
		}
	}
	for _, c := range rows {
		t.Rows = append(t.Rows, []string{strings.ToUpper(string(c.Status)), c.Name, runfile.OneLine(c.Detail)})
	}
	t.Notes = []string{"Each check runs in a fresh child process vbench drives through ptrace. " +
		"A SKIP says why the check could not run on this kernel; it is not a pass."}
	return t
}

// FaultTable is the table of the fault-injection points: per N, the
// call's errno and what it left mapped. Nil when fault injection did not
// run.
func FaultTable(l *runfile.Lifecycle) *Table {
	fi := l.FaultInjection
	if fi == nil || len(fi.Results) == 0 {
		return nil
	}
	t := &Table{Cols: cols("N", "errno", "left mapped")}
	t.Cols[0].Right = true
	for _, p := range fi.Results {
		t.Rows = append(t.Rows, []string{fmt.Sprint(p.N), orNone(p.Errno, "(succeeded)"), RegionsWords(p.Left)})
	}
	if fi.Complete {
		t.Notes = append(t.Notes, fmt.Sprintf("With N = %d the call reached no N-th fault point and mapped the vDSO: every failure point was visited.", fi.Points+1))
	}
	if fi.Setup != "" {
		t.Notes = append(t.Notes, "Set-up: "+fi.Setup+".")
	}
	return t
}

// RegionsWords is "[vvar] 16 KiB at 0x7f...", or "nothing".
func RegionsWords(rs []runfile.LifecycleRegion) string {
	if len(rs) == 0 {
		return "nothing"
	}
	var parts []string
	for _, g := range rs {
		parts = append(parts, fmt.Sprintf("%s %d KiB at %s", g.Name, g.Size>>10, runfile.HexAddr(g.Start)))
	}
	return strings.Join(parts, ", ")
}

func orNone(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}

// LifecycleSummary is one line: "6 checks: 5 pass, 0 fail, 1 skip", the
// failed checks by name.
func LifecycleSummary(l *runfile.Lifecycle) string {
	n := map[runfile.Status]int{}
	var failed []string
	for _, c := range l.Checks {
		n[c.Status]++
		if c.Status == runfile.StatusFail {
			failed = append(failed, c.Name)
		}
	}
	s := fmt.Sprintf("%d checks: %d pass, %d fail, %d skip", len(l.Checks), n[runfile.StatusPass], n[runfile.StatusFail], n[runfile.StatusSkip])
	if len(failed) > 0 {
		s += " (failed: " + strings.Join(failed, "; ") + ")"
	}
	return s
}

// lifecycleMarkdown is report.md's section on the vDSO's lifecycle.
func lifecycleMarkdown(w io.Writer, r *runfile.Run, h string) {
	l := r.Lifecycle
	if l == nil {
		return
	}
	fmt.Fprintf(w, "\n%s# The vDSO's lifecycle (mremap, ARCH_MAP_VDSO_64, error paths)\n\n", h)
	fmt.Fprintf(w, "%s.\n\n", mdEscape(LifecycleSummary(l)))
	if len(l.Layout) > 0 {
		var parts []string
		for _, g := range l.Layout {
			parts = append(parts, fmt.Sprintf("%s +%s %d KiB", g.Name, runfile.HexAddr(g.Start), g.Size>>10))
		}
		fmt.Fprintf(w, "Layout at exec: %s.\n\n", mdEscape(strings.Join(parts, ", ")))
	}
	LifecycleTable(l).Markdown(w)
	if ft := FaultTable(l); ft != nil {
		fmt.Fprintf(w, "\nFault injection, one failure point at a time:\n\n")
		ft.Markdown(w)
	}
}
