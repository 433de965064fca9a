package aslr

import (
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Time in which sampling did not run is kept out of the rate (issue 24:
// a SIGSTOP of vbench for 5 s made "10429 samples/s" of a faster run).
// vbench cannot see its own stop, but it sees its effect and its end: no
// batch of samples arrives for the whole of it, where they normally
// arrive every few milliseconds, and a SIGCONT ends it. A gap between two
// batches longer than stallGap that a SIGCONT ended is stalled time; so is
// a gap in which CLOCK_BOOTTIME ran ahead of CLOCK_MONOTONIC (the machine
// was suspended; MONOTONIC stops in suspend, BOOTTIME does not). A long gap
// with neither, on a machine too loaded to run vbench, is sampling time:
// the samples it was slow to read were being taken.

// stallGap is the longest gap between two batches that counts as sampling
// whatever happened in it.
const stallGap = 250 * time.Millisecond

type stallClock struct {
	last    time.Time
	conts   int
	asleep  time.Duration // BOOTTIME - MONOTONIC at last
	total   time.Duration
	watched *contWatch
	// pending is a long gap no SIGCONT had ended yet when it was seen:
	// the signal's goroutine may count it a moment after the first batch.
	pending   time.Duration
	pendingAt time.Time
}

func (s *stallClock) start(t time.Time, w *contWatch) {
	s.last, s.watched, s.conts, s.asleep = t, w, w.count(), suspended()
}

// arrived notes a batch at t.
func (s *stallClock) arrived(t time.Time) {
	conts := s.watched.count()
	if s.pending > 0 && (conts > s.conts || t.Sub(s.pendingAt) > time.Second) {
		if conts > s.conts {
			s.total += s.pending
		}
		s.pending = 0
		s.conts = conts
	}
	gap := t.Sub(s.last)
	s.last = t
	if gap <= stallGap {
		return
	}
	asleep := suspended()
	switch {
	case conts > s.conts:
		s.total += gap
	case asleep-s.asleep > stallGap:
		s.total += min(gap, asleep-s.asleep)
	default:
		s.pending, s.pendingAt = gap, t
	}
	s.conts, s.asleep = conts, asleep
}

// stalled is the stalled time up to the end of sampling, t (called once,
// after a moment for a last SIGCONT to be counted).
func (s *stallClock) stalled(t time.Time) time.Duration {
	s.arrived(t)
	if s.pending > 0 && s.watched.count() > s.conts {
		s.total += s.pending
	}
	return s.total
}

// suspended is how long the machine has been suspended since boot:
// CLOCK_BOOTTIME - CLOCK_MONOTONIC.
func suspended() time.Duration {
	var b, m unix.Timespec
	if unix.ClockGettime(unix.CLOCK_BOOTTIME, &b) != nil || unix.ClockGettime(unix.CLOCK_MONOTONIC, &m) != nil {
		return 0
	}
	return time.Duration(b.Nano() - m.Nano())
}

// contWatch counts SIGCONTs. signal.Notify for SIGCONT changes nothing of
// the signal's effect: the process is continued by the kernel either way.
type contWatch struct {
	ch   chan os.Signal
	n    atomic.Int64
	done chan struct{}
}

func watchSIGCONT() *contWatch {
	w := &contWatch{ch: make(chan os.Signal, 4), done: make(chan struct{})}
	signal.Notify(w.ch, syscall.SIGCONT)
	go func() {
		for {
			select {
			case <-w.ch:
				w.n.Add(1)
			case <-w.done:
				return
			}
		}
	}()
	return w
}

func (w *contWatch) count() int { return int(w.n.Load()) }

func (w *contWatch) stop() {
	signal.Stop(w.ch)
	close(w.done)
}
