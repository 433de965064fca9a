package aslr

import (
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"
)

// Time in which sampling did not run is kept out of the rate (issue 24:
// a SIGSTOP of vbench for 5 s made "10429 samples/s" of a faster run).
// vbench cannot see its own stop, but it sees its effect: no batch of
// samples arrives for the whole of it, where they normally arrive every
// few milliseconds (a chain's pipe holds a quarter of a second and more;
// a spawn takes well under a millisecond). A gap longer than stallGap is
// counted as stalled time. The SIGCONT that ends a stop is counted too,
// to say what the stall was.

// stallGap is the longest gap between two batches that counts as sampling.
const stallGap = 250 * time.Millisecond

type stallClock struct {
	last  time.Time
	total time.Duration
}

func (s *stallClock) start(t time.Time) { s.last = t }

// arrived notes a batch at t.
func (s *stallClock) arrived(t time.Time) {
	if gap := t.Sub(s.last); gap > stallGap {
		s.total += gap
	}
	s.last = t
}

// stalled is the stalled time up to the end of sampling, t.
func (s *stallClock) stalled(t time.Time) time.Duration {
	total := s.total
	if gap := t.Sub(s.last); gap > stallGap {
		total += gap
	}
	return total
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
