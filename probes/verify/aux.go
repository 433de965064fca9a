package verify

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/vbench-dev/vbench/probes"
	"github.com/vbench-dev/vbench/runfile"
)

// The auxiliary clocks (CLOCK_AUX, ids 16 to 23, Linux 6.17+) are checked
// like every clock of the registry where the kernel has them
// (probes.AuxClocksPresent: /sys/kernel/time/aux_clocks), enabled or not:
// an enabled one reads in order through every door, one not enabled gives
// the syscall's error through every door. Where the kernel lacks
// CONFIG_POSIX_AUX_CLOCKS the ids are not clocks, and lib/vdso still
// answers clock_getres for them: __cvdso_clock_getres_common maps every id
// of VDSO_AUX to aux_clock_resolution_ns() with no IS_ENABLED check
// (lib/vdso/gettimeofday.c, 6.17 to 7.3), while the syscall says EINVAL.
// That divergence is the kernel's, seen on every such kernel: verify
// records what it measured as information there instead of failing every
// run on Debian's kernels, which leave the option off.

// clocks are the registry's clocks verify checks here: every one, less
// the auxiliary clocks where the kernel has none.
func (v *verifier) clocks() []probes.Clock {
	var out []probes.Clock
	for _, c := range probes.Clocks {
		if c.Class == probes.ClassAux && !probes.AuxClocksPresent() {
			continue
		}
		out = append(out, c)
	}
	return out
}

// auxFinding, on a kernel without auxiliary clocks, reads AUX0 through the
// syscall and the vDSO with both calls and says what each gave.
func (v *verifier) auxFinding() {
	if probes.AuxClocksPresent() {
		return
	}
	c, _ := probes.ClockOf(runfile.ClockAux0)
	say := func(err error, ts unix.Timespec) string {
		if err != nil {
			return errText(err)
		}
		return fmtTS(ts) + " s"
	}
	var parts []string // "syscall: ...; vdso: ..."
	for _, p := range []runfile.Path{runfile.PathSyscall, runfile.PathVDSO} {
		if _, err := v.d.Target(runfile.FuncClockGettime, p); err != nil {
			continue
		}
		ts, err := v.d.ClockGettime(p, c.ID)
		res, rerr := v.d.ClockGetres(p, c.ID)
		parts = append(parts, fmt.Sprintf("%s: clock_gettime %s, clock_getres %s", p, say(err, ts), say(rerr, res)))
	}
	v.add("auxiliary clocks (ids 16-23)", runfile.StatusInfo,
		"this kernel has none (no /sys/kernel/time/aux_clocks): id %d through %s; lib/vdso answers clock_getres for these ids whatever the kernel's configuration", c.ID, strings.Join(parts, "; "))
}

// refused reports whether err is how the kernel refuses clock c: EINVAL
// for any clock it does not have (an ALARM clock without an RTC, an id the
// kernel lacks), ENODEV for an auxiliary clock that is not enabled
// (kernel/time/timekeeping.c, aux_get_timespec).
func refused(c probes.Clock, err error) bool {
	return errors.Is(err, unix.EINVAL) || (c.Class == probes.ClassAux && errors.Is(err, unix.ENODEV))
}
