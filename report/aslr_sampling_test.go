package report

import (
	"strings"
	"testing"
	"time"

	"github.com/vbench-dev/vbench/runfile"
)

// The head of the ASLR section says how the run sampled and which regions
// sampling until narrow measured, from the fields alone.
func TestASLRSamplingWords(t *testing.T) {
	a := &runfile.ASLR{Samples: 500000, Target: "t", Rate: 25000, Method: runfile.MethodChain, Checked: 4000, Ceiling: 12000, CeilingFraction: 2.1}
	a.Stalled = 1500 * time.Millisecond
	a.NarrowBits, a.BudgetSpent = 0.2, true
	a.NarrowStatus = []runfile.NarrowRegion{{Name: "vdso", Status: "estimate"}, {Name: "sp", Status: "wide", Width: 0.35}, {Name: "heap", Status: "bound"}}
	got := aslrHead(a)
	for _, want := range []string{"Exec chains", "4000 samples checked", "2.10x the vfork+execve ceiling", "leaves out 1.5 s", "the budget ran out: measured vdso; not sp (an estimate 0.35 bits wide), heap (an upper bound"} {
		if !strings.Contains(got, want) {
			t.Errorf("%q lacks %q", got, want)
		}
	}
	a.NarrowReached, a.NarrowStatus = true, []runfile.NarrowRegion{{Name: "vdso", Status: "estimate"}}
	if got := aslrHead(a); !strings.Contains(got, "until every region was measured") {
		t.Errorf("%q", got)
	}
}
