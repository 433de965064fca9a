// Package verify checks that every path to the clock returns the same
// answer, as the kernel's selftests vdso_test_correctness.c and
// test_vsyscall.c (tools/testing/selftests/vDSO and .../x86) and Nathan
// Lynch's vdsotest do.
//
// Every call of the registry (probes.Calls) has one check function here
// (checks; a test keeps the two in step). Per clock function, the paths
// are read in the order syscall, vdso, vsyscall, syscall (runfile.Paths),
// and the results must be non-decreasing: a later read through any path
// may never be earlier than a previous one. Timezones, time()'s stored
// value and getcpu's answer (with the thread pinned) must agree; timespecs
// must be normalized (0 <= tv_nsec < 1e9); an invalid clock id must give
// EINVAL through the syscall and the vDSO alike; getrandom must give fresh
// bytes, and through the vDSO without falling back to the syscall. A path
// this process cannot call (vsyscall=none, no vDSO, no such symbol, a call
// the architecture lacks: the vsyscall page, time and the vDSO's getcpu on
// arm64) is reported as "skip" with the reason and never called; a call
// with no system call at all (time on arm64) is skipped on every path,
// since every check compares against the syscall; a path no kernel
// has (the vsyscall page's missing entries) is not a check at all. What
// verify finds out without testing it (the vDSO found, the CPU pinned to)
// goes to Verify.Info, not among the checks.
package verify

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/vbench-dev/vbench/probes"
	"github.com/vbench-dev/vbench/probes/vsyscall"
	"github.com/vbench-dev/vbench/runfile"
)

// Config controls a verification run.
type Config struct {
	CPU   int  // -1: the CPU the caller starts on
	Brief bool // fewer repetitions, for `vbench bench` and `vbench run`
	// Doors, if not nil, is used instead of calling probes.Discover (which
	// starts the vsyscall probe children).
	Doors *probes.Doors
	// Contexts are the contexts to check in besides plain, each in a
	// child placed there (contexts.go); nil: plain only.
	Contexts []runfile.Context

	// Tests' doubles: what the ordered checks read the time through (nil:
	// Doors) and what tells them the clock was set (nil: a realtimeWatch).
	reader timeReader
	watch  stepWatch
}

// timeReader is what the ordered checks read the time through:
// *probes.Doors, or a test's double.
type timeReader interface {
	Gettimeofday(p runfile.Path) (unix.Timeval, probes.Timezone, error)
	TimeStore(p runfile.Path) (result, stored int64, err error)
	ClockGettime(p runfile.Path, id int32) (unix.Timespec, error)
}

// Repetitions of each ordered read sequence.
const (
	fullRounds  = 1000
	briefRounds = 20
)

// checks is each call's check, keyed by the registry's function.
var checks = map[runfile.Function]func(*verifier){
	runfile.FuncGettimeofday: (*verifier).gettimeofday,
	runfile.FuncTime:         (*verifier).time,
	runfile.FuncClockGettime: (*verifier).clockGettime,
	runfile.FuncClockGetres:  (*verifier).clockGetres,
	runfile.FuncGetcpu:       (*verifier).getcpu,
	runfile.FuncGetrandom:    (*verifier).getrandom,
}

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
	v := &verifier{d: d, r: cfg.reader, watch: cfg.watch, rounds: rounds}
	if v.r == nil {
		v.r = d
	}
	if v.watch == nil {
		w := newRealtimeWatch()
		defer w.close()
		v.watch = w
	}

	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var allowed unix.CPUSet
	unix.SchedGetaffinity(0, &allowed) // a failure shows in pin's error
	cpu, restore, pinErr := probes.Pin(cfg.CPU)
	if restore != nil {
		defer restore()
	}

	d, release := probes.WithRseq(d) // getcpu's rseq path reads this thread's area
	defer release()
	v.d = d
	v.cpu, v.allowed, v.pinErr = cpu, allowed, pinErr
	v.doors()
	for _, c := range probes.Calls {
		check, ok := checks[c.Func]
		if !ok {
			v.add(string(c.Func), runfile.StatusFail, "no check in package verify for this call")
			continue
		}
		if v.noSyscall(c) {
			continue
		}
		check(v)
	}

	v.add("clock steps", runfile.StatusInfo, "%d seen during rounds of the wall clocks; CLOCK_REALTIME %s", v.steps, v.watch.how())
	out := &runfile.Verify{Checks: v.checks, Info: v.info, Passed: true, ClockSteps: v.steps}
	inContexts(cfg.Contexts, cpu, cfg.Brief, d, out)
	_, failed := out.Counts()
	out.Passed = len(failed) == 0
	return out
}

type verifier struct {
	d      *probes.Doors
	r      timeReader
	watch  stepWatch
	steps  int // rounds taken again because CLOCK_REALTIME was set
	rounds int
	checks []runfile.Check
	info   []runfile.Check

	cpu     int // the CPU pinned to
	allowed unix.CPUSet
	pinErr  error
}

func (v *verifier) add(name string, status runfile.Status, format string, a ...any) {
	c := runfile.Check{Name: name, Status: status, Detail: fmt.Sprintf(format, a...)}
	if status == runfile.StatusInfo {
		v.info = append(v.info, c)
		return
	}
	v.checks = append(v.checks, c)
}

// paths returns the paths fn can be called through besides the syscall,
// in the order of runfile.Paths, after adding a skip check named
// "LABEL via PATH" for each one this process cannot call. A path no
// kernel offers fn through is left out silently: it is no check.
func (v *verifier) paths(fn runfile.Function, label string) []runfile.Path {
	c, _ := probes.CallOf(fn)
	var ps []runfile.Path
	for _, p := range runfile.Paths {
		if p == runfile.PathSyscall || !c.Has(p) {
			continue
		}
		_, err := v.d.Target(fn, p)
		if err == nil {
			ps = append(ps, p)
			continue
		}
		v.add(fmt.Sprintf("%s via %s", label, p), runfile.StatusSkip, "%v", err)
	}
	return ps
}

// noSyscall reports whether c has no system call on this architecture
// (time on arm64) and, if so, adds a skip for every path of c: each check
// reads the syscall first, as the selftests do, so without it there is
// nothing to compare the other paths with.
func (v *verifier) noSyscall(c probes.Call) bool {
	_, err := v.d.Target(c.Func, runfile.PathSyscall)
	if err == nil {
		return false
	}
	for _, p := range runfile.Paths {
		if !c.Has(p) {
			continue
		}
		why := err
		if p != runfile.PathSyscall {
			if _, perr := v.d.Target(c.Func, p); perr != nil {
				why = perr
			}
		}
		v.add(fmt.Sprintf("%s via %s", c.Func, p), runfile.StatusSkip, "%v", why)
	}
	return true
}

// orderName is "syscall <= vdso <= vsyscall <= syscall" for the paths used.
func orderName(ps []runfile.Path) string {
	parts := []string{"syscall"}
	for _, p := range ps {
		parts = append(parts, string(p))
	}
	return strings.Join(append(parts, "syscall"), " <= ")
}

// doors reports what was found, so a reader sees why paths are skipped.
// Only the vsyscall mode is a check (maps against the child probes); the
// rest is information, or a failure when pinning failed.
func (v *verifier) doors() {
	d := v.d
	if d.VDSO != nil {
		v.add("vdso found", runfile.StatusInfo, "%d symbols at %#x, read from the program headers", len(d.VDSO.Symbols()), d.VDSO.Base)
	} else {
		v.add("vdso found", runfile.StatusInfo, "no: %v", d.VDSOErr)
	}
	o := d.Vsyscall
	switch {
	case d.VsyscallErr != nil:
		v.add("vsyscall mode confirmed", runfile.StatusSkip, "probe failed: %v", d.VsyscallErr)
	case o.Mode == vsyscall.Absent:
		v.add("vsyscall mode", runfile.StatusInfo, "%s", vsyscall.AbsentReason)
	case o.ModeSource == "probes":
		v.add("vsyscall mode", runfile.StatusInfo, "%s, inferred from the probes (no /proc/self/maps to confirm it with): read %s, call %s", o.Mode, o.ReadProbe, o.CallProbe)
	case o.Consistent():
		v.add("vsyscall mode confirmed", runfile.StatusPass, "maps say %s; child probes: read %s, call %s", o.Mode, o.ReadProbe, o.CallProbe)
	default:
		v.add("vsyscall mode confirmed", runfile.StatusFail, "maps say %s but child probes gave read %s, call %s", o.Mode, o.ReadProbe, o.CallProbe)
	}
	if v.pinErr != nil {
		v.add("pinned to one CPU", runfile.StatusFail, "%v", v.pinErr)
	} else {
		v.add("pinned to one CPU", runfile.StatusInfo, "CPU %d", v.cpu)
	}
}

func (v *verifier) gettimeofday() {
	fn := runfile.FuncGettimeofday
	ps := v.paths(fn, string(fn))
	name := "gettimeofday: " + orderName(ps)
	var tz0 probes.Timezone
	tzName := "gettimeofday: timezone agrees"
	first := true
	o := v.eachRound(true, func(r int) string {
		seq := append(append([]runfile.Path{runfile.PathSyscall}, ps...), runfile.PathSyscall)
		var prev int64
		var prevPath runfile.Path
		for i, p := range seq {
			tv, tz, err := v.r.Gettimeofday(p)
			if err != nil {
				return fmt.Sprintf("round %d, %s: %v", r, p, err)
			}
			if tv.Usec < 0 || tv.Usec >= 1e6 {
				return fmt.Sprintf("round %d, %s: tv_usec %d not in [0, 1e6)", r, p, tv.Usec)
			}
			us := tv.Sec*1e6 + tv.Usec
			if i > 0 && us < prev {
				return fmt.Sprintf("round %d: %s read %d.%06d after %s read %d.%06d", r, p, tv.Sec, tv.Usec, prevPath, prev/1e6, prev%1e6)
			}
			if first {
				tz0, first = tz, false
			} else if tz != tz0 && tzName != "" {
				v.add(tzName, runfile.StatusFail, "%s gave %+v, the syscall %+v", p, tz, tz0)
				tzName = ""
			}
			prev, prevPath = us, p
		}
		return ""
	})
	v.finish(name, o, fmt.Sprintf("%d rounds, non-decreasing, tv_usec normalized", v.rounds))
	if o.fail != "" || o.gaveUp {
		return
	}
	if tzName != "" {
		v.add(tzName, runfile.StatusPass, "minuteswest %d, dsttime %d through %s", tz0.Minuteswest, tz0.Dsttime, strings.Join(pathNames(ps), ", "))
	}
}

func pathNames(ps []runfile.Path) []string {
	out := []string{"syscall"}
	for _, p := range ps {
		out = append(out, string(p))
	}
	return out
}

func (v *verifier) time() {
	fn := runfile.FuncTime
	ps := v.paths(fn, string(fn))
	name := "time: " + orderName(ps)
	storeName := "time: result equals the value stored through its pointer"
	o := v.eachRound(true, func(r int) string {
		seq := append(append([]runfile.Path{runfile.PathSyscall}, ps...), runfile.PathSyscall)
		var prev int64
		var prevPath runfile.Path
		for i, p := range seq {
			t, stored, err := v.r.TimeStore(p)
			if err != nil {
				return fmt.Sprintf("round %d, %s: %v", r, p, err)
			}
			if t != stored && storeName != "" {
				v.add(storeName, runfile.StatusFail, "%s returned %d but stored %d", p, t, stored)
				storeName = ""
			}
			if i > 0 && t < prev {
				return fmt.Sprintf("round %d: %s read %d after %s read %d", r, p, t, prevPath, prev)
			}
			prev, prevPath = t, p
		}
		return ""
	})
	v.finish(name, o, fmt.Sprintf("%d rounds, non-decreasing", v.rounds))
	if o.fail != "" || o.gaveUp {
		return
	}
	if storeName != "" {
		v.add(storeName, runfile.StatusPass, "through %s", strings.Join(pathNames(ps), ", "))
	}
}

func (v *verifier) getcpu() {
	cpu, allowed, pinErr := v.cpu, v.allowed, v.pinErr
	fn := runfile.FuncGetcpu
	ps := v.paths(fn, string(fn))
	name := "getcpu: " + strings.Join(pathNames(ps), ", ") + " agree when pinned"
	eachName := "getcpu: every allowed CPU, pinned in turn"
	if pinErr != nil {
		v.add(name, runfile.StatusSkip, "not pinned: %v", pinErr)
		v.add(eachName, runfile.StatusSkip, "not pinned: %v", pinErr)
		return
	}
	_, node0, err := v.d.Getcpu(runfile.PathSyscall)
	if err != nil {
		v.add(name, runfile.StatusFail, "syscall: %v", err)
		return
	}
	if err := v.getcpuOn(cpu, node0, ps, v.rounds); err != nil {
		v.add(name, runfile.StatusFail, "%v", err)
		return
	}
	v.add(name, runfile.StatusPass, "cpu %d node %d, %d rounds%s", cpu, node0, v.rounds, v.rseqNode(ps))

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
		_, node, err := v.d.Getcpu(runfile.PathSyscall)
		if err == nil {
			err = v.getcpuOn(c, node, ps, 1)
		}
		if err != nil {
			v.add(eachName, runfile.StatusFail, "%v", err)
			return
		}
		checked = append(checked, fmt.Sprint(c))
	}
	v.add(eachName, runfile.StatusPass, "CPUs %s", strings.Join(checked, ","))
}

// rseqNode says, when ps holds rseq, whether its node_id was compared.
func (v *verifier) rseqNode(ps []runfile.Path) string {
	if !slices.Contains(ps, runfile.PathRseq) {
		return ""
	}
	if v.d.RseqNode {
		return "; rseq cpu_id and node_id compared"
	}
	return "; rseq cpu_id compared, node_id not (the kernel fills it since Linux 6.3: AT_RSEQ_FEATURE_SIZE)"
}

// getcpuOn checks, rounds times, that getcpu through the syscall and ps
// gives cpu and node on a thread pinned to cpu.
func (v *verifier) getcpuOn(cpu int, node uint32, ps []runfile.Path, rounds int) error {
	for r := 0; r < rounds; r++ {
		for _, p := range append([]runfile.Path{runfile.PathSyscall}, ps...) {
			c, n, err := v.d.Getcpu(p)
			if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			if p == runfile.PathRseq && !v.d.RseqNode {
				n = node // node_id is not filled before Linux 6.3: cpu_id alone
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

// clockGettime checks every clock, then the invalid ids.
func (v *verifier) clockGettime() {
	for _, c := range v.clocks() {
		v.clockGettimeOne(c)
	}
	v.invalidClocks(runfile.FuncClockGettime)
}

// clockGettimeOne: syscall <= vdso <= syscall for one clock, as
// vdso_test_correctness.c's test_one_clock_gettime; when the syscall says
// EINVAL (an ALARM clock without an RTC that can wake the machine,
// kernel/time/alarmtimer.c) the vDSO must say so too.
func (v *verifier) clockGettimeOne(c probes.Clock) {
	fn := runfile.FuncClockGettime
	ps := v.paths(fn, fmt.Sprintf("%s %s", fn, c.Name))
	name := fmt.Sprintf("clock_gettime %s: %s", c.Name, orderName(ps))
	einvalOnly := true
	var refusal error
	o := v.eachRound(wallClock(c.ID), func(r int) string {
		seq := append(append([]runfile.Path{runfile.PathSyscall}, ps...), runfile.PathSyscall)
		var prev unix.Timespec
		var prevPath runfile.Path
		var firstErr error
		for i, p := range seq {
			ts, err := v.r.ClockGettime(p, c.ID)
			if i == 0 {
				firstErr = err
			}
			if !sameErr(err, firstErr) {
				return fmt.Sprintf("round %d: %s gave %v, the syscall %v", r, p, errText(err), errText(firstErr))
			}
			if err != nil {
				continue
			}
			if !normalized(ts) {
				return fmt.Sprintf("round %d, %s: %s not normalized", r, p, fmtTS(ts))
			}
			if i > 0 && less(ts, prev) {
				return fmt.Sprintf("round %d: %s read %s after %s read %s", r, p, fmtTS(ts), prevPath, fmtTS(prev))
			}
			prev, prevPath = ts, p
		}
		if !refused(c, firstErr) {
			einvalOnly = false
		}
		refusal = firstErr
		if firstErr != nil && !refused(c, firstErr) {
			return fmt.Sprintf("round %d: %v", r, firstErr)
		}
		return ""
	})
	if o.fail == "" && !o.gaveUp && einvalOnly {
		v.add(name, runfile.StatusPass, "%s through every path, as the syscall (%s)", errText(refusal), c.EINVAL)
		return
	}
	v.finish(name, o, fmt.Sprintf("%d rounds, non-decreasing, normalized", v.rounds))
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

// invalidClocks: ids the kernel does not know give EINVAL from fn (a call
// that takes a clock id) through the syscall and every other path.
func (v *verifier) invalidClocks(fn runfile.Function) {
	ps := []runfile.Path{runfile.PathSyscall}
	for _, p := range runfile.Paths[1:] {
		if _, err := v.d.Target(fn, p); err == nil {
			ps = append(ps, p)
		}
	}
	name := fmt.Sprintf("%s invalid ids %s: EINVAL through %s", fn, idList(), strings.Join(pathNamesOf(ps), " and "))
	ok := true
	for _, id := range InvalidClocks {
		for _, p := range ps {
			_, err := v.d.Call(fn, p, id)
			if !errors.Is(err, unix.EINVAL) {
				v.add(name, runfile.StatusFail, "id %d via %s: %s", id, p, errText(err))
				ok = false
			}
		}
	}
	if ok {
		v.add(name, runfile.StatusPass, "%d ids, each through %d paths", len(InvalidClocks), len(ps))
	}
}

func idList() string {
	s := make([]string, len(InvalidClocks))
	for i, id := range InvalidClocks {
		s[i] = fmt.Sprint(id)
	}
	return strings.Join(s, ", ")
}

func pathNamesOf(ps []runfile.Path) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = string(p)
	}
	return out
}

// clockGetres checks every clock, then the invalid ids.
func (v *verifier) clockGetres() {
	for _, c := range v.clocks() {
		v.clockGetresOne(c)
	}
	v.auxFinding()
	v.invalidClocks(runfile.FuncClockGetres)
}

// clockGetresOne: every other path gives the syscall's resolution (or its
// error).
func (v *verifier) clockGetresOne(c probes.Clock) {
	fn := runfile.FuncClockGetres
	ps := v.paths(fn, fmt.Sprintf("%s %s", fn, c.Name))
	if len(ps) == 0 {
		return // the skips say why
	}
	name := fmt.Sprintf("clock_getres %s: %s agrees with syscall", c.Name, strings.Join(pathNamesOf(ps), ", "))
	sys, serr := v.d.ClockGetres(runfile.PathSyscall, c.ID)
	for _, p := range ps {
		got, err := v.d.ClockGetres(p, c.ID)
		switch {
		case !sameErr(serr, err):
			v.add(name, runfile.StatusFail, "syscall %s, %s %s", errText(serr), p, errText(err))
			return
		case serr == nil && sys != got:
			v.add(name, runfile.StatusFail, "syscall %s s, %s %s s", fmtTS(sys), p, fmtTS(got))
			return
		}
	}
	switch {
	case serr != nil:
		v.add(name, runfile.StatusPass, "%s from every path", errText(serr))
	case !normalized(sys):
		v.add(name, runfile.StatusFail, "%s not normalized", fmtTS(sys))
	default:
		v.add(name, runfile.StatusPass, "%s s", fmtTS(sys))
	}
}

// getrandom: every path gives RandomLen bytes that change from call to
// call and are not all zero, and the vDSO serves the calls from its opaque
// state (set up as the kernel's vdso_test_getrandom.c does): it writes
// that state each time, which its fallback to the syscall never does
// (lib/vdso/getrandom.c). So a passing vDSO check means no syscall was
// made for the bytes, short of a reseed, which the state also records.
func (v *verifier) getrandom() {
	fn := runfile.FuncGetrandom
	ps := append([]runfile.Path{runfile.PathSyscall}, v.paths(fn, string(fn))...)
	for _, p := range ps {
		name := fmt.Sprintf("getrandom via %s: %d fresh random bytes per call", p, probes.RandomLen)
		stateName := ""
		if p != runfile.PathSyscall {
			stateName = fmt.Sprintf("getrandom via %s: served from its state, without the syscall", p)
		}
		var prev [probes.RandomLen]byte
		ok := true
		for r := 0; r <= v.rounds && ok; r++ {
			rep, err := v.d.Call(fn, p, 0)
			switch {
			case err != nil:
				v.add(name, runfile.StatusFail, "call %d: %v", r, err)
				ok = false
			case rep.R != probes.RandomLen:
				v.add(name, runfile.StatusFail, "call %d returned %d, want %d", r, int64(rep.R), probes.RandomLen)
				ok = false
			case rep.Random == [probes.RandomLen]byte{}:
				v.add(name, runfile.StatusFail, "call %d gave %d zero bytes", r, probes.RandomLen)
				ok = false
			case r > 0 && rep.Random == prev:
				v.add(name, runfile.StatusFail, "calls %d and %d gave the same bytes %x", r-1, r, prev)
				ok = false
			}
			if ok && stateName != "" && !rep.StateWritten {
				v.add(stateName, runfile.StatusFail, "call %d left the opaque state unchanged: the vDSO fell back to the syscall", r)
				stateName = ""
			}
			prev = rep.Random
		}
		if !ok {
			continue
		}
		v.add(name, runfile.StatusPass, "%d calls, each returned %d, consecutive ones differ, none all zero", v.rounds+1, probes.RandomLen)
		if stateName != "" {
			v.add(stateName, runfile.StatusPass, "each of %d calls changed the opaque state, which the fallback to the syscall never touches", v.rounds+1)
		}
	}
}

// InContext runs the checks in a context child (probes.ContextVerifier):
// every check, with the child's doors, pinned to cpu.
