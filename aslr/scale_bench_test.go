package aslr

import (
	"context"
	"fmt"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// BenchmarkStudyScale samples 1,000,000 and 10,000,000 samples through the
// exec chain and estimates them, the whole of `vbench aslr --samples N
// --ceiling 0`. It reports the sampling rate, the wall time of the run and
// the process's peak RSS so far (getrusage ru_maxrss: run one size per
// process, -bench 'StudyScale/1000000$' or '/10000000$', for a figure of
// that size alone). Issue 19's bar on its 2-vCPU VM: 1M in under 30 s and
// 128 MB, 10M in under 4 minutes and 512 MB. A benchmark, not a test:
// timings depend on the machine and its load.
func BenchmarkStudyScale(b *testing.B) {
	for _, n := range []int{1_000_000, 10_000_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for range b.N {
				start := time.Now()
				res, err := Study(context.Background(), Config{Samples: n}, nil)
				if err != nil {
					b.Fatal(err)
				}
				wall := time.Since(start)
				var ru unix.Rusage
				unix.Getrusage(unix.RUSAGE_SELF, &ru)
				b.ReportMetric(res.Rate, "samples/s")
				b.ReportMetric(wall.Seconds(), "wall-s")
				b.ReportMetric((wall - res.Duration).Seconds(), "estimate-s")
				b.ReportMetric(float64(ru.Maxrss)/1024, "peak-RSS-MB")
			}
		})
	}
}
