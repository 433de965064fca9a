package aslr

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/vbench-dev/vbench/runfile"
)

// BenchmarkStudyEstimate measures the estimation of every
// region and pair at 100,000 and 1,000,000 samples of a 6.18-like layout
// (run with -bench Estimate -benchmem; max RSS with /usr/bin/time -v).
func BenchmarkStudyEstimate(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 1))
			for range b.N {
				b.StopTimer() // drawing the samples is not the work measured
				agg := newAggregate(n, allRegions)
				for range n {
					var s sample
					m := 0x7f0000000000 + rng.Uint64N(1<<28)*page
					set(&s, rVdso, m-0x2000)
					set(&s, rVvar, m-0x8000)
					set(&s, rVvarVclock, m-0x4000)
					set(&s, rExe, m)
					set(&s, rMmap, m)
					st := 0x7ffc00000000 + rng.Uint64N(1<<22)*page
					set(&s, rStack, st)
					set(&s, rSP, st+0x1ee20+rng.Uint64N(512)*16)
					set(&s, rHeap, 0x555555554000+rng.Uint64N(1<<18)*page)
					s.vsyscall, s.vsyscallPerms = 0xffffffffff600000, "--xp"
					agg.add(&s)
				}
				b.StartTimer()
				res := &runfile.ASLR{Samples: n}
				agg.finish(res)
				if len(res.Pairs) != 28 {
					b.Fatalf("%d pairs", len(res.Pairs))
				}
			}
		})
	}
}
