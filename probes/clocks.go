package probes

import (
	"fmt"
	"os"

	"github.com/vbench-dev/vbench/runfile"
	"golang.org/x/sys/unix"
)

// Clock is one clock id that clock_gettime and clock_getres accept.
type Clock struct {
	Name runfile.Clock // without the CLOCK_ prefix, e.g. "MONOTONIC"
	ID   int32
	// Class is how lib/vdso/gettimeofday.c treats the id (the masks
	// VDSO_HRES, VDSO_COARSE, VDSO_RAW and VDSO_AUX of
	// include/vdso/datapage.h); a call's Fallback maps it to what the vDSO
	// does.
	Class ClockClass
	// EINVAL says why the kernel may refuse the id, where it may (the
	// ALARM clocks without an RTC, an auxiliary clock not enabled).
	EINVAL string
}

// ClockClass is how the generic vDSO treats a clock id.
type ClockClass int

const (
	ClassHres   ClockClass = iota // do_hres: read from the clocksource (VDSO_HRES, VDSO_RAW)
	ClassCoarse                   // do_coarse: the time stored at the last tick (VDSO_COARSE)
	ClassKernel                   // handed to the kernel at once (CPUTIME, ALARM)
	ClassAux                      // do_aux: the auxiliary clock's own data, if it is enabled (VDSO_AUX)
)

const (
	alarmEINVAL = "no wake-capable RTC for an ALARM clock"
	auxEINVAL   = "an auxiliary clock not enabled (/sys/kernel/time/aux_clocks/N/enable): ENODEV; a kernel without CONFIG_POSIX_AUX_CLOCKS (Linux 6.17+): EINVAL"
)

// clockAux is CLOCK_AUX (include/uapi/linux/time.h: MAX_CLOCKS, 16), which
// golang.org/x/sys/unix does not define; the 8 auxiliary clocks follow it.
const clockAux = 16

// Clocks lists every clock id the kernel knows (include/uapi/linux/time.h),
// in id order: REALTIME 0 to TAI 11, the names of runfile.Clocks (a test
// keeps the two in step). Id 10 (CLOCK_SGI_CYCLE, removed in Linux 4.15)
// has no entry; the kernel answers EINVAL for it.
var Clocks = []Clock{
	{Name: runfile.ClockRealtime, ID: unix.CLOCK_REALTIME},
	{Name: runfile.ClockMonotonic, ID: unix.CLOCK_MONOTONIC},
	{Name: runfile.ClockProcessCPUTimeID, ID: unix.CLOCK_PROCESS_CPUTIME_ID, Class: ClassKernel},
	{Name: runfile.ClockThreadCPUTimeID, ID: unix.CLOCK_THREAD_CPUTIME_ID, Class: ClassKernel},
	{Name: runfile.ClockMonotonicRaw, ID: unix.CLOCK_MONOTONIC_RAW},
	{Name: runfile.ClockRealtimeCoarse, ID: unix.CLOCK_REALTIME_COARSE, Class: ClassCoarse},
	{Name: runfile.ClockMonotonicCoarse, ID: unix.CLOCK_MONOTONIC_COARSE, Class: ClassCoarse},
	{Name: runfile.ClockBoottime, ID: unix.CLOCK_BOOTTIME},
	{Name: runfile.ClockRealtimeAlarm, ID: unix.CLOCK_REALTIME_ALARM, Class: ClassKernel, EINVAL: alarmEINVAL},
	{Name: runfile.ClockBoottimeAlarm, ID: unix.CLOCK_BOOTTIME_ALARM, Class: ClassKernel, EINVAL: alarmEINVAL},
	{Name: runfile.ClockTAI, ID: unix.CLOCK_TAI},
	{Name: runfile.ClockAux0, ID: clockAux + 0, Class: ClassAux, EINVAL: auxEINVAL},
	{Name: runfile.ClockAux1, ID: clockAux + 1, Class: ClassAux, EINVAL: auxEINVAL},
	{Name: runfile.ClockAux2, ID: clockAux + 2, Class: ClassAux, EINVAL: auxEINVAL},
	{Name: runfile.ClockAux3, ID: clockAux + 3, Class: ClassAux, EINVAL: auxEINVAL},
	{Name: runfile.ClockAux4, ID: clockAux + 4, Class: ClassAux, EINVAL: auxEINVAL},
	{Name: runfile.ClockAux5, ID: clockAux + 5, Class: ClassAux, EINVAL: auxEINVAL},
	{Name: runfile.ClockAux6, ID: clockAux + 6, Class: ClassAux, EINVAL: auxEINVAL},
	{Name: runfile.ClockAux7, ID: clockAux + 7, Class: ClassAux, EINVAL: auxEINVAL},
}

// ClockByName finds a clock by name, case-insensitively and with or without
// the CLOCK_ prefix. An unknown name gives an error listing the valid ones.
func ClockByName(name string) (Clock, error) {
	n, err := runfile.ParseClock(name)
	if err != nil {
		return Clock{}, err
	}
	if c, ok := ClockOf(n); ok {
		return c, nil
	}
	return Clock{}, fmt.Errorf("clock %s: no id known for it", n)
}

// ClockByID finds a clock by id.
func ClockByID(id int32) (Clock, bool) {
	for _, c := range Clocks {
		if c.ID == id {
			return c, true
		}
	}
	return Clock{}, false
}

// ClockOf finds a clock by its runfile name.
func ClockOf(name runfile.Clock) (Clock, bool) {
	for _, c := range Clocks {
		if c.Name == name {
			return c, true
		}
	}
	return Clock{}, false
}

// AuxClocksPresent reports whether the kernel has auxiliary clocks
// (CONFIG_POSIX_AUX_CLOCKS, Linux 6.17+): it lists them in
// /sys/kernel/time/aux_clocks (kernel/time/timekeeping.c).
func AuxClocksPresent() bool {
	_, err := os.Stat("/sys/kernel/time/aux_clocks")
	return err == nil
}

// cellClocks is the clocks c's cells take: those named, for a call that
// takes a clock id; one zero Clock, for one that does not.
func (c Call) cellClocks(names []runfile.Clock) []Clock {
	if !c.Clocked() {
		return []Clock{{}}
	}
	clocks := make([]Clock, 0, len(names))
	for _, n := range names {
		k, _ := ClockOf(n)
		clocks = append(clocks, k)
	}
	return clocks
}
