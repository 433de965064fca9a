package probes

import (
	"errors"
	"fmt"
	"strings"
	"unsafe"

	"github.com/vbench-dev/vbench/internal/field"
	"golang.org/x/sys/unix"
)

// Pinning the timed thread to one CPU: bench, verify and every command's
// --cpu check go through these.

// ErrBadCPU is wrapped when --cpu names a CPU this process may not run on.
var ErrBadCPU = errors.New("CPU not available")

// Pin pins the calling thread, which must be locked to its goroutine
// (runtime.LockOSThread), to cpu, or to the CPU it is on when cpu < 0. It
// returns the CPU and a function restoring the old affinity. A CPU the
// process may not run on is an error wrapping ErrBadCPU.
func Pin(cpu int) (int, func(), error) {
	var old unix.CPUSet
	if err := unix.SchedGetaffinity(0, &old); err != nil {
		return 0, nil, fmt.Errorf("sched_getaffinity: %w", err)
	}
	if cpu < 0 {
		var c, node uint32
		if _, _, e := unix.RawSyscall(unix.SYS_GETCPU, uintptr(unsafe.Pointer(&c)), uintptr(unsafe.Pointer(&node)), 0); e != 0 {
			return 0, nil, fmt.Errorf("getcpu: %w", e)
		}
		cpu = int(c)
	}
	if err := allowedCPU(cpu, &old); err != nil {
		return 0, nil, err
	}
	var set unix.CPUSet
	set.Set(cpu)
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		return 0, nil, field.Errorf(ErrBadCPU, "CPU", cpu, "sched_setaffinity: %v", err)
	}
	return cpu, func() { unix.SchedSetaffinity(0, &old) }, nil
}

// CheckCPU reports, before any work, whether this process may run on cpu
// (an error wrapping ErrBadCPU if not). A negative cpu means "wherever it
// starts" and is always allowed.
func CheckCPU(cpu int) error {
	if cpu < 0 {
		return nil
	}
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return fmt.Errorf("sched_getaffinity: %w", err)
	}
	return allowedCPU(cpu, &set)
}

func allowedCPU(cpu int, set *unix.CPUSet) error {
	if cpu >= len(set)*64 || !set.IsSet(cpu) {
		return field.Errorf(ErrBadCPU, "CPU", cpu, "not a CPU this process may run on (allowed: %s)", cpuList(set))
	}
	return nil
}

func cpuList(s *unix.CPUSet) string {
	var l []string
	for i := 0; i < len(s)*64; i++ {
		if s.IsSet(i) {
			l = append(l, fmt.Sprint(i))
		}
	}
	return strings.Join(l, ",")
}
