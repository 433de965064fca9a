package probes

import (
	"fmt"

	"github.com/vbench-dev/vbench/probes/vdso"
	"github.com/vbench-dev/vbench/probes/vsyscall"
)

// Doors is what this process can call, decided before anything risky is
// called: the vDSO image and its symbols, the vsyscall mode confirmed in
// child processes, and whether the CPU has rdtscp.
type Doors struct {
	VDSO    *vdso.Image // nil when there is none; VDSOErr says why
	VDSOErr error

	Vsyscall    vsyscall.Observed
	VsyscallErr error
	// VsyscallCallable is true only when the mode says calls work and the
	// child's call probe confirmed it.
	VsyscallCallable bool

	// RDTSCP is true when the CPU has rdtscp (x86-64 only; always false
	// elsewhere).
	RDTSCP bool

	// RseqErr says why this process cannot register an rseq area (nil:
	// it can; rseq.go), and RseqNode whether the kernel fills its node_id
	// (Linux 6.3+, AT_RSEQ_FEATURE_SIZE).
	RseqErr  error
	RseqNode bool
}

// Discover finds the doors. It starts child processes to confirm the
// vsyscall mode (see vsyscall.Probe), so the program's main (or TestMain)
// must call RunChild first.
func Discover() *Doors {
	d := &Doors{}
	d.VDSO, d.VDSOErr = vdso.Open()
	d.Vsyscall, d.VsyscallErr = vsyscall.Probe()
	d.VsyscallCallable = d.VsyscallErr == nil && d.Vsyscall.Callable()
	d.RDTSCP = cpuHasRDTSCP()
	d.RseqErr = probeRseq()
	d.RseqNode = rseqNodeFilled()
	return d
}

// VDSOFunc returns the address of a vDSO function, e.g.
// "__vdso_clock_gettime" ("__kernel_clock_gettime" on arm64), if the vDSO
// exports it.
func (d *Doors) VDSOFunc(name string) (uintptr, bool) {
	if d.VDSO == nil {
		return 0, false
	}
	return d.VDSO.Lookup(name)
}

// vsyscallReason says why the vsyscall page is not callable in this
// process: the one wording bench cells and single calls both use.
func (d *Doors) vsyscallReason() string {
	o := d.Vsyscall
	switch {
	case o.Mode == vsyscall.Absent:
		return vsyscall.AbsentReason
	case o.Mode == "" && d.VsyscallErr != nil:
		return "vsyscall mode unknown: " + d.VsyscallErr.Error()
	case o.Mode == "":
		return "vsyscall mode unknown"
	case !o.Mode.Callable():
		return "vsyscall=" + string(o.Mode)
	case d.VsyscallErr != nil:
		return fmt.Sprintf("vsyscall=%s, but the probe failed: %v", o.Mode, d.VsyscallErr)
	case o.CallProbe != "" && o.CallProbe != "ok":
		return fmt.Sprintf("vsyscall=%s, but the call probe got %s", o.Mode, o.CallProbe)
	}
	return fmt.Sprintf("vsyscall=%s, call not confirmed", o.Mode)
}
