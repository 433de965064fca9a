package analysis

import (
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"

	"github.com/vbench-dev/vbench/runfile"
)

// BenchmarkStudyEstimate measures the estimation of every region and pair
// (8 regions, 28 pairs, every estimator of the registry) at 100,000, 1
// million and 10 million samples of a 6.18-like layout. Drawing the
// samples is not timed. Run with
//
//	go test ./aslr/analysis -run '^$' -bench StudyEstimate -benchtime 1x -benchmem
//
// (max RSS with /usr/bin/time -v on the test binary).
func BenchmarkStudyEstimate(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000, 10_000_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 1))
			for range b.N {
				b.StopTimer() // drawing the samples is not the work measured
				agg := layout618(rng, n)
				cpu0 := cpuSeconds()
				b.StartTimer()
				res := &runfile.ASLR{Samples: n}
				Analyze(agg, res)
				b.StopTimer()
				b.ReportMetric(cpuSeconds()-cpu0, "cpu-s/op") // the wall clock counts other processes' load
				b.StartTimer()
				if len(res.Pairs) != 28 {
					b.Fatalf("%d pairs", len(res.Pairs))
				}
			}
		})
	}
}

// cpuSeconds is the process's user and system CPU time.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// layout618 draws n samples of Linux 6.18's layout on x86-64: vDSO, vvar,
// vvar_vclock, exe and mmap one secret of 28 bits, the stack 22 bits, sp 9
// more, the heap 18.
func layout618(rng *rand.Rand, n int) *Columns {
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
	return agg
}
