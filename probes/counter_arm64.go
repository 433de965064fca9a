package probes

import (
	"time"

	"github.com/vbench-dev/vbench/runfile"
)

// The arm64 counter is the generic timer's virtual count, CNTVCT_EL0, which
// Linux lets user space read (CNTKCTL_EL1.EL0VCTEN; on CPUs with a counter
// erratum the kernel traps and emulates the read, slowly, and keeps the
// vDSO off the counter). Its rate is architectural: CNTFRQ_EL0, set by
// firmware (62.5 MHz under QEMU's virt machine, 1 GHz on Armv8.6+ CPUs).
//
// The floors, named for what they execute:
//   - "cntvct": isb; mrs cntvct_el0. The ordered read the vDSO itself makes
//     (__arch_get_hw_counter in arch/arm64/include/asm/vdso/gettimeofday.h:
//     the isb keeps the read from being taken before earlier
//     instructions). It is the floor line of the plots (CounterFloor), the
//     counterpart of x86-64's rdtsc row.
//   - "cntvct_noisb": mrs cntvct_el0 alone, which the CPU may take early;
//     the counterpart of the other x86-64 row (rdtscp), it shows what the
//     isb costs. Both always exist on arm64.
//
// The latency mode reads isb; mrs cntvct_el0; isb before a call and
// isb; mrs cntvct_el0 after it (loop_arm64.s).

// CounterName is what the counter is called in bench's notes.
const CounterName = "virtual counter CNTVCT_EL0"

// CounterFloor is the floor operation the plots draw as the floor line.
const CounterFloor = runfile.OpCntvct

// counterFloors are the architecture's counter floors, in table order.
var counterFloors = []Floor{{runfile.OpCntvct, opCounter}, {runfile.OpCntvctNoisb, opCounter2}}

// floorUnavailable says why a floor cannot be run here: every arm64 CPU
// has its counter.
func floorUnavailable(kind int, d *Doors) string { return "" }

// counterHz is CNTFRQ_EL0, or a rate calibrated against CLOCK_MONOTONIC if
// firmware left the register 0.
func counterHz() float64 {
	if f := counterFreq(); f > 0 {
		return float64(f)
	}
	return calibrateCounter(20 * time.Millisecond)
}

// counterFreq reads CNTFRQ_EL0 (loop_arm64.s).
//
//go:noescape
func counterFreq() uint64

// cpuHasRDTSCP is false: rdtscp is an x86-64 instruction.
func cpuHasRDTSCP() bool { return false }
