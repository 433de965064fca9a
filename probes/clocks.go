package probes

import (
	"fmt"

	"github.com/vbench-dev/vbench/runfile"
	"golang.org/x/sys/unix"
)

// Clock is one clock id that clock_gettime and clock_getres accept.
type Clock struct {
	Name runfile.Clock // without the CLOCK_ prefix, e.g. "MONOTONIC"
	ID   int32
}

// Clocks lists every clock id the kernel knows (include/uapi/linux/time.h),
// in id order: REALTIME 0 to TAI 11, the names of runfile.Clocks (a test
// keeps the two in step). Id 10 (CLOCK_SGI_CYCLE, removed in Linux 4.15)
// has no entry; the kernel answers EINVAL for it.
var Clocks = []Clock{
	{Name: runfile.ClockRealtime, ID: unix.CLOCK_REALTIME},
	{Name: runfile.ClockMonotonic, ID: unix.CLOCK_MONOTONIC},
	{Name: runfile.ClockProcessCPUTimeID, ID: unix.CLOCK_PROCESS_CPUTIME_ID},
	{Name: runfile.ClockThreadCPUTimeID, ID: unix.CLOCK_THREAD_CPUTIME_ID},
	{Name: runfile.ClockMonotonicRaw, ID: unix.CLOCK_MONOTONIC_RAW},
	{Name: runfile.ClockRealtimeCoarse, ID: unix.CLOCK_REALTIME_COARSE},
	{Name: runfile.ClockMonotonicCoarse, ID: unix.CLOCK_MONOTONIC_COARSE},
	{Name: runfile.ClockBoottime, ID: unix.CLOCK_BOOTTIME},
	{Name: runfile.ClockRealtimeAlarm, ID: unix.CLOCK_REALTIME_ALARM},
	{Name: runfile.ClockBoottimeAlarm, ID: unix.CLOCK_BOOTTIME_ALARM},
	{Name: runfile.ClockTAI, ID: unix.CLOCK_TAI},
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
