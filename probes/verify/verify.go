// Package verify checks that every path to the clock returns the same
// answer, as the kernel's selftests vdso_test_correctness.c and
// test_vsyscall.c (tools/testing/selftests/vDSO and .../x86) and Nathan
// Lynch's vdsotest do.
//
// Per function, the paths are read in the order syscall, vdso, vsyscall,
// syscall, and the results must be non-decreasing: a later read through
// any path may never be earlier than a previous one. Timezones, time()'s
// stored value and getcpu's answer (with the thread pinned) must agree;
// timespecs must be normalized (0 <= tv_nsec < 1e9); an invalid clock id
// must give EINVAL through the syscall and the vDSO alike. A path this
// process cannot call (vsyscall=none, no vDSO, no such entry) is reported
// as "skip" with the reason and never called.
package verify

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/vbench-dev/vbench/probes"
	"github.com/vbench-dev/vbench/runfile"
)

// Config controls a verification run.
type Config struct {
	CPU   int  // -1: the CPU the caller starts on
	Brief bool // fewer repetitions, for `vbench bench` and `vbench run`
	// Doors, if not nil, is used instead of calling probes.Discover (which
	// starts the vsyscall probe children).
	Doors *probes.Doors
}

// Repetitions of each ordered read sequence.
const (
	fullRounds  = 1000
	briefRounds = 20
)

// Check statuses.
const (
	Pass = "pass"
	Fail = "fail"
	Skip = "skip"
)

// InvalidClocks are the ids that must give EINVAL everywhere: the
// selftest's -1, INT_MIN and INT_MAX; 10, the hole left by CLOCK_SGI_CYCLE
// (removed in Linux 4.15), which vdso_test_correctness.c also reads as one
// of the ids 0 to 11 and probes.Clocks leaves out; and 12, one past
// CLOCK_TAI.
var InvalidClocks = []int32{-1, math.MinInt32, math.MaxInt32, 10, 12}

// Run performs every check.
func Run(cfg Config) *runfile.Verify {
	d := cfg.Doors
	if d == nil {
		d = probes.Discover()
	}
	rounds := fullRounds
	if cfg.Brief {
		rounds = briefRounds
	}
	v := &verifier{d: d, rounds: rounds}

	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var allowed unix.CPUSet
	unix.SchedGetaffinity(0, &allowed) // a failure shows in pin's error
	cpu, restore, pinErr := probes.Pin(cfg.CPU)
	if restore != nil {
		defer restore()
	}

	v.doors(cpu, pinErr)
	v.gettimeofday()
	v.time()
	v.getcpu(cpu, allowed, pinErr)
	for _, c := range probes.Clocks {
		v.clockGettime(c)
	}
	v.invalidClocks()
	for _, fn := range []probes.Func{probes.FuncClockGettime, probes.FuncClockGetres} {
		if _, err := d.Target(fn, probes.PathVsyscall); err != nil {
			v.add(fmt.Sprintf("%s via vsyscall", fn), Skip, "%v", err)
		}
	}
	for _, c := range probes.Clocks {
		v.clockGetres(c)
	}

	out := &runfile.Verify{Checks: v.checks, Passed: true}
	for _, c := range v.checks {
		if c.Status == Fail {
			out.Passed = false
		}
	}
	return out
}

type verifier struct {
	d      *probes.Doors
	rounds int
	checks []runfile.Check
}

func (v *verifier) add(name, status, format string, a ...any) {
	v.checks = append(v.checks, runfile.Check{Name: name, Status: status, Detail: fmt.Sprintf(format, a...)})
}

// paths returns the paths fn can be called through besides the syscall,
// in verify's order (vdso, vsyscall), after adding a skip check for each
// one that is unavailable.
func (v *verifier) paths(fn probes.Func) []probes.Path {
	var ps []probes.Path
	for _, p := range []probes.Path{probes.PathVDSO, probes.PathVsyscall} {
		_, err := v.d.Target(fn, p)
		if err == nil {
			ps = append(ps, p)
			continue
		}
		v.add(fmt.Sprintf("%s via %s", fn, p), Skip, "%v", err)
	}
	return ps
}

// orderName is "syscall <= vdso <= vsyscall <= syscall" for the paths used.
func orderName(ps []probes.Path) string {
	parts := []string{"syscall"}
	for _, p := range ps {
		parts = append(parts, string(p))
	}
	return strings.Join(append(parts, "syscall"), " <= ")
}

// doors reports what was found, so a reader sees why paths are skipped.
func (v *verifier) doors(cpu int, pinErr error) {
	d := v.d
	if d.VDSO != nil {
		v.add("vdso found", Pass, "%d symbols at %#x, read from the program headers", len(d.VDSO.Symbols()), d.VDSO.Base)
	} else {
		v.add("vdso found", Skip, "%v", d.VDSOErr)
	}
	o := d.Vsyscall
	switch {
	case d.VsyscallErr != nil:
		v.add("vsyscall mode confirmed", Skip, "probe failed: %v", d.VsyscallErr)
	case o.ModeSource == "probes":
		v.add("vsyscall mode confirmed", Pass, "mode %s inferred from the probes (no /proc/self/maps): read %s, call %s", o.Mode, o.ReadProbe, o.CallProbe)
	case o.Consistent():
		v.add("vsyscall mode confirmed", Pass, "maps say %s; child probes: read %s, call %s", o.Mode, o.ReadProbe, o.CallProbe)
	default:
		v.add("vsyscall mode confirmed", Fail, "maps say %s but child probes gave read %s, call %s", o.Mode, o.ReadProbe, o.CallProbe)
	}
	if pinErr != nil {
		v.add("pinned to one CPU", Fail, "%v", pinErr)
	} else {
		v.add("pinned to one CPU", Pass, "CPU %d", cpu)
	}
}

func (v *verifier) gettimeofday() {
	fn := probes.FuncGettimeofday
	ps := v.paths(fn)
	name := "gettimeofday: " + orderName(ps)
	var tz0 probes.Timezone
	tzName := "gettimeofday: timezone agrees"
	for r := 0; r < v.rounds; r++ {
		seq := append(append([]probes.Path{probes.PathSyscall}, ps...), probes.PathSyscall)
		var prev int64
		var prevPath probes.Path
		for i, p := range seq {
			tv, tz, err := v.d.Gettimeofday(p)
			if err != nil {
				v.add(name, Fail, "round %d, %s: %v", r, p, err)
				return
			}
			if tv.Usec < 0 || tv.Usec >= 1e6 {
				v.add(name, Fail, "round %d, %s: tv_usec %d not in [0, 1e6)", r, p, tv.Usec)
				return
			}
			us := tv.Sec*1e6 + tv.Usec
			if i > 0 && us < prev {
				v.add(name, Fail, "round %d: %s read %d.%06d after %s read %d.%06d", r, p, tv.Sec, tv.Usec, prevPath, prev/1e6, prev%1e6)
				return
			}
			if r == 0 && i == 0 {
				tz0 = tz
			} else if tz != tz0 && tzName != "" {
				v.add(tzName, Fail, "%s gave %+v, the syscall %+v", p, tz, tz0)
				tzName = ""
			}
			prev, prevPath = us, p
		}
	}
	v.add(name, Pass, "%d rounds, non-decreasing, tv_usec normalized", v.rounds)
	if tzName != "" {
		v.add(tzName, Pass, "minuteswest %d, dsttime %d through %s", tz0.Minuteswest, tz0.Dsttime, strings.Join(pathNames(ps), ", "))
	}
}

func pathNames(ps []probes.Path) []string {
	out := []string{"syscall"}
	for _, p := range ps {
		out = append(out, string(p))
	}
	return out
}

func (v *verifier) time() {
	fn := probes.FuncTime
	ps := v.paths(fn)
	name := "time: " + orderName(ps)
	storeName := "time: result equals the value stored through its pointer"
	for r := 0; r < v.rounds; r++ {
		seq := append(append([]probes.Path{probes.PathSyscall}, ps...), probes.PathSyscall)
		var prev int64
		var prevPath probes.Path
		for i, p := range seq {
			t, stored, err := v.d.TimeStore(p)
			if err != nil {
				v.add(name, Fail, "round %d, %s: %v", r, p, err)
				return
			}
			if t != stored && storeName != "" {
				v.add(storeName, Fail, "%s returned %d but stored %d", p, t, stored)
				storeName = ""
			}
			if i > 0 && t < prev {
				v.add(name, Fail, "round %d: %s read %d after %s read %d", r, p, t, prevPath, prev)
				return
			}
			prev, prevPath = t, p
		}
	}
	v.add(name, Pass, "%d rounds, non-decreasing", v.rounds)
	if storeName != "" {
		v.add(storeName, Pass, "through %s", strings.Join(pathNames(ps), ", "))
	}
}

func (v *verifier) getcpu(cpu int, allowed unix.CPUSet, pinErr error) {
	fn := probes.FuncGetcpu
	ps := v.paths(fn)
	name := "getcpu: " + strings.Join(pathNames(ps), ", ") + " agree when pinned"
	eachName := "getcpu: every allowed CPU, pinned in turn"
	if pinErr != nil {
		v.add(name, Skip, "not pinned: %v", pinErr)
		v.add(eachName, Skip, "not pinned: %v", pinErr)
		return
	}
	_, node0, err := v.d.Getcpu(probes.PathSyscall)
	if err != nil {
		v.add(name, Fail, "syscall: %v", err)
		return
	}
	if err := v.getcpuOn(cpu, node0, ps, v.rounds); err != nil {
		v.add(name, Fail, "%v", err)
		return
	}
	v.add(name, Pass, "cpu %d node %d, %d rounds", cpu, node0, v.rounds)

	// As test_vsyscall.c's test_getcpu: pinned to each allowed CPU in
	// turn, every path names that CPU (and one node per CPU, whatever the
	// syscall says). The thread goes back to cpu afterwards.
	var set unix.CPUSet
	defer func() { set.Zero(); set.Set(cpu); unix.SchedSetaffinity(0, &set) }()
	var checked []string
	for c := 0; c < len(allowed)*64; c++ {
		if !allowed.IsSet(c) {
			continue
		}
		set.Zero()
		set.Set(c)
		if unix.SchedSetaffinity(0, &set) != nil {
			continue // offline since the mask was read
		}
		_, node, err := v.d.Getcpu(probes.PathSyscall)
		if err == nil {
			err = v.getcpuOn(c, node, ps, 1)
		}
		if err != nil {
			v.add(eachName, Fail, "%v", err)
			return
		}
		checked = append(checked, fmt.Sprint(c))
	}
	v.add(eachName, Pass, "CPUs %s", strings.Join(checked, ","))
}

// getcpuOn checks, rounds times, that getcpu through the syscall and ps
// gives cpu and node on a thread pinned to cpu.
func (v *verifier) getcpuOn(cpu int, node uint32, ps []probes.Path, rounds int) error {
	for r := 0; r < rounds; r++ {
		for _, p := range append([]probes.Path{probes.PathSyscall}, ps...) {
			c, n, err := v.d.Getcpu(p)
			if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			if int(c) != cpu || n != node {
				return fmt.Errorf("pinned to CPU %d (node %d): %s says cpu %d node %d", cpu, node, p, c, n)
			}
		}
	}
	return nil
}

func less(a, b unix.Timespec) bool {
	return a.Sec < b.Sec || (a.Sec == b.Sec && a.Nsec < b.Nsec)
}

func normalized(t unix.Timespec) bool { return t.Nsec >= 0 && t.Nsec < 1e9 }

func fmtTS(t unix.Timespec) string { return fmt.Sprintf("%d.%09d", t.Sec, t.Nsec) }

// clockGettime: syscall <= vdso <= syscall for one clock, as
// vdso_test_correctness.c's test_one_clock_gettime; when the syscall says
// EINVAL (an ALARM clock without an RTC that can wake the machine,
// kernel/time/alarmtimer.c) the vDSO must say so too.
func (v *verifier) clockGettime(c probes.Clock) {
	fn := probes.FuncClockGettime
	var ps []probes.Path
	if _, err := v.d.Target(fn, probes.PathVDSO); err == nil {
		ps = append(ps, probes.PathVDSO)
	} else {
		v.add(fmt.Sprintf("clock_gettime %s via vdso", c.Name), Skip, "%v", err)
	}
	name := fmt.Sprintf("clock_gettime %s: %s", c.Name, orderName(ps))
	einval := 0
	for r := 0; r < v.rounds; r++ {
		seq := append(append([]probes.Path{probes.PathSyscall}, ps...), probes.PathSyscall)
		var prev unix.Timespec
		var prevPath probes.Path
		var firstErr error
		for i, p := range seq {
			ts, err := v.d.ClockGettime(p, c.ID)
			if i == 0 {
				firstErr = err
			}
			if !sameErr(err, firstErr) {
				v.add(name, Fail, "round %d: %s gave %v, the syscall %v", r, p, errText(err), errText(firstErr))
				return
			}
			if err != nil {
				continue
			}
			if !normalized(ts) {
				v.add(name, Fail, "round %d, %s: %s not normalized", r, p, fmtTS(ts))
				return
			}
			if i > 0 && less(ts, prev) {
				v.add(name, Fail, "round %d: %s read %s after %s read %s", r, p, fmtTS(ts), prevPath, fmtTS(prev))
				return
			}
			prev, prevPath = ts, p
		}
		if errors.Is(firstErr, unix.EINVAL) {
			einval++
		} else if firstErr != nil {
			v.add(name, Fail, "round %d: %v", r, firstErr)
			return
		}
	}
	if einval == v.rounds {
		v.add(name, Pass, "EINVAL through every path, as the syscall (no wake-capable RTC for an ALARM clock)")
		return
	}
	v.add(name, Pass, "%d rounds, non-decreasing, normalized", v.rounds)
}

func sameErr(a, b error) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	var ea, eb unix.Errno
	return errors.As(a, &ea) && errors.As(b, &eb) && ea == eb
}

func errText(err error) string {
	if err == nil {
		return "success"
	}
	var e unix.Errno
	if errors.As(err, &e) {
		return unix.ErrnoName(e)
	}
	return err.Error()
}

// invalidClocks: ids the kernel does not know give EINVAL through the
// syscall and the vDSO, for clock_gettime and clock_getres.
func (v *verifier) invalidClocks() {
	for _, fn := range []probes.Func{probes.FuncClockGettime, probes.FuncClockGetres} {
		ps := []probes.Path{probes.PathSyscall}
		if _, err := v.d.Target(fn, probes.PathVDSO); err == nil {
			ps = append(ps, probes.PathVDSO)
		}
		name := fmt.Sprintf("%s invalid ids %s: EINVAL through %s", fn, idList(), strings.Join(pathNamesOf(ps), " and "))
		ok := true
		for _, id := range InvalidClocks {
			for _, p := range ps {
				var err error
				if fn == probes.FuncClockGettime {
					_, err = v.d.ClockGettime(p, id)
				} else {
					_, err = v.d.ClockGetres(p, id)
				}
				if !errors.Is(err, unix.EINVAL) {
					v.add(name, Fail, "id %d via %s: %s", id, p, errText(err))
					ok = false
				}
			}
		}
		if ok {
			v.add(name, Pass, "%d ids, each through %d paths", len(InvalidClocks), len(ps))
		}
	}
}

func idList() string {
	s := make([]string, len(InvalidClocks))
	for i, id := range InvalidClocks {
		s[i] = fmt.Sprint(id)
	}
	return strings.Join(s, ", ")
}

func pathNamesOf(ps []probes.Path) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = string(p)
	}
	return out
}

// clockGetres: the vDSO gives the syscall's resolution (or its error).
func (v *verifier) clockGetres(c probes.Clock) {
	fn := probes.FuncClockGetres
	name := fmt.Sprintf("clock_getres %s: vdso agrees with syscall", c.Name)
	if _, err := v.d.Target(fn, probes.PathVDSO); err != nil {
		v.add(name, Skip, "%v", err)
		return
	}
	sys, serr := v.d.ClockGetres(probes.PathSyscall, c.ID)
	vd, verr := v.d.ClockGetres(probes.PathVDSO, c.ID)
	switch {
	case !sameErr(serr, verr):
		v.add(name, Fail, "syscall %s, vdso %s", errText(serr), errText(verr))
	case serr != nil:
		v.add(name, Pass, "%s from both", errText(serr))
	case sys != vd:
		v.add(name, Fail, "syscall %s s, vdso %s s", fmtTS(sys), fmtTS(vd))
	case !normalized(sys):
		v.add(name, Fail, "%s not normalized", fmtTS(sys))
	default:
		v.add(name, Pass, "%s s", fmtTS(sys))
	}
}
