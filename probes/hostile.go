package probes

import (
	"fmt"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vbench-dev/vbench/limits"
	"github.com/vbench-dev/vbench/runfile"
)

// A sample is not a measurement of the call when the process did not run
// while it was taken:
//
//   - throttled: a CPU quota of its cgroup ran out (cgroup v2 cpu.max, v1
//     cpu.cfs_quota_us) and the scheduler held every thread of it until
//     the next period (kernel/sched/fair.c, throttle_cfs_rq): cpu.stat's
//     nr_throttled grew during the sample, here or in an ancestor;
//   - suspended: the process was stopped (SIGSTOP, SIGTSTP, a debugger)
//     and continued: a SIGCONT arrived, or the thread's CPU time fell far
//     short of the sample's wall time with no preemption or throttling to
//     account for it.
//
// Such a sample is taken again, within a budget (retakeBudget for a whole
// Bench, maxRetakes per sample); after a throttled one, vbench first
// sleeps one quota period, so the retake starts with the period's quota
// unused. What remains is kept, counted per sample
// (SampleCounts.Throttled, Suspended), and named in the cell's noise.

const (
	retakeBudget = 5 * time.Second
	maxRetakes   = 3
	// stopGap: wall time beyond the thread's CPU time (and the CPU's
	// steal time) that, with no preemption or throttling seen, means the
	// process was stopped. Large, so that a guest's vCPU descheduled by
	// its host without steal accounting is not taken for a stop often.
	stopGap = 200 * time.Millisecond
)

// sampleWatch follows throttling and stops for one Bench.
type sampleWatch struct {
	cpu    *limits.CPUWatch
	conts  atomic.Int64
	sig    chan os.Signal
	left   time.Duration // retake budget left
	period time.Duration // sleep after a throttled sample
}

// watching is the Bench's watch (Bench calls are serialized by benchMu).
var watching *sampleWatch

func newSampleWatch() *sampleWatch {
	w := &sampleWatch{left: retakeBudget, period: 100 * time.Millisecond}
	if c, err := limits.Live.CPU(); err == nil {
		w.cpu = c
		if c.Quota.Limited {
			w.period = c.Quota.Period
		}
	}
	w.sig = make(chan os.Signal, 4)
	signal.Notify(w.sig, syscall.SIGCONT)
	go func() {
		for range w.sig {
			w.conts.Add(1)
		}
	}()
	return w
}

func (w *sampleWatch) close() {
	signal.Stop(w.sig)
	close(w.sig)
}

// quotaWords names the CPU quota, for the cell's words.
func (w *sampleWatch) quotaWords() string {
	if w == nil || w.cpu == nil || !w.cpu.Quota.Limited {
		return "the cgroup's CPU quota"
	}
	return w.cpu.Quota.String()
}

type watchMark struct {
	throttled uint64
	conts     int64
	wall, cpu int64
}

func nowNs(id int32) int64 {
	var ts unix.Timespec
	unix.ClockGettime(id, &ts)
	return ts.Nano()
}

func (w *sampleWatch) begin() watchMark {
	m := watchMark{conts: w.conts.Load()}
	if w.cpu.Active() {
		m.throttled = w.cpu.Read().Throttled
	}
	m.wall, m.cpu = nowNs(unix.CLOCK_MONOTONIC), nowNs(unix.CLOCK_THREAD_CPUTIME_ID)
	return m
}

// end says how many quota periods throttled the process since m, and
// whether it was stopped; preemptions are the sample's involuntary
// context switches.
func (w *sampleWatch) end(m watchMark, preemptions, stealNs int64) (throttled int64, suspended bool) {
	wall, cpu := nowNs(unix.CLOCK_MONOTONIC)-m.wall, nowNs(unix.CLOCK_THREAD_CPUTIME_ID)-m.cpu
	if w.cpu.Active() {
		throttled = int64(w.cpu.Read().Throttled - m.throttled)
	}
	gap := time.Duration(wall - cpu - stealNs)
	suspended = w.conts.Load() != m.conts ||
		(throttled == 0 && preemptions == 0 && gap > stopGap && cpu < wall/2)
	return throttled, suspended
}

// retake reports whether a sample that was throttled or suspended may be
// taken again, and spends the budget for it (sleeping a quota period
// after throttling).
func (w *sampleWatch) retake(attempt int, throttled int64, took time.Duration) bool {
	if attempt >= maxRetakes || w.left <= 0 {
		return false
	}
	w.left -= took
	if throttled > 0 {
		time.Sleep(w.period)
		w.left -= w.period
	}
	return true
}

// retakeNotes are the cell's notes on samples taken again.
func retakeNotes(bc *benchCell) []string {
	var out []string
	if bc.retakenThrottled > 0 {
		out = append(out, fmt.Sprintf("%s taken again, throttled by %s", plural(int64(bc.retakenThrottled), "sample"), watching.quotaWords()))
	}
	if bc.retakenSuspended > 0 {
		out = append(out, fmt.Sprintf("%s taken again: the process was stopped (SIGSTOP) during them", plural(int64(bc.retakenSuspended), "sample")))
	}
	return out
}

// hostileNoise adds to n the samples kept although throttled or
// suspended (the budget ran out).
func hostileNoise(c *runfile.Cell, n *runfile.Noise, quota string) {
	for _, sc := range c.SampleCounts {
		if sc.Throttled > 0 {
			n.Throttled++
		}
		if sc.Suspended {
			n.Suspended++
		}
	}
	if n.Throttled > 0 {
		n.Reasons = append(n.Reasons, fmt.Sprintf("throttled: %d of %d samples (%s)", n.Throttled, len(c.Samples), quota))
	}
	if n.Suspended > 0 {
		n.Reasons = append(n.Reasons, fmt.Sprintf("suspended: %d of %d samples (the process was stopped)", n.Suspended, len(c.Samples)))
	}
	n.Noisy = n.Noisy || n.Throttled > 0 || n.Suspended > 0
}
