package bootlab

import (
	"bytes"
	"strings"
	"testing"

	"github.com/vbench-dev/vbench/runfile"
)

// The contexts section: one row per headline cell, one column per boot,
// the plain cost beside each, and a context a guest could not enter said
// once with its reason; nothing at all when no guest measured a context.
func TestWriteContextsMarkdown(t *testing.T) {
	cell := func(ctx runfile.Context, p runfile.Path, ns float64) runfile.Cell {
		return runfile.Cell{Context: ctx, Function: runfile.FuncClockGettime, Clock: runfile.ClockMonotonic, Path: p,
			Summary: &runfile.Summary{Median: ns, Lo: ns, Hi: ns, Min: ns, Max: ns, Mean: ns}}
	}
	b := &runfile.Bench{
		Contexts: []runfile.ContextInfo{{Name: runfile.ContextTimens}, {Name: runfile.ContextSeccompAllowlist, Unavailable: "seccomp: EINVAL"}},
		Cells: []runfile.Cell{cell("", runfile.PathVDSO, 20), cell("", runfile.PathSyscall, 100),
			cell(runfile.ContextTimens, runfile.PathVDSO, 25)},
	}
	var w bytes.Buffer
	WriteContextsMarkdown(&w, []Result{{Kernel: "7.3-fi", Mode: Mode{Name: "xonly"}, Run: &runfile.Run{Bench: b}}})
	out := w.String()
	for _, want := range []string{"| timens: clock_gettime MONOTONIC vdso | 25.0 ns (plain 20.0, 1.25x) |",
		"| seccomp-allowlist: clock_gettime MONOTONIC syscall | unavailable: seccomp: EINVAL |",
		"| seccomp-argcheck: clock_gettime MONOTONIC syscall | not measured |",
		"- 7.3-fi, xonly: seccomp-allowlist unavailable: seccomp: EINVAL"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in\n%s", want, out)
		}
	}
	w.Reset()
	WriteContextsMarkdown(&w, []Result{{Kernel: "6.1", Run: &runfile.Run{Bench: &runfile.Bench{}}}})
	if w.Len() != 0 {
		t.Errorf("a lab without contexts wrote %q", w.String())
	}
}
