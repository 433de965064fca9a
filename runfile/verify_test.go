package runfile

import (
	"slices"
	"testing"
)

// TestVerifyCounts: checks are counted by status, info entries not at all,
// and the failed ones are named in order.
func TestVerifyCounts(t *testing.T) {
	v := &Verify{
		Checks: []Check{{Name: "a", Status: StatusPass}, {Name: "b", Status: StatusFail}, {Name: "c", Status: StatusSkip},
			{Name: "d", Status: StatusFail}, {Name: "e", Status: StatusPass}},
		Info: []Check{{Name: "vdso found", Status: StatusInfo}},
	}
	n, failed := v.Counts()
	if n[StatusPass] != 2 || n[StatusFail] != 2 || n[StatusSkip] != 1 || n[StatusInfo] != 0 || !slices.Equal(failed, []string{"b", "d"}) {
		t.Errorf("counts %v, failed %q", n, failed)
	}
	if n, failed := (&Verify{}).Counts(); len(n) != 0 || failed != nil {
		t.Errorf("no checks: %v %q", n, failed)
	}
}
