package probes

import (
	"fmt"
	"slices"

	"github.com/vbench-dev/vbench/runfile"
)

// FellBack is the note on a vDSO cell whose calls were counted entering the
// kernel through a syscall: the vDSO handed the call to the kernel.
const FellBack = "vDSO fell back to the syscall"

// FallsBackUncounted is the note on a vDSO cell that lib/vdso always hands
// to the kernel, when syscalls could not be counted here.
const FallsBackUncounted = "vDSO falls back to the syscall for this clock (lib/vdso/gettimeofday.c; not counted here)"

// fellBackAt is the syscalls per call from which a vDSO cell is taken to
// have fallen back: a fallback makes one syscall per call, a vDSO read
// none.
const fellBackAt = 0.5

// vdsoPlan is what the kernel's generic vDSO code does with a call.
type vdsoPlan int

const (
	planUnknown     vdsoPlan = iota // no prediction (getrandom: depends on the RNG's state)
	planUserSpace                   // answered in user space whatever the clocksource
	planClocksource                 // in user space if the clocksource has a vDSO clock mode, else the syscall
	planSyscall                     // always the syscall
)

// Clock ids by how lib/vdso/gettimeofday.c treats them (the masks
// VDSO_HRES, VDSO_COARSE and VDSO_RAW of include/vdso/datapage.h):
// do_hres reads the clocksource and returns false (fallback) when
// vdso_clocksource_ok says its clock mode is VDSO_CLOCKMODE_NONE; do_coarse
// only reads the time the kernel stored at the last tick and never falls
// back; every other id (the CPUTIME and ALARM clocks) is handed to the
// kernel at once.
var (
	hresClocks   = []runfile.Clock{runfile.ClockRealtime, runfile.ClockMonotonic, runfile.ClockBoottime, runfile.ClockTAI, runfile.ClockMonotonicRaw}
	coarseClocks = []runfile.Clock{runfile.ClockRealtimeCoarse, runfile.ClockMonotonicCoarse}
)

// planOf predicts what the vDSO does with fn on clock.
func planOf(fn runfile.Function, clock runfile.Clock) vdsoPlan {
	in := func(list []runfile.Clock) bool { return slices.Contains(list, clock) }
	switch fn {
	case runfile.FuncTime:
		// __cvdso_time reads the stored seconds of CLOCK_REALTIME.
		return planUserSpace
	case runfile.FuncGetcpu:
		// arch/x86/entry/vdso/vgetcpu.c reads the CPU and node from RDPID
		// or the segment limit of the per-CPU GDT entry (LSL).
		return planUserSpace
	case runfile.FuncGettimeofday:
		return planClocksource // do_hres(CLOCK_REALTIME)
	case runfile.FuncClockGettime:
		switch {
		case in(hresClocks):
			return planClocksource
		case in(coarseClocks):
			return planUserSpace
		}
		return planSyscall
	case runfile.FuncClockGetres:
		// __cvdso_clock_getres_common answers the HRES, RAW and COARSE
		// ids from the data page (hrtimer_res, LOW_RES_NSEC) without
		// reading the clocksource; other ids fall back.
		if in(hresClocks) || in(coarseClocks) {
			return planUserSpace
		}
		return planSyscall
	}
	return planUnknown
}

// noteFallbacks notes, on every measured vDSO cell, whether it fell back:
// from the count of syscalls per call where there is one, checked against
// what lib/vdso/gettimeofday.c does with that call; from lib/vdso alone,
// said as such, where syscalls could not be counted.
func noteFallbacks(b *runfile.Bench) {
	for i := range b.Cells {
		c := &b.Cells[i]
		if c.Path != runfile.PathVDSO || c.Unavailable != "" {
			continue
		}
		plan := planOf(c.Function, c.Clock)
		if c.PerCall == nil || c.PerCall.Syscalls == nil {
			if plan == planSyscall {
				c.Notes = append(c.Notes, FallsBackUncounted)
			}
			continue
		}
		n := *c.PerCall.Syscalls
		fell := n >= fellBackAt
		if fell {
			c.Notes = append(c.Notes, FellBack)
		}
		switch {
		case fell && plan == planUserSpace:
			c.Notes = append(c.Notes, fmt.Sprintf("unexpected: lib/vdso answers this in user space, yet %s syscalls per call were counted", runfile.FormatCount(n)))
		case !fell && plan == planSyscall:
			c.Notes = append(c.Notes, fmt.Sprintf("unexpected: lib/vdso hands this clock to the kernel, yet %s syscalls per call were counted", runfile.FormatCount(n)))
		case fell && plan == planClocksource:
			c.Notes = append(c.Notes, "the clocksource has no vDSO clock mode")
		}
	}
}
