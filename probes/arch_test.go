package probes

import (
	"errors"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/vbench-dev/vbench/runfile"
)

// TestArchTables: the per-architecture tables name registry functions, a
// row without a system call on this architecture says why, and the floors
// are the two generic ones and this architecture's counter reads, among
// them CounterFloor.
func TestArchTables(t *testing.T) {
	for _, c := range Calls {
		for _, m := range []map[string]string{c.NoVDSO, c.NoSyscall} {
			for arch, why := range m {
				if (arch != "amd64" && arch != "arm64") || why == "" {
					t.Errorf("%s: a gap on %q with reason %q", c.Func, arch, why)
				}
			}
		}
		if why := c.NoSyscall[runtime.GOARCH]; (c.Trap == noTrap) != (why != "") {
			t.Errorf("%s: trap %#x but NoSyscall says %q", c.Func, c.Trap, why)
		}
	}
	var ops []runfile.Clock
	for _, f := range Floors {
		ops = append(ops, f.Op)
		if !slices.Contains(runfile.FloorOps, f.Op) {
			t.Errorf("floor %q is not one of runfile.FloorOps", f.Op)
		}
	}
	if len(Floors) != 4 || Floors[0].Op != runfile.OpEmpty || Floors[1].Op != runfile.OpCall || !slices.Contains(ops, CounterFloor) {
		t.Errorf("floors %v, counter floor %q", ops, CounterFloor)
	}
}

// TestArchLacks: a function the architecture lacks through a path (as
// arm64 lacks time altogether and getcpu in its vDSO) is a bench cell that
// is unavailable with the table's reason, never a missing row, and Target
// refuses it with ErrUnavailable, so it is never called. The gaps are
// made up here, on whatever architecture runs the test.
func TestArchLacks(t *testing.T) {
	saveCalls := Calls
	defer func() { Calls = saveCalls }()
	Calls = slices.Clone(Calls)
	arch := runtime.GOARCH
	for i := range Calls {
		switch Calls[i].Func {
		case runfile.FuncTime:
			Calls[i].Trap = noTrap
			Calls[i].NoVDSO = map[string]string{arch: "made up: no vDSO time"}
			Calls[i].NoSyscall = map[string]string{arch: "made up: no time syscall"}
		case runfile.FuncGetcpu:
			Calls[i].NoVDSO = map[string]string{arch: "made up: no vDSO getcpu"}
		}
	}

	d := &Doors{} // no vDSO, no vsyscall page: the gaps must win over those reasons
	for _, tc := range []struct {
		fn   runfile.Function
		p    runfile.Path
		want string // "" for callable
	}{
		{runfile.FuncTime, runfile.PathSyscall, "made up: no time syscall"},
		{runfile.FuncTime, runfile.PathVDSO, "made up: no vDSO time"},
		{runfile.FuncGetcpu, runfile.PathVDSO, "made up: no vDSO getcpu"},
		{runfile.FuncGetcpu, runfile.PathSyscall, ""},
	} {
		_, err := d.Target(tc.fn, tc.p)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s via %s: %v", tc.fn, tc.p, err)
		case tc.want != "" && (!errors.Is(err, ErrUnavailable) || reasonOf(err) != tc.want):
			t.Errorf("%s via %s: %v, want unavailable: %s", tc.fn, tc.p, err, tc.want)
		}
	}
	cfg, err := BenchConfig{Functions: []runfile.Function{runfile.FuncTime, runfile.FuncGetcpu}}.NormalizeNames()
	if err != nil {
		t.Fatal(err)
	}
	cells := plan(cfg, d)
	got := map[string]string{}
	for _, bc := range cells {
		got[string(bc.cell.Function)+"/"+string(bc.cell.Path)] = bc.cell.Unavailable
	}
	for key, want := range map[string]string{
		"time/syscall":    "made up: no time syscall",
		"time/vdso":       "made up: no vDSO time",
		"getcpu/vdso":     "made up: no vDSO getcpu",
		"getcpu/syscall":  "",
		"time/vsyscall":   "vsyscall",
		"getcpu/vsyscall": "vsyscall",
	} {
		u, ok := got[key]
		switch {
		case !ok:
			t.Errorf("no %s cell: a gap must be an unavailable row", key)
		case want == "" && u != "":
			t.Errorf("%s unavailable: %s", key, u)
		case want != "" && !strings.Contains(u, want):
			t.Errorf("%s: unavailable %q, want it to say %q", key, u, want)
		}
	}
}
