package report

import (
	"bytes"
	"strings"
	"testing"

	"github.com/vbench-dev/vbench/runfile"
)

// The lifecycle table lists failures first, then skips with their reason,
// then passes; the fault table has one row per point with what it left.
func TestLifecycleTables(t *testing.T) {
	leak := []runfile.LifecycleRegion{{Name: "[vvar]", Start: 0x7f0000004000, Size: 16384}}
	l := &runfile.Lifecycle{
		Checks: []runfile.Check{
			{Name: "mremap", Status: "pass", Detail: "moved"},
			{Name: "arch_prctl map", Status: "skip", Detail: "no CONFIG_CHECKPOINT_RESTORE"},
			{Name: "fault injection", Status: "fail", Detail: "point 2 left [vvar]"},
		},
		FaultInjection: &runfile.FaultInjection{Points: 2, Complete: true,
			Results: []runfile.FaultPoint{{N: 1, Errno: "ENOMEM"}, {N: 2, Errno: "ENOMEM", Left: leak}}},
	}
	var b bytes.Buffer
	LifecycleTable(l).Text(&b)
	lines := strings.Split(b.String(), "\n")
	if !strings.HasPrefix(lines[1], "FAIL") || !strings.HasPrefix(lines[2], "SKIP") || !strings.HasPrefix(lines[3], "PASS") {
		t.Errorf("order:\n%s", b.String())
	}
	b.Reset()
	FaultTable(l).Text(&b)
	if !strings.Contains(b.String(), "[vvar] 16 KiB at 0x7f0000004000") || !strings.Contains(b.String(), "nothing") || !strings.Contains(b.String(), "N = 3") {
		t.Errorf("fault table:\n%s", b.String())
	}
	if s := LifecycleSummary(l); s != "3 checks: 1 pass, 1 fail, 1 skip (failed: fault injection)" {
		t.Errorf("summary %q", s)
	}
	if FaultTable(&runfile.Lifecycle{}) != nil {
		t.Error("a fault table without fault injection")
	}
}
