package probes

import (
	"time"

	"github.com/vbench-dev/vbench/runfile"
)

// The x86-64 counter is the TSC. Its floors are rdtsc alone and rdtscp
// (which waits for earlier instructions; only where the CPU has it); the
// latency mode reads it fenced (lfence; rdtsc) at a rate calibrated
// against CLOCK_MONOTONIC, since the TSC's rate is not architectural.

// CounterName is what the counter is called in bench's notes.
const CounterName = "TSC"

// CounterFloor is the floor operation the plots draw as the floor line.
const CounterFloor = runfile.OpRdtsc

// counterFloors are the architecture's counter floors, in table order.
var counterFloors = []Floor{{runfile.OpRdtsc, opCounter}, {runfile.OpRdtscp, opCounter2}}

// floorUnavailable says why a floor cannot be run here, or "".
func floorUnavailable(kind int, d *Doors) string {
	if kind == opCounter2 && !hasRDTSCP(d) {
		return "CPU lacks rdtscp"
	}
	return ""
}

// counterHz is the TSC's rate, calibrated over 20 ms.
func counterHz() float64 { return calibrateCounter(20 * time.Millisecond) }

// callCPUID executes CPUID (call_amd64.s).
func callCPUID(leaf, sub uint32) (a, b, c, d uint32)

// cpuHasRDTSCP reads CPUID leaf 0x80000001, EDX bit 27 (RDTSCP), after
// checking leaf 0x80000000 says that leaf exists (AMD64 APM vol. 3,
// appendix E; Intel SDM vol. 2A, CPUID). golang.org/x/sys/cpu reads the
// same leaf but does not export the bit. A hypervisor may hide the bit
// (this project's VM does), and then rdtscp raises #UD: SIGILL.
func cpuHasRDTSCP() bool {
	maxExt, _, _, _ := callCPUID(0x80000000, 0)
	if maxExt < 0x80000001 {
		return false
	}
	_, _, _, edx := callCPUID(0x80000001, 0)
	return edx&(1<<27) != 0
}
