package analysis

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/vbench-dev/vbench/runfile"
)

// layout draws one synthetic sample.
type layout func(rng *rand.Rand) Sample

func synthetic(t *testing.T, n int, noRand bool, loader bool, draw layout) []string {
	t.Helper()
	rng := rand.New(rand.NewPCG(11, 12))
	agg := NewColumns(n, AllRegions)
	for range n {
		s := draw(rng)
		agg.Add(&s)
	}
	res := &runfile.ASLR{Samples: n, Requested: n, NoRandomize: noRand}
	Analyze(agg, res)
	_ = loader // the executable-is-mmap sentence now comes from the exe/mmap pair
	return Conclusions(res)
}

func has(t *testing.T, cs []string, want string, yes bool) {
	t.Helper()
	for _, c := range cs {
		if strings.Contains(c, want) {
			if !yes {
				t.Errorf("unexpected conclusion %q", c)
			}
			return
		}
	}
	if yes {
		t.Errorf("no conclusion mentions %q in:\n%s", want, strings.Join(cs, "\n"))
	}
}

// Linux 6.9+: the vDSO is in the mmap region, below the static-PIE target.
func TestConcludeMmapRegion(t *testing.T) {
	cs := synthetic(t, 2000, false, true, func(rng *rand.Rand) Sample {
		var s Sample
		m := 0x7f0000000000 + rng.Uint64N(1<<28)*page
		s.Set(Exe, m)
		s.Set(Mmap, m)
		s.Set(Vdso, m-0x2000)
		s.Set(Vvar, m-0x8000)
		st := 0x7ffc00000000 + rng.Uint64N(1<<22)*page
		s.Set(Stack, st)
		s.Set(SP, st+0x1ee20+rng.Uint64N(512)*16)
		s.Set(Heap, 0x555555554000+rng.Uint64N(1<<18)*page)
		s.Vsyscall, s.VsyscallPerms = 0xffffffffff600000, "--xp"
		return s
	})
	has(t, cs, "moves with the mmap base", true)
	has(t, cs, "the executable itself", true)
	has(t, cs, "[vvar] is at a fixed offset from the vDSO (vvar - vdso = -0x6000)", true)
	has(t, cs, "fixed at 0xffffffffff600000 (--xp) in every sample: 0 bits", true)
	has(t, cs, "above the stack", false)
}

// Linux <= 6.8: vdso_addr() puts the vDSO at a random page between the
// stack and the next 2 MiB boundary; vsyscall=none.
func TestConcludeAboveStack(t *testing.T) {
	cs := synthetic(t, 2000, false, false, func(rng *rand.Rand) Sample {
		var s Sample
		st := 0x7ffc00000000 + rng.Uint64N(1<<22)*page
		s.Set(Stack, st)
		s.Set(SP, st+0x20000)
		v := st + 0x21000 + rng.Uint64N(512)*page
		s.Set(Vdso, v)
		s.Set(Vvar, v-0x4000)
		s.Set(Mmap, 0x7f0000000000+rng.Uint64N(1<<28)*page)
		return s
	})
	has(t, cs, "sits just above the stack", true)
	has(t, cs, "132 KiB to 2.1 MiB above the start of [stack]", true)
	has(t, cs, "9.0 bits beyond the stack", true)
	has(t, cs, "moves with the mmap base", false)
	has(t, cs, "not mapped in any sample (vsyscall=none)", true)
}

func TestConcludeControl(t *testing.T) {
	cs := synthetic(t, 100, true, true, func(*rand.Rand) Sample {
		var s Sample
		s.Set(Vdso, 0x7ffff7ffc000)
		s.Set(Stack, 0x7ffffffde000)
		s.Set(Heap, 0x555555555000)
		s.Vsyscall, s.VsyscallPerms = 0xffffffffff600000, "r-xp"
		return s
	})
	has(t, cs, "every region has one value", true)
	has(t, cs, "moves with", false)
	has(t, cs, "fixed at 0xffffffffff600000 (r-xp)", true)
}

// arm64 (Linux 6.1): the vDSO is in the mmap region in every version, and
// there is no vsyscall page; the words say so once the run carries arm64's
// maxima.
func TestConcludeArm64(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	const n = 500
	agg := NewColumns(n, AllRegions)
	for range n {
		var s Sample
		m := 0xffff7f7f0000 + rng.Uint64N(1<<18)*page
		s.Set(Exe, m)
		s.Set(Mmap, m)
		s.Set(Vdso, m-0x1000)
		s.Set(Vvar, m-0x3000)
		st := 0xffffc0000000 + rng.Uint64N(1<<18)*page
		s.Set(Stack, st)
		s.Set(SP, st+0x1fe40+rng.Uint64N(256)*16)
		s.Set(Heap, 0xaaaaaaaa0000+rng.Uint64N(1<<18)*page)
		agg.Add(&s)
	}
	res := &runfile.ASLR{Samples: n, Requested: n}
	Analyze(agg, res)
	x86 := Conclusions(res)
	has(t, x86, "mmap region (Linux 6.9+)", true)
	has(t, x86, "(vsyscall=none)", true)
	Annotate(res, KernelOf(runfile.Env{Machine: "aarch64", KernelRelease: "6.1.0-50-cloud-arm64", RandomizeVASpace: runfile.Int(2), MmapRndBits: runfile.Int(18)}))
	cs := Conclusions(res)
	has(t, cs, "mmap region (arm64: get_unmapped_area() in arch/arm64/kernel/vdso.c", true)
	has(t, cs, "6.9+", false)
	has(t, cs, "arm64 has no vsyscall page", true)
	has(t, cs, "ABOVE THE KERNEL MAXIMUM", false)
}
