package verify

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/vbench-dev/vbench/runfile"
	"golang.org/x/sys/unix"
)

// A clock step (settimeofday, clock_settime, `date -s`, an NTP daemon
// stepping, adjtimex changing the TAI offset) moves CLOCK_REALTIME, and the
// clocks derived from it (REALTIME_COARSE, REALTIME_ALARM, TAI,
// gettimeofday, time), backwards or forwards at once. A step between two
// reads of an ordered round makes the later read earlier than the first
// without any kernel bug: such a round proves nothing. Each round of a wall
// clock is therefore watched, and a round during which the clock was set
// is thrown away and taken again; the check says how many were.
//
// Two witnesses, either one enough:
//   - a timerfd on CLOCK_REALTIME armed with TFD_TIMER_ABSTIME |
//     TFD_TIMER_CANCEL_ON_SET: every clock_was_set() of the kernel cancels
//     it, and read(2) then fails with ECANCELED (fs/timerfd.c,
//     timerfd_clock_was_set and timerfd_canceled; Linux 3.0);
//   - the offset CLOCK_REALTIME - CLOCK_MONOTONIC, bracketed before and
//     after the round by reading MONOTONIC, REALTIME, MONOTONIC through the
//     syscall: without a step the true offset lies in both brackets, up to
//     what slewing can do in the time between (at most 500 ppm,
//     MAXFREQ in include/linux/timex.h, allowed for). It also catches a step
//     the timerfd cannot see (a sandbox without timerfd_create).

// stepWatch tells whether CLOCK_REALTIME was set between begin and
// stepped.
type stepWatch interface {
	begin()
	stepped() bool
	// how says which witnesses are in use, for Verify.Info.
	how() string
	close()
}

// maxSlewPPM is the largest rate change NTP slewing can give the wall
// clock against MONOTONIC (MAXFREQ, 500 ppm).
const maxSlewPPM = 500

// realtimeWatch is the stepWatch of a real process.
type realtimeWatch struct {
	fd     int // timerfd, -1 when none
	fdErr  error
	offErr error
	lo, hi int64 // the REALTIME - MONOTONIC bracket taken by begin, in ns
	mono   int64 // MONOTONIC at begin
}

func newRealtimeWatch() *realtimeWatch {
	w := &realtimeWatch{fd: -1}
	fd, err := unix.TimerfdCreate(unix.CLOCK_REALTIME, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		w.fdErr = fmt.Errorf("timerfd_create: %w", err)
	} else {
		w.fd = fd
		if err := w.arm(); err != nil {
			unix.Close(fd)
			w.fd, w.fdErr = -1, err
		}
	}
	if _, _, _, err := offsetBracket(); err != nil {
		w.offErr = err
	}
	return w
}

// arm sets the timer to expire in the far future (it never fires), with
// TFD_TIMER_CANCEL_ON_SET.
func (w *realtimeWatch) arm() error {
	spec := unix.ItimerSpec{Value: unix.Timespec{Sec: math.MaxInt32}}
	if err := unix.TimerfdSettime(w.fd, unix.TFD_TIMER_ABSTIME|unix.TFD_TIMER_CANCEL_ON_SET, &spec, nil); err != nil {
		return fmt.Errorf("timerfd_settime(TFD_TIMER_CANCEL_ON_SET): %w", err)
	}
	return nil
}

// offsetBracket reads MONOTONIC, REALTIME, MONOTONIC through the syscall
// (unix.ClockGettime is the raw system call) and returns the interval the
// offset REALTIME - MONOTONIC lay in, and MONOTONIC.
func offsetBracket() (lo, hi, mono int64, err error) {
	var m0, r, m1 unix.Timespec
	if err = unix.ClockGettime(unix.CLOCK_MONOTONIC, &m0); err == nil {
		if err = unix.ClockGettime(unix.CLOCK_REALTIME, &r); err == nil {
			err = unix.ClockGettime(unix.CLOCK_MONOTONIC, &m1)
		}
	}
	if err != nil {
		return 0, 0, 0, fmt.Errorf("clock_gettime: %w", err)
	}
	return r.Nano() - m1.Nano(), r.Nano() - m0.Nano(), m1.Nano(), nil
}

// canceled drains the timerfd: true when the clock was set since it was
// armed (or last drained), and then arms it again.
func (w *realtimeWatch) canceled() bool {
	if w.fd < 0 {
		return false
	}
	var buf [8]byte
	_, err := unix.Read(w.fd, buf[:])
	if errors.Is(err, unix.ECANCELED) {
		w.arm()
		return true
	}
	return false
}

func (w *realtimeWatch) begin() {
	w.canceled() // a set before the round does not count
	if w.offErr == nil {
		w.lo, w.hi, w.mono, _ = offsetBracket()
	}
}

func (w *realtimeWatch) stepped() bool {
	step := w.canceled()
	if w.offErr == nil {
		lo, hi, mono, err := offsetBracket()
		if err == nil {
			slack := (mono-w.mono)*maxSlewPPM/1e6 + 1
			if lo > w.hi+slack || hi < w.lo-slack {
				step = true
			}
		}
	}
	return step
}

func (w *realtimeWatch) how() string {
	var on, off []string
	if w.fd >= 0 {
		on = append(on, "a timerfd armed with TFD_TIMER_CANCEL_ON_SET")
	} else {
		off = append(off, fmt.Sprintf("no timerfd (%v)", w.fdErr))
	}
	if w.offErr == nil {
		on = append(on, "the REALTIME - MONOTONIC offset compared around each round")
	} else {
		off = append(off, fmt.Sprintf("no offset comparison (%v)", w.offErr))
	}
	if len(on) == 0 {
		return "not watched: " + strings.Join(off, "; ") + ": a step of CLOCK_REALTIME during a round would read as a failure"
	}
	s := "watched through " + strings.Join(on, " and ") + "; a round during which the clock was set is taken again"
	if len(off) > 0 {
		s += " (" + strings.Join(off, "; ") + ")"
	}
	return s
}

func (w *realtimeWatch) close() {
	if w.fd >= 0 {
		unix.Close(w.fd)
		w.fd = -1
	}
}

// wallClock reports whether clock id follows CLOCK_REALTIME when it is
// set: REALTIME, REALTIME_COARSE, REALTIME_ALARM, and TAI (REALTIME plus
// the TAI offset).
func wallClock(id int32) bool {
	switch id {
	case unix.CLOCK_REALTIME, unix.CLOCK_REALTIME_COARSE, unix.CLOCK_REALTIME_ALARM, unix.CLOCK_TAI:
		return true
	}
	return false
}

// maxStepRetries bounds the rounds one check takes again because the
// clock was set during them, beyond its own rounds.
func (v *verifier) maxStepRetries() int { return v.rounds + 10 }

// roundOutcome is what eachRound found.
type roundOutcome struct {
	steps  int    // rounds thrown away because the clock was set during them
	fail   string // the first failure in a round without a step; "" if none
	gaveUp bool   // every retry allowed saw a step
}

// eachRound runs body for rounds 0 to v.rounds-1. body returns "" when its
// round held, or what failed. For a wall clock (wall true), a round during
// which the step watch saw CLOCK_REALTIME set is not believed either way:
// it is counted and run again, within maxStepRetries. A failure in a round
// without a step stops the check, as a kernel bug.
func (v *verifier) eachRound(wall bool, body func(r int) string) roundOutcome {
	var o roundOutcome
	for r := 0; r < v.rounds; r++ {
		if wall {
			v.watch.begin()
		}
		fail := body(r)
		if wall && v.watch.stepped() {
			o.steps++
			v.steps++
			if o.steps > v.maxStepRetries() {
				o.gaveUp = true
				return o
			}
			r--
			continue
		}
		if fail != "" {
			o.fail = fail
			return o
		}
	}
	return o
}

// stepWords is what a passing check adds about the steps it saw.
func stepWords(steps int) string {
	switch steps {
	case 0:
		return ""
	case 1:
		return "; 1 round taken again: CLOCK_REALTIME was set during it"
	}
	return fmt.Sprintf("; %d rounds taken again: CLOCK_REALTIME was set during them", steps)
}

// finish adds the check name from what eachRound found: a failure, a skip
// when the clock never stood still long enough, or a pass with detail.
func (v *verifier) finish(name string, o roundOutcome, passDetail string) {
	switch {
	case o.gaveUp:
		v.add(name, runfile.StatusSkip, "CLOCK_REALTIME was set during %d rounds, more than the %d retries allowed: no round completed without a step", o.steps, v.maxStepRetries())
	case o.fail != "":
		v.add(name, runfile.StatusFail, "%s%s", o.fail, stepWords(o.steps))
	default:
		v.add(name, runfile.StatusPass, "%s%s", passDetail, stepWords(o.steps))
	}
}
