package verify

import (
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vbench-dev/vbench/probes"
	"github.com/vbench-dev/vbench/runfile"
)

// earlierVDSO is a test double of the doors: it reads every clock through
// the real syscall, except that on the rounds in bad (counted per clock by
// the reads of REALTIME, or MONOTONIC) the vDSO answer is a second earlier:
// the violation a kernel bug (or a step between the reads) would give.
type earlierVDSO struct {
	*probes.Doors
	clock int32
	bad   map[int]bool
	reads int // vDSO reads of clock so far: one per round
}

func (e *earlierVDSO) ClockGettime(p runfile.Path, id int32) (unix.Timespec, error) {
	if p == runfile.PathVDSO {
		p = runfile.PathSyscall // the double needs no vDSO on the machine
		if id == e.clock {
			round := e.reads
			e.reads++
			ts, err := e.Doors.ClockGettime(p, id)
			if e.bad[round] {
				ts.Sec--
			}
			return ts, err
		}
	}
	return e.Doors.ClockGettime(p, id)
}

// fakeWatch says the clock was set during the rounds in steps (counted by
// begin), and never otherwise.
type fakeWatch struct {
	steps map[int]bool
	round int
}

func (f *fakeWatch) begin()        { f.round++ }
func (f *fakeWatch) stepped() bool { return f.steps[f.round-1] }
func (f *fakeWatch) how() string   { return "a test double" }
func (f *fakeWatch) close()        {}

func checkNamed(t *testing.T, v *runfile.Verify, prefix string) runfile.Check {
	t.Helper()
	for _, c := range v.Checks {
		if strings.HasPrefix(c.Name, prefix) {
			return c
		}
	}
	t.Fatalf("no check %q...", prefix)
	return runfile.Check{}
}

// TestEarlierTimeFails: a vDSO that returns an earlier time than the
// syscall before it fails, when no step was seen, on a wall clock and on
// MONOTONIC alike.
func TestEarlierTimeFails(t *testing.T) {
	d := probes.Discover()
	for _, clock := range []probes.Clock{{Name: "REALTIME", ID: unix.CLOCK_REALTIME}, {Name: "MONOTONIC", ID: unix.CLOCK_MONOTONIC}} {
		dbl := &earlierVDSO{Doors: d, clock: clock.ID, bad: map[int]bool{3: true}}
		v := Run(Config{CPU: -1, Brief: true, Doors: d, reader: dbl, watch: &fakeWatch{}})
		c := checkNamed(t, v, "clock_gettime "+string(clock.Name)+":")
		if c.Status != runfile.StatusFail || !strings.Contains(c.Detail, "round 3") {
			t.Errorf("%s: got %s %q, want a failure in round 3", clock.Name, c.Status, c.Detail)
		}
		if v.Passed || v.ClockSteps != 0 {
			t.Errorf("%s: Passed %v, ClockSteps %d", clock.Name, v.Passed, v.ClockSteps)
		}
	}
}

// TestSteppedRoundRetried: the same earlier time in a round during which
// the clock was set is a step: the round is taken again, the check passes
// and says so, and the run counts the step.
func TestSteppedRoundRetried(t *testing.T) {
	d := probes.Discover()
	if _, err := d.Target(runfile.FuncClockGettime, runfile.PathVDSO); err != nil {
		// The double only needs the vDSO path to be listed.
		t.Skipf("no vDSO clock_gettime here: %v", err)
	}
	dbl := &earlierVDSO{Doors: d, clock: unix.CLOCK_REALTIME, bad: map[int]bool{3: true, 7: true}}
	// The watch counts every wall round of the run: gettimeofday's and
	// time's come before clock_gettime REALTIME's (probes.Calls order), so
	// the steps are named by the double's rounds, found by probing.
	w := &stepAt{reader: dbl, bad: dbl.bad}
	v := Run(Config{CPU: -1, Brief: true, Doors: d, reader: dbl, watch: w})
	c := checkNamed(t, v, "clock_gettime REALTIME:")
	if c.Status != runfile.StatusPass || !strings.Contains(c.Detail, "2 rounds taken again") {
		t.Errorf("got %s %q, want a pass with 2 rounds taken again", c.Status, c.Detail)
	}
	if v.ClockSteps != 2 || !v.Passed {
		t.Errorf("ClockSteps %d, Passed %v; want 2, true", v.ClockSteps, v.Passed)
	}
	// A step does not excuse MONOTONIC.
	dbl = &earlierVDSO{Doors: d, clock: unix.CLOCK_MONOTONIC, bad: map[int]bool{3: true}}
	w = &stepAt{reader: dbl, bad: dbl.bad, always: true}
	v = Run(Config{CPU: -1, Brief: true, Doors: d, reader: dbl, watch: w})
	if c := checkNamed(t, v, "clock_gettime MONOTONIC:"); c.Status != runfile.StatusFail {
		t.Errorf("MONOTONIC with a step: got %s %q, want a failure", c.Status, c.Detail)
	}
}

// stepAt is a watch that says the clock was set during the rounds in
// which the double gave its earlier time (always: during every round).
type stepAt struct {
	reader *earlierVDSO
	bad    map[int]bool
	always bool
	before int
}

func (s *stepAt) begin() { s.before = s.reader.reads }
func (s *stepAt) stepped() bool {
	return s.always || (s.reader.reads > s.before && s.bad[s.before])
}
func (s *stepAt) how() string { return "a test double" }
func (s *stepAt) close()      {}

// TestClockStepsGiveUp: a clock set during every round skips the check
// with the reason, rather than passing or failing it.
func TestClockStepsGiveUp(t *testing.T) {
	d := probes.Discover()
	dbl := &earlierVDSO{Doors: d, clock: unix.CLOCK_REALTIME}
	v := Run(Config{CPU: -1, Brief: true, Doors: d, reader: dbl, watch: &stepAt{reader: dbl, always: true}})
	c := checkNamed(t, v, "clock_gettime REALTIME:")
	if c.Status != runfile.StatusSkip || !strings.Contains(c.Detail, "no round completed without a step") {
		t.Errorf("got %s %q", c.Status, c.Detail)
	}
}

// TestRealtimeWatchSeesASet sets CLOCK_REALTIME to what it already is (a
// set all the same, which cancels the timerfd) where the process may; the
// offset bracket alone must not see a step in a quiet round.
func TestRealtimeWatchSeesASet(t *testing.T) {
	w := newRealtimeWatch()
	defer w.close()
	t.Logf("watch: %s", w.how())
	quiet := 0
	for range 100 {
		w.begin()
		time.Sleep(time.Millisecond)
		if w.stepped() {
			quiet++
		}
	}
	if quiet > 0 {
		// Someone else may set the clock (an NTP daemon stepping): rare.
		t.Logf("%d of 100 quiet rounds saw a step (the machine's clock was set meanwhile?)", quiet)
		if quiet > 5 {
			t.Errorf("%d of 100 quiet rounds saw a step", quiet)
		}
	}
	if w.fd < 0 {
		t.Skipf("no timerfd: %v", w.fdErr)
	}
	w.begin()
	var now unix.Timespec
	unix.ClockGettime(unix.CLOCK_REALTIME, &now)
	if err := unix.ClockSettime(unix.CLOCK_REALTIME, &now); err != nil {
		t.Skipf("cannot set CLOCK_REALTIME here (%v): the set itself is not tried", err)
	}
	if !w.stepped() {
		t.Error("clock_settime(CLOCK_REALTIME) during a round was not seen")
	}
}
