package probes

import (
	"fmt"
	"math"
	"slices"

	"github.com/vbench-dev/vbench/runfile"
)

// A cell's timing is flagged noisy when it cannot be taken at face value:
//
//   - its median's 95% interval is wider than ±runfile.NoisyCI (5%);
//   - its samples fall into two groups (bimodal), as when the machine
//     changed speed partway, or some samples shared the CPU and others not;
//   - the machine took the CPU away while it ran: steal time on the pinned
//     CPU (the hypervisor ran another guest), involuntary context switches
//     of the timed thread (another task ran on its CPU), or migrations
//     (which pinning should prevent).
//
// More samples can narrow an interval or fill the gap between two groups
// (--retry-noisy), but not undo steal or preemption already seen: those
// stay on record.

// judge summarizes the noise of a measured cell (Summary, Samples,
// SampleCounts and Iters set).
func judge(c *runfile.Cell, retried int) *runfile.Noise {
	s := c.Summary
	n := &runfile.Noise{Retried: retried}
	if s == nil || s.Median <= 0 {
		return n
	}
	n.CIPct = math.Max(s.Hi-s.Median, s.Median-s.Lo) / s.Median * 100
	if n.CIPct > runfile.NoisyCI*100 {
		n.Reasons = append(n.Reasons, fmt.Sprintf("±%.0f%%", n.CIPct))
	}
	if lo, hi, ok := bimodal(c.Samples, s.Median); ok {
		n.Bimodal = true
		n.Reasons = append(n.Reasons, fmt.Sprintf("bimodal (%d at %.3g, %d at %.3g ns)", lo.n, lo.at, hi.n, hi.at))
	}
	var steal, total float64
	for i, sc := range c.SampleCounts {
		steal += float64(sc.StealNs)
		n.Preemptions += sc.Preemptions
		n.Migrations += sc.Migrations
		if i < len(c.Samples) {
			total += c.Samples[i] * float64(c.Iters)
		}
	}
	if steal > 0 && total > 0 {
		n.StealPct = steal / total * 100
		n.Reasons = append(n.Reasons, "steal "+pct(n.StealPct))
	}
	if n.Preemptions > 0 {
		n.Reasons = append(n.Reasons, plural(n.Preemptions, "preemption"))
	}
	if n.Migrations > 0 {
		n.Reasons = append(n.Reasons, plural(n.Migrations, "migration"))
	}
	n.Noisy = len(n.Reasons) > 0
	return n
}

// retryable reports whether more samples could clear a cell's flag: its
// interval is wide or its samples bimodal.
func retryable(n *runfile.Noise) bool {
	return n != nil && (n.CIPct > runfile.NoisyCI*100 || n.Bimodal)
}

func pct(p float64) string {
	if p < 1 {
		return "<1%"
	}
	return fmt.Sprintf("%.0f%%", p)
}

func plural(n int64, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// group is one of bimodal's two groups: how many samples, and their median.
type group struct {
	n  int
	at float64
}

// bimodal looks for two groups of samples: the widest gap between
// consecutive sorted samples splits them in two groups of at least
// max(2, n/5) samples each, the gap is at least 5% of the median, and it
// is wider than either group's own spread. Slow drift spreads samples
// evenly and is not bimodal; a machine that changed speed partway is.
func bimodal(samples []float64, median float64) (lo, hi group, ok bool) {
	x := slices.Clone(samples)
	slices.Sort(x)
	n := len(x)
	minGroup := max(2, n/5)
	if n < 2*minGroup {
		return lo, hi, false
	}
	best, split := 0.0, -1
	for k := minGroup; k <= n-minGroup; k++ {
		if g := x[k] - x[k-1]; g > best {
			best, split = g, k
		}
	}
	if split < 0 || best < runfile.NoisyCI*median {
		return lo, hi, false
	}
	spread := math.Max(x[split-1]-x[0], x[n-1]-x[split])
	if best <= spread {
		return lo, hi, false
	}
	med := func(v []float64) float64 { return quantile(v, 0.5) }
	return group{split, med(x[:split])}, group{n - split, med(x[split:])}, true
}
