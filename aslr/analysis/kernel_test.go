package analysis

import (
	"strings"
	"testing"

	"github.com/vbench-dev/vbench/runfile"
)

func TestKernelMax(t *testing.T) {
	k618 := Kernel{Release: "6.18.0-1-amd64", RandomizeVASpace: 2, MmapRndBits: 28}
	// Debian's 6.1 builds hide the stable sublevel in uname -r; uname -v has it.
	deb := func(v string) Kernel {
		return Kernel{Release: "6.1.0-50-cloud-amd64", Version: "#1 SMP PREEMPT_DYNAMIC Debian " + v + " (2026-07-02)", RandomizeVASpace: 2, MmapRndBits: 28}
	}
	for _, tt := range []struct {
		region string
		k      Kernel
		want   float64
		known  bool
		cite   string // a function the source names
	}{
		{"vdso", k618, 28, true, "vma.c"},
		{"mmap", k618, 28, true, "arch_rnd"},
		{"exe", k618, 28, true, "load_elf_binary"},
		{"stack", k618, 22, true, "randomize_stack_top"},
		{"sp", k618, 30, true, "arch_align_stack"},
		{"heap", k618, 18, true, "arch_randomize_brk"},
		{"vdso", deb("6.1.176-1"), 22, true, "vdso_addr"},
		// 6.1: the 1 GiB brk came to the 6.1 stable line in 6.1.112, was
		// reverted by Debian in 6.1.119-1 and restored in 6.1.123-1.
		{"heap", deb("6.1.176-1"), 18, true, "SZ_1G"},
		{"heap", deb("6.1.119-1"), 13, true, "SZ_32M"},
		{"heap", Kernel{Release: "6.1.100", RandomizeVASpace: 2}, 13, true, "SZ_32M"},
		{"heap", Kernel{Release: "6.1.112", RandomizeVASpace: 2}, 18, true, "6.1.112"},
		{"heap", Kernel{Release: "6.6.30", RandomizeVASpace: 2}, 13, true, "backported"},
		{"heap", Kernel{Release: "6.18.0", RandomizeVASpace: 1, MmapRndBits: 28}, 0, true, "binfmt_elf"},
		{"vdso", Kernel{Release: "6.18.0", RandomizeVASpace: 0, MmapRndBits: 28}, 0, true, "randomize_va_space=0"},
		{"mmap", Kernel{Release: "6.9", RandomizeVASpace: 2, MmapRndBits: 32}, 32, true, "mmap_rnd_bits"},
		{"mmap", Kernel{Release: "6.9", RandomizeVASpace: 2}, 0, false, ""},
		{"vdso", Kernel{}, 0, false, ""},
		{"nonsense", k618, 0, false, ""},
	} {
		m := KernelMax(tt.region, tt.k)
		if m.Bits != tt.want || m.Known != tt.known || !strings.Contains(m.Source, tt.cite) {
			t.Errorf("KernelMax(%s, %q %q rva=%d) = %+v; want %v, %v, citing %q", tt.region, tt.k.Release, tt.k.Version, tt.k.RandomizeVASpace, m, tt.want, tt.known, tt.cite)
		}
	}
}

// A figure above the kernel maximum is flagged in the JSON fields and in
// the conclusions.
func TestAboveKernelMax(t *testing.T) {
	a := &runfile.ASLR{Samples: 200, Regions: []runfile.Region{
		{Name: "heap", Present: 200, Distinct: 200, Effective: 18, EffectiveLo: 15, EffectiveHi: 18},
		{Name: "stack", Present: 200, Distinct: 200, Effective: 22, EffectiveLo: 15, EffectiveHi: 22},
	}}
	Annotate(a, Kernel{Release: "6.1.100", RandomizeVASpace: 2, MmapRndBits: 28})
	if h := a.Regions[0]; !h.AboveKernelMax || h.KernelMaxBits != 13 || h.KernelMaxSource == "" {
		t.Errorf("heap: %+v", h)
	}
	if s := a.Regions[1]; s.AboveKernelMax || s.KernelMaxBits != 22 {
		t.Errorf("stack: %+v", s)
	}
	cs := Conclusions(a)
	if !strings.Contains(strings.Join(cs, "\n"), "ABOVE THE KERNEL MAXIMUM: heap: 18.00 bits measured, above the kernel maximum of 13") {
		t.Errorf("conclusions do not flag the heap:\n%s", strings.Join(cs, "\n"))
	}
}

// The heap's maximum follows the code path the target took: a PIE with an
// interpreter carries the executable's bits; a static PIE does not.
func TestMaxInHeap(t *testing.T) {
	k := Kernel{Release: "6.18.0", RandomizeVASpace: 2, MmapRndBits: 28}
	regs := []runfile.Region{{Name: "exe", Present: 9, Distinct: 9}, {Name: "mmap", Present: 9, Distinct: 9}, {Name: "heap", Present: 9, Distinct: 9}}
	dyn := &runfile.ASLR{Regions: regs, Pairs: []runfile.Pair{{A: "exe", B: "mmap", DistinctDiffs: 9}}}
	if m := MaxIn(dyn, "heap", k); !m.Known || m.Bits < 28 || m.Bits > 28.01 || !strings.Contains(m.Source, "load_elf_binary") {
		t.Errorf("PIE with interpreter: %+v", m)
	}
	static := &runfile.ASLR{Regions: regs, Pairs: []runfile.Pair{{A: "exe", B: "mmap", DistinctDiffs: 1}}}
	if m := MaxIn(static, "heap", k); m.Bits != 18 {
		t.Errorf("static PIE: %+v", m)
	}
}

// On arm64 (uname -m aarch64) every maximum comes from arm64's settings:
// Debian's 6.1 arm64 kernel, 4 KiB pages, vm.mmap_rnd_bits 18.
func TestKernelMaxArm64(t *testing.T) {
	k := KernelOf(runfile.Env{Machine: "aarch64", KernelRelease: "6.1.0-50-cloud-arm64",
		KernelVersion: "#1 SMP Debian 6.1.176-1 (2026-07-02)", RandomizeVASpace: runfile.Int(2), MmapRndBits: runfile.Int(18)})
	for _, tt := range []struct {
		region string
		want   float64
		cite   string
	}{
		{"mmap", 18, "mm/util.c"},
		{"exe", 18, "load_elf_binary"},
		// In the mmap region on arm64 6.1, unlike x86-64 before 6.9.
		{"vdso", 18, "arch/arm64/kernel/vdso.c"},
		{"vvar", 18, "get_unmapped_area"},
		{"stack", 18, "arch/arm64/include/asm/elf.h"},
		{"sp", 26, "arch/arm64/kernel/process.c"},
		{"heap", 18, "mm/util.c"},
	} {
		m := KernelMax(tt.region, k)
		if !m.Known || m.Bits != tt.want || !strings.Contains(m.Source, tt.cite) {
			t.Errorf("arm64 KernelMax(%s) = %+v; want %v citing %q", tt.region, m, tt.want, tt.cite)
		}
	}
	// The sysctl in force counts, not the config default.
	k.MmapRndBits = 33
	if m := KernelMax("vdso", k); m.Bits != 33 {
		t.Errorf("vdso with mmap_rnd_bits 33: %v bits", m.Bits)
	}
	k.RandomizeVASpace = 1
	if m := KernelMax("heap", k); !m.Known || m.Bits != 0 {
		t.Errorf("heap with randomize_va_space=1: %+v, want 0", m)
	}
	// An x86-64 machine keeps the x86-64 figures.
	k = Kernel{Machine: "x86_64", Release: "6.18.0", RandomizeVASpace: 2, MmapRndBits: 28}
	if m := KernelMax("stack", k); m.Bits != 22 {
		t.Errorf("x86_64 stack: %v bits, want 22", m.Bits)
	}
}
