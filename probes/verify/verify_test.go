package verify

import (
	"os"
	"strings"
	"testing"

	"github.com/vbench-dev/vbench/probes"
	"github.com/vbench-dev/vbench/probes/vdso"
	"github.com/vbench-dev/vbench/probes/vsyscall"
	"github.com/vbench-dev/vbench/runfile"
)

func TestMain(m *testing.M) {
	if code, child := probes.RunChildWith(InContext); child {
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// TestRunPassesHere runs every check on this machine: none may fail, and
// the ones that skip must say why.
func TestRunPassesHere(t *testing.T) {
	res := Run(Config{CPU: -1, Brief: testing.Short()})
	for _, c := range res.Info {
		t.Logf("INFO %s: %s", c.Name, c.Detail)
	}
	var pass, skip int
	for _, c := range res.Checks {
		t.Logf("%-4s %s: %s", strings.ToUpper(string(c.Status)), c.Name, c.Detail)
		switch c.Status {
		case runfile.StatusFail:
			t.Errorf("check failed: %s: %s", c.Name, c.Detail)
		case runfile.StatusSkip:
			skip++
			if c.Detail == "" {
				t.Errorf("%s skipped without a reason", c.Name)
			}
		case runfile.StatusPass:
			pass++
		default:
			t.Errorf("%s: status %q", c.Name, c.Status)
		}
	}
	if !res.Passed {
		t.Error("Passed is false")
	}
	// Every clock has an ordering check and a getres check (the
	// auxiliary ones where the kernel has them; else one finding says
	// what they read).
	v := &verifier{}
	for _, c := range v.clocks() {
		for _, prefix := range []string{"clock_gettime " + string(c.Name) + ":", "clock_getres " + string(c.Name) + ":"} {
			if !hasCheck(res.Checks, prefix) {
				t.Errorf("no check named %q...", prefix)
			}
		}
	}
	if !probes.AuxClocksPresent() && !hasCheck(res.Info, "auxiliary clocks") {
		t.Error("no finding on the auxiliary clocks of a kernel without them")
	}
	if pass == 0 {
		t.Error("no check passed")
	}
	// A path no kernel has is no check: the vsyscall page has no
	// clock_gettime, clock_getres or getrandom entry.
	for _, c := range res.Checks {
		for _, fn := range []string{"clock_gettime", "clock_getres", "getrandom"} {
			if strings.HasPrefix(c.Name, fn) && strings.Contains(c.Name, "vsyscall") {
				t.Errorf("check %q of a path no kernel has", c.Name)
			}
		}
	}
	// What is only found out is information, not a passing check.
	for _, name := range []string{"vdso found", "pinned to one CPU"} {
		if hasCheck(res.Checks, name) || !hasCheck(res.Info, name) {
			t.Errorf("%q should be information, not a check", name)
		}
	}
	for _, c := range res.Info {
		if c.Status != runfile.StatusInfo {
			t.Errorf("info %q has status %q", c.Name, c.Status)
		}
	}
	// getrandom: fresh bytes through the syscall, and through the vDSO
	// where this kernel has it, served from its state.
	d := probes.Discover()
	want := []string{"getrandom via syscall: "}
	if _, err := d.Target(runfile.FuncGetrandom, runfile.PathVDSO); err == nil {
		want = append(want, "getrandom via vdso: ", "getrandom via vdso: served from its state")
	}
	for _, w := range want {
		if !hasPassing(res.Checks, w) {
			t.Errorf("no passing check %q...", w)
		}
	}
}

// TestEveryCallHasCheck: the registry and the checks stay in step.
func TestEveryCallHasCheck(t *testing.T) {
	for _, c := range probes.Calls {
		if checks[c.Func] == nil {
			t.Errorf("%s: no check", c.Func)
		}
	}
	if len(checks) != len(probes.Calls) {
		t.Errorf("%d checks for %d calls", len(checks), len(probes.Calls))
	}
}

func hasPassing(cs []runfile.Check, prefix string) bool {
	for _, c := range cs {
		if strings.HasPrefix(c.Name, prefix) && c.Status == runfile.StatusPass {
			return true
		}
	}
	return false
}

func hasCheck(cs []runfile.Check, prefix string) bool {
	for _, c := range cs {
		if strings.HasPrefix(c.Name, prefix) {
			return true
		}
	}
	return false
}

// TestUnavailablePathsSkip: with no vDSO and vsyscall=none every check of
// those paths is a skip with the reason, and the syscall-only checks still
// run and pass. Nothing unavailable is called (it would kill the test).
func TestUnavailablePathsSkip(t *testing.T) {
	d := &probes.Doors{
		VDSOErr:  vdso.ErrNoVDSO,
		Vsyscall: vsyscall.Observed{Mode: vsyscall.None, ReadProbe: "SIGSEGV", CallProbe: "SIGSEGV", ModeSource: "maps"},
	}
	res := Run(Config{CPU: -1, Brief: true, Doors: d})
	var sawNone, sawNoVDSO bool
	for _, c := range res.Checks {
		if c.Status == runfile.StatusFail {
			t.Errorf("%s failed: %s", c.Name, c.Detail)
		}
		if c.Status == runfile.StatusSkip && strings.Contains(c.Detail, "vsyscall=none") {
			sawNone = true
		}
		if c.Status == runfile.StatusSkip && strings.Contains(c.Detail, "no vDSO") {
			sawNoVDSO = true
		}
		if strings.Contains(c.Name, ": syscall <= vdso") || strings.Contains(c.Name, "<= vsyscall") {
			t.Errorf("check %q uses an unavailable path", c.Name)
		}
	}
	if !sawNone || !sawNoVDSO {
		t.Errorf("skips name vsyscall=none: %v, no vDSO: %v", sawNone, sawNoVDSO)
	}
	if !res.Passed {
		t.Error("skips made the run fail")
	}
}

func TestBadCPUFailsPinning(t *testing.T) {
	d := &probes.Doors{VDSOErr: vdso.ErrNoVDSO, Vsyscall: vsyscall.Observed{Mode: vsyscall.None, ReadProbe: "SIGSEGV", CallProbe: "SIGSEGV", ModeSource: "maps"}}
	res := Run(Config{CPU: 100000, Brief: true, Doors: d})
	if res.Passed {
		t.Error("pinning to CPU 100000 passed")
	}
}
