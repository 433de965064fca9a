package probes

import (
	"fmt"

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
	planEnabled                     // in user space if the (auxiliary) clock is enabled, else the syscall
)

// Fallback is what the vDSO does with a call (Call.Fallback): Plan for a
// call without a clock, else ByClass by the clock's Class (a class it
// lacks: the syscall).
type Fallback struct {
	Plan    vdsoPlan
	ByClass map[ClockClass]vdsoPlan
}

// plan is what the vDSO does with the call on clock ("" for none).
func (f Fallback) plan(clock runfile.Clock) vdsoPlan {
	if f.ByClass == nil {
		return f.Plan
	}
	c, ok := ClockOf(clock)
	if !ok {
		return planUnknown
	}
	if p, ok := f.ByClass[c.Class]; ok {
		return p
	}
	return planSyscall
}

// planOf predicts what the vDSO does with fn on clock, from fn's row.
func planOf(fn runfile.Function, clock runfile.Clock) vdsoPlan {
	c, ok := CallOf(fn)
	if !ok {
		return planUnknown
	}
	return c.Fallback.plan(clock)
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
		case fell && plan == planEnabled:
			c.Notes = append(c.Notes, "the clock is not enabled: the vDSO hands it to the kernel")
		}
	}
}
