package probes

import (
	"math"
	"slices"

	"github.com/montanaflynn/stats"
	"golang.org/x/perf/benchmath"

	"github.com/vbench-dev/vbench/runfile"
)

// confidence is the level of the median's confidence interval.
const confidence = 0.95

// summarize gives the median with its 95% confidence interval the way
// benchstat does (benchmath.AssumeNothing: an order-statistic interval, no
// assumption about the distribution), with mean, sample standard deviation,
// min and max. With fewer than 6 samples there is no finite 95% interval
// (benchmath gives ±Inf, which JSON cannot hold): Lo and Hi are then the min
// and max.
func summarize(samples []float64) *runfile.Summary {
	if len(samples) == 0 {
		return nil
	}
	// NewSample sorts the slice it is given: hand it a copy, so the caller's
	// samples keep the order they were taken in (run.json, benchfmt).
	sum := benchmath.AssumeNothing.Summary(benchmath.NewSample(slices.Clone(samples), &benchmath.DefaultThresholds), confidence)
	data := stats.Float64Data(samples)
	s := &runfile.Summary{Median: sum.Center, Lo: sum.Lo, Hi: sum.Hi}
	s.Mean, _ = data.Mean()
	s.Min, _ = data.Min()
	s.Max, _ = data.Max()
	if len(samples) > 1 {
		s.Stddev, _ = data.StandardDeviationSample()
	}
	if math.IsInf(s.Lo, 0) || math.IsInf(s.Hi, 0) || math.IsNaN(s.Lo) || math.IsNaN(s.Hi) {
		s.Lo, s.Hi = s.Min, s.Max
	}
	return s
}

// quantile is the nearest-rank quantile q (0..1) of values (the value at
// rank ceil(q*n)), as montanaflynn/stats's PercentileNearestRank gives it.
func quantile(values []float64, q float64) float64 {
	p, err := stats.PercentileNearestRank(values, q*100)
	if err != nil {
		return math.NaN()
	}
	return p
}

// quantiles returns k points of the distribution of sorted values: element
// i is the (i+0.5)/k quantile, by the same nearest-rank rule as quantile,
// read straight from the sorted slice. (Asking the library k = 200 times
// would sort 200 copies of up to 20,000 values per cell; TestQuantilesRule
// checks that both give the same points.)
func quantiles(sorted []float64, k int) []float64 {
	k = min(k, len(sorted))
	out := make([]float64, k)
	for i := range out {
		q := (float64(i) + 0.5) / float64(k)
		r := int(math.Ceil(q*float64(len(sorted)))) - 1
		out[i] = sorted[min(max(r, 0), len(sorted)-1)]
	}
	return out
}

// medianTicks is the median of counter tick counts.
func medianTicks(t []uint64) float64 {
	f := make(stats.Float64Data, len(t))
	for i, v := range t {
		f[i] = float64(v)
	}
	m, err := f.Median()
	if err != nil {
		return 0
	}
	return m
}
