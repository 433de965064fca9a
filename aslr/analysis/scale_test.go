package analysis

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
				agg := NewColumns(n, AllRegions)
				for range n {
					var s Sample
					m := 0x7f0000000000 + rng.Uint64N(1<<28)*page
					s.Set(Vdso, m-0x2000)
					s.Set(Vvar, m-0x8000)
					s.Set(VvarVclock, m-0x4000)
					s.Set(Exe, m)
					s.Set(Mmap, m)
					st := 0x7ffc00000000 + rng.Uint64N(1<<22)*page
					s.Set(Stack, st)
					s.Set(SP, st+0x1ee20+rng.Uint64N(512)*16)
					s.Set(Heap, 0x555555554000+rng.Uint64N(1<<18)*page)
					s.Vsyscall, s.VsyscallPerms = 0xffffffffff600000, "--xp"
					agg.Add(&s)
				}
				b.StartTimer()
				res := &runfile.ASLR{Samples: n}
				Analyze(agg, res)
				if len(res.Pairs) != 28 {
					b.Fatalf("%d pairs", len(res.Pairs))
				}
			}
		})
	}
}
