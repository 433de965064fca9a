package probes

import (
	"strings"
	"testing"

	"github.com/vbench-dev/vbench/runfile"
	"golang.org/x/sys/unix"
)

func TestParseCountCells(t *testing.T) {
	cells, err := parseCountCells("clock_gettime/MONOTONIC/vdso;time//syscall;getcpu//vsyscall")
	if err != nil {
		t.Fatal(err)
	}
	if len(cells) != 3 || cells[0].clock.ID != unix.CLOCK_MONOTONIC || cells[1].fn != runfile.FuncTime || cells[2].path != runfile.PathVsyscall {
		t.Errorf("cells %+v", cells)
	}
	// What the parent sends is what the child reads back.
	for _, c := range cells {
		back, err := parseCountCells(c.String())
		if err != nil || len(back) != 1 || back[0] != c {
			t.Errorf("%s: read back as %+v, %v", c, back, err)
		}
	}
	for _, bad := range []string{"", "time/syscall", "nanosleep//syscall", "time//int80", "clock_gettime/SGI_CYCLE/vdso"} {
		if _, err := parseCountCells(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestCountCellOwns(t *testing.T) {
	const lo, hi = 0x7000, 0x9000
	vdsoCell := countCell{fn: runfile.FuncClockGettime, path: runfile.PathVDSO}
	sysCell := countCell{fn: runfile.FuncClockGettime, path: runfile.PathSyscall}
	for _, c := range []struct {
		cell    countCell
		nr, rip uint64
		want    bool
	}{
		{vdsoCell, unix.SYS_CLOCK_GETTIME, 0x7100, true},    // the vDSO's fallback
		{vdsoCell, unix.SYS_CLOCK_GETTIME, 0x401000, false}, // not from the vDSO
		{vdsoCell, unix.SYS_FUTEX, 0x401000, false},         // the Go runtime parking the thread
		{sysCell, unix.SYS_CLOCK_GETTIME, 0x401000, true},   // the timed syscall
		{sysCell, unix.SYS_FUTEX, 0x401000, false},
	} {
		if got := c.cell.owns(c.nr, c.rip, lo, hi); got != c.want {
			t.Errorf("%s: syscall %d from %#x: owns %v, want %v", c.cell, c.nr, c.rip, got, c.want)
		}
	}
}

// TestSyscountChild: the counting child, this test binary started again
// and dispatched by TestMain's RunChild, makes its calls on the traced
// thread: one syscall per call through the syscall path, none through a
// vDSO function that reads the clocksource here (where counted so).
func TestSyscountChild(t *testing.T) {
	mono, _ := ClockOf(runfile.ClockMonotonic)
	cells := []countCell{{fn: runfile.FuncGettimeofday, path: runfile.PathSyscall}, {fn: runfile.FuncClockGettime, clock: mono, path: runfile.PathSyscall}}
	per, err := countSyscalls(cells)
	if err != nil {
		t.Skipf("no ptrace here: %v", err)
	}
	for i, p := range per {
		if p < 0.99 || p > 1.1 {
			t.Errorf("%s: %.2f syscalls per call, want 1", cells[i], p)
		}
	}
}

// TestNoChildWithoutDispatch: where RunChild was never called, no child is
// started (it would run the whole program, here every test again).
func TestNoChildWithoutDispatch(t *testing.T) {
	dispatching.Store(false)
	defer dispatching.Store(true)
	_, err := countSyscalls([]countCell{{fn: runfile.FuncGettimeofday, path: runfile.PathSyscall}})
	if err == nil || !strings.Contains(err.Error(), "probes.RunChild") {
		t.Errorf("countSyscalls without RunChild: %v", err)
	}
}
