package verify

import (
	"strings"
	"testing"

	"github.com/vbench-dev/vbench/runfile"
)

// In every context the checks pass as in plain, each marked with its
// context, and in a time namespace every door sees the offset on the
// clocks it moves and none on REALTIME.
func TestRunInContexts(t *testing.T) {
	v := Run(Config{CPU: -1, Brief: true, Contexts: []runfile.Context{runfile.ContextPlain, runfile.ContextTimens, runfile.ContextSeccompArgcheck}})
	if len(v.Contexts) != 2 {
		t.Fatalf("contexts %+v, want timens and seccomp-argcheck", v.Contexts)
	}
	for _, ci := range v.Contexts {
		if ci.Unavailable != "" {
			t.Logf("%s unavailable here: %s", ci.Name, ci.Unavailable)
			continue
		}
		n := 0
		for _, c := range v.Checks {
			if c.Context == ci.Name {
				n++
				if c.Status == runfile.StatusFail {
					t.Errorf("[%s] %s: %s", ci.Name, c.Name, c.Detail)
				}
			}
		}
		if n < 20 {
			t.Errorf("%s: %d checks", ci.Name, n)
		}
	}
	var offsets, none bool
	for _, c := range v.Checks {
		if c.Context != runfile.ContextTimens || c.Status != runfile.StatusPass {
			continue
		}
		offsets = offsets || strings.HasPrefix(c.Name, "clock_gettime MONOTONIC: offset +10 days") && strings.Contains(c.Detail, "vdso")
		none = none || strings.HasPrefix(c.Name, "clock_gettime REALTIME: no offset") && strings.Contains(c.Detail, "syscall")
	}
	if ci, _ := contextInfo(v, runfile.ContextTimens); ci.Unavailable == "" && (!offsets || !none) {
		t.Errorf("timens: MONOTONIC offset seen through the vDSO %v, REALTIME unmoved %v", offsets, none)
	}
}

func contextInfo(v *runfile.Verify, ctx runfile.Context) (runfile.ContextInfo, bool) {
	for _, ci := range v.Contexts {
		if ci.Name == ctx {
			return ci, true
		}
	}
	return runfile.ContextInfo{}, false
}
