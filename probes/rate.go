package probes

import (
	"math"
	"time"
)

// The counter's rate and resolution, for the latency mode: ticks per
// second against CLOCK_MONOTONIC, and how many ticks it advances at a time.

// calibrateCounter measures counter ticks per second against
// CLOCK_MONOTONIC (Go's monotonic clock, which reads CLOCK_MONOTONIC through
// the vDSO) over d. Each end pairs a clock reading with the mean of the
// counter read just before and just after it, keeping the tightest of a few
// tries. counterHz (counter_*.go) uses it where the rate is not
// architectural (the TSC).
func calibrateCounter(d time.Duration) float64 {
	read := func() (uint64, time.Time) {
		best := uint64(math.MaxUint64)
		var tsc uint64
		var at time.Time
		for range 5 {
			a := counterNow()
			t := time.Now()
			b := counterNow()
			if b-a < best {
				best, tsc, at = b-a, a/2+b/2, t
			}
		}
		return tsc, at
	}
	t0, m0 := read()
	time.Sleep(d)
	t1, m1 := read()
	secs := m1.Sub(m0).Seconds()
	if secs <= 0 || t1 <= t0 {
		return 0
	}
	return float64(t1-t0) / secs
}

// counterStep is how many ticks the counter advances at a time: the
// greatest common divisor of the gaps between back-to-back reads. It is 1
// on most bare-metal CPUs; on this project's AMD EPYC VM the TSC moves in
// steps of 21 ticks (10 ns), which bounds what the latency mode can
// resolve. (Arm's counter may also advance in steps: Armv8.6 lets it count
// at 1 GHz in larger increments.)
func counterStep() uint64 {
	var g uint64
	prev := counterNow()
	for range 1000 {
		t := counterNow()
		if d := t - prev; d > 0 && t > prev {
			g = gcd(g, d)
		}
		prev = t
	}
	return max(g, 1)
}

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
