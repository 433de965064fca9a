package probes

import (
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// Clock is one clock id that clock_gettime and clock_getres accept.
type Clock struct {
	Name string // without the CLOCK_ prefix, e.g. "MONOTONIC"
	ID   int32
}

// Clocks lists every clock id the kernel knows (include/uapi/linux/time.h),
// in id order: REALTIME 0 to TAI 11. Id 10 (CLOCK_SGI_CYCLE, removed in
// Linux 4.15) has no entry; the kernel answers EINVAL for it.
var Clocks = []Clock{
	{Name: "REALTIME", ID: unix.CLOCK_REALTIME},
	{Name: "MONOTONIC", ID: unix.CLOCK_MONOTONIC},
	{Name: "PROCESS_CPUTIME_ID", ID: unix.CLOCK_PROCESS_CPUTIME_ID},
	{Name: "THREAD_CPUTIME_ID", ID: unix.CLOCK_THREAD_CPUTIME_ID},
	{Name: "MONOTONIC_RAW", ID: unix.CLOCK_MONOTONIC_RAW},
	{Name: "REALTIME_COARSE", ID: unix.CLOCK_REALTIME_COARSE},
	{Name: "MONOTONIC_COARSE", ID: unix.CLOCK_MONOTONIC_COARSE},
	{Name: "BOOTTIME", ID: unix.CLOCK_BOOTTIME},
	{Name: "REALTIME_ALARM", ID: unix.CLOCK_REALTIME_ALARM},
	{Name: "BOOTTIME_ALARM", ID: unix.CLOCK_BOOTTIME_ALARM},
	{Name: "TAI", ID: unix.CLOCK_TAI},
}

// ClockNames returns the names of Clocks in order.
func ClockNames() []string {
	names := make([]string, len(Clocks))
	for i, c := range Clocks {
		names[i] = c.Name
	}
	return names
}

// ClockByName finds a clock by name, case-insensitively and with or without
// the CLOCK_ prefix. An unknown name gives an error listing the valid ones.
func ClockByName(name string) (Clock, error) {
	n := strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(name)), "CLOCK_")
	for _, c := range Clocks {
		if c.Name == n {
			return c, nil
		}
	}
	return Clock{}, fmt.Errorf("unknown clock %q (valid: %s)", name, strings.Join(ClockNames(), ", "))
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
