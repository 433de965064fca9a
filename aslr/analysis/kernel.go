package analysis

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/vbench-dev/vbench/runfile"
)

// Kernel is what the kernel maxima depend on: the architecture (uname -m),
// the version (from uname -r, or from uname -v where a distribution hides
// the stable sublevel, as Debian's "6.1.0-50-cloud-amd64" / "Debian
// 6.1.176-1" does) and the two sysctls.
type Kernel struct {
	Machine          string // uname -m: "aarch64" is arm64, anything else x86-64
	Release          string // uname -r
	Version          string // uname -v
	RandomizeVASpace int    // kernel.randomize_va_space
	MmapRndBits      int    // vm.mmap_rnd_bits
}

// KernelOf takes the fields of a run's environment.
func KernelOf(env runfile.Env) Kernel {
	// An unreadable sysctl is -1 here, as sysenv recorded it before it
	// could be absent; an environment with no kernel at all (samples from
	// a CSV) stays the zero Kernel, which knows nothing.
	unknown := -1
	if env.KernelRelease == "" {
		unknown = 0
	}
	return Kernel{Machine: env.Machine, Release: env.KernelRelease, Version: env.KernelVersion, RandomizeVASpace: runfile.Or(env.RandomizeVASpace, unknown), MmapRndBits: runfile.Or(env.MmapRndBits, unknown)}
}

// arm64 reports whether the kernel runs arm64 (uname -m says aarch64).
func (k Kernel) arm64() bool { return k.Machine == "aarch64" || k.Machine == "arm64" }

// Max is the most entropy, in bits, that a kernel lets a region's base
// have, and the kernel source it comes from. Known is false when vbench
// cannot tell (an unknown region, a sysctl that was not read).
type Max struct {
	Bits   float64
	Source string
	Known  bool
}

// debianVersion finds "Debian 6.1.176-1" in uname -v.
var debianVersion = regexp.MustCompile(`Debian (\d+)\.(\d+)\.(\d+)-(\d+)`)

// version is major, minor, sublevel (-1 when unknown) and, for a Debian
// build, the Debian revision (0 otherwise).
func (k Kernel) version() (major, minor, sub, debRev int, ok bool) {
	if m := debianVersion.FindStringSubmatch(k.Version); m != nil {
		major, _ = strconv.Atoi(m[1])
		minor, _ = strconv.Atoi(m[2])
		sub, _ = strconv.Atoi(m[3])
		debRev, _ = strconv.Atoi(m[4])
		return major, minor, sub, debRev, true
	}
	num := func(s string) (int, bool) {
		s = s[:len(s)-len(strings.TrimLeft(s, "0123456789"))]
		n, err := strconv.Atoi(s)
		return n, err == nil
	}
	parts := strings.SplitN(k.Release, ".", 3)
	if len(parts) < 2 {
		return 0, 0, -1, 0, false
	}
	major, ok1 := num(parts[0])
	minor, ok2 := num(parts[1])
	sub = -1
	if len(parts) == 3 {
		if s, ok := num(parts[2]); ok {
			sub = s
		}
	}
	return major, minor, sub, 0, ok1 && ok2
}

// atLeast reports whether the kernel is major.minor or later; an unknown
// version counts as new.
func (k Kernel) atLeast(major, minor int) bool {
	ma, mi, _, _, ok := k.version()
	return !ok || ma > major || ma == major && mi >= minor
}

// brk1G reports whether arch_randomize_brk() (arch/x86/kernel/process.c)
// spreads a 64-bit heap over 1 GiB, randomize_page(mm->brk, SZ_1G), rather
// than 32 MiB (0x02000000). Upstream: since 6.9 ("x86: Increase brk
// randomness entropy for 64-bit systems"). The 6.1 stable line took it in
// 6.1.112; Debian reverted it in 6.1.119-1 and restored it in 6.1.123-1
// (Debian's changelog; Debian's 6.1.176 source has SZ_1G). Other stable
// lines before 6.9 are taken to have 32 MiB, with a warning in the source.
func (k Kernel) brk1G() (yes bool, note string) {
	ma, mi, sub, deb, ok := k.version()
	switch {
	case !ok || ma > 6 || ma == 6 && mi >= 9:
		return true, "since 6.9"
	case ma == 6 && mi == 1 && sub >= 112:
		if deb > 0 && sub >= 119 && sub < 123 {
			return false, "Debian 6.1.119 to 6.1.122 reverted the 6.1.112 backport"
		}
		return true, "backported to 6.1.112"
	case ma == 6 && mi == 1 && sub < 0:
		return false, "6.1 before 6.1.112; 6.1.112+ has 1 GiB, and this release does not say which"
	}
	return false, "before 6.9, unless this stable line backported the 1 GiB range"
}

// KernelMax is the most entropy the kernel gives region, from that kernel
// version's source; arm64 kernels are in kernelMaxArm64. On x86-64:
//
//   - mmap, exe: vm.mmap_rnd_bits pages. arch/x86/mm/mmap.c arch_rnd() for
//     the mmap base (an interpreter's base); fs/binfmt_elf.c
//     load_elf_binary() adds arch_mmap_rnd() to ELF_ET_DYN_BASE for a PIE
//     (a static ET_EXEC does not move: 0 measured, within the bound).
//   - vdso, vvar, vvar_vclock: since 6.9 in the mmap region, mmap_rnd_bits;
//     before, arch/x86/entry/vdso/vma.c vdso_addr() puts them at a random
//     page between the stack top and the next 2 MiB boundary, inside the
//     stack's own 22-bit range: 22 bits.
//   - stack: mm/util.c randomize_stack_top(), STACK_RND_MASK 0x3fffff pages
//     (arch/x86/include/asm/elf.h): 22 bits.
//   - sp: then arch_align_stack() (arch/x86/kernel/process.c) subtracts up
//     to 8 KiB and rounds down to 16 bytes: 2^22 pages x 256 slots = 30 bits.
//   - heap: arch_randomize_brk() (arch/x86/kernel/process.c) with
//     randomize_page() (mm/util.c): 1 GiB = 18 bits of pages, or 32 MiB = 13
//     (see brk1G); fs/binfmt_elf.c randomizes brk only when
//     randomize_va_space > 1.
//
// randomize_va_space = 0 allows nothing.
func KernelMax(region string, k Kernel) Max {
	if k == (Kernel{}) {
		return Max{} // nothing known about the kernel (samples read from a CSV)
	}
	if k.RandomizeVASpace == 0 {
		return Max{0, "randomize_va_space=0", true}
	}
	mmap := func(why string) Max {
		if k.MmapRndBits <= 0 {
			return Max{}
		}
		return Max{float64(k.MmapRndBits), "vm.mmap_rnd_bits: " + why, true}
	}
	if k.arm64() {
		return kernelMaxArm64(region, k, mmap)
	}
	switch region {
	case "mmap":
		return mmap("arch_rnd(), arch/x86/mm/mmap.c")
	case "exe":
		return mmap("ELF_ET_DYN_BASE + arch_mmap_rnd(), load_elf_binary() in fs/binfmt_elf.c")
	case "vdso", "vvar", "vvar_vclock":
		if k.atLeast(6, 9) {
			return mmap("vDSO in the mmap region since 6.9, arch/x86/entry/vdso/vma.c")
		}
		return Max{22, "stack's 22 bits: vdso_addr() places it within 2 MiB above the stack (arch/x86/entry/vdso/vma.c, before 6.9)", true}
	case "stack":
		return Max{22, "STACK_RND_MASK 0x3fffff pages: randomize_stack_top(), mm/util.c", true}
	case "sp":
		return Max{30, "22 bits of pages + arch_align_stack() (8 KiB in 16-byte steps, arch/x86/kernel/process.c)", true}
	case "heap":
		if k.RandomizeVASpace == 1 {
			return Max{0, "randomize_va_space=1: brk not randomized (load_elf_binary(), fs/binfmt_elf.c)", true}
		}
		if yes, note := k.brk1G(); yes {
			return Max{18, "randomize_page(brk, SZ_1G): arch_randomize_brk(), arch/x86/kernel/process.c, " + note, true}
		} else {
			return Max{13, "randomize_page(brk, SZ_32M): arch_randomize_brk(), arch/x86/kernel/process.c, " + note, true}
		}
	}
	return Max{}
}

// kernelMaxArm64 is KernelMax on arm64 with 4 KiB pages (Debian's arm64
// kernels; 16 and 64 KiB pages shift STACK_RND_MASK and arch_align_stack
// and are not handled). arm64 has used the generic top-down layout of
// mm/util.c since 5.2 ("arm64, mm: make randomization selected by generic
// topdown mmap layout", CONFIG_ARCH_WANT_DEFAULT_TOPDOWN_MMAP_LAYOUT):
//
//   - mmap, exe: vm.mmap_rnd_bits pages, arch_mmap_rnd() in mm/util.c,
//     for the mmap base (mmap_base()) and for a PIE at ELF_ET_DYN_BASE
//     (load_elf_binary(), fs/binfmt_elf.c). Debian's 6.1 arm64 build has
//     CONFIG_ARCH_MMAP_RND_BITS=18, the sysctl's default; 48-bit VA and 4
//     KiB pages allow up to VA_BITS - PAGE_SHIFT - 3 = 33
//     (ARCH_MMAP_RND_BITS_MAX, arch/arm64/Kconfig). The run's sysctl is
//     what counts.
//   - vdso, vvar: arch/arm64/kernel/vdso.c __setup_additional_pages() maps
//     them with get_unmapped_area(NULL, ...), top-down from mm->mmap_base:
//     in the mmap region, mmap_rnd_bits, in every version.
//   - stack: randomize_stack_top() (mm/util.c) with arm64's STACK_RND_MASK,
//     0x3ffff >> (PAGE_SHIFT - 12) pages (arch/arm64/include/asm/elf.h): 18
//     bits.
//   - sp: arch_align_stack() (arch/arm64/kernel/process.c) subtracts less
//     than PAGE_SIZE and rounds down to 16 bytes: 256 slots, 18 + 8 = 26
//     bits.
//   - heap: arch_randomize_brk() in mm/util.c, randomize_page(brk, SZ_1G)
//     for a 64-bit task: 18 bits of pages (before 5.2 arm64's own
//     arch_randomize_brk in arch/arm64/mm/mmap.c had the same 1
//     GiB); fs/binfmt_elf.c randomizes brk only when randomize_va_space > 1.
func kernelMaxArm64(region string, k Kernel, mmap func(string) Max) Max {
	switch region {
	case "mmap":
		return mmap("arch_mmap_rnd(), mm/util.c (arm64: generic top-down layout; Debian 6.1 default CONFIG_ARCH_MMAP_RND_BITS=18)")
	case "exe":
		return mmap("mmap region or ELF_ET_DYN_BASE + arch_mmap_rnd(), load_elf_binary() in fs/binfmt_elf.c, mm/util.c")
	case "vdso", "vvar", "vvar_vclock":
		return mmap("vDSO mapped by get_unmapped_area() in the mmap region, arch/arm64/kernel/vdso.c")
	case "stack":
		return Max{18, "arm64 STACK_RND_MASK 0x3ffff pages (4 KiB pages, arch/arm64/include/asm/elf.h): randomize_stack_top(), mm/util.c", true}
	case "sp":
		return Max{26, "18 bits of pages + arch_align_stack() (under one page in 16-byte steps, arch/arm64/kernel/process.c)", true}
	case "heap":
		if k.RandomizeVASpace == 1 {
			return Max{0, "randomize_va_space=1: brk not randomized (load_elf_binary(), fs/binfmt_elf.c)", true}
		}
		return Max{18, "randomize_page(brk, SZ_1G): arch_randomize_brk(), mm/util.c (arm64: generic top-down layout)", true}
	}
	return Max{}
}

// annotatedArm64 reports whether run a was annotated (Annotate) with
// arm64's maxima: every arm64 source names a file under arch/arm64/ or
// says arm64, none of x86-64's does. Conclusions are given the ASLR part
// alone, without the run's Env and its machine.
func annotatedArm64(a *runfile.ASLR) bool {
	for _, r := range a.Regions {
		if strings.Contains(r.KernelMaxSource, "arm64") {
			return true
		}
	}
	return false
}

// MaxIn is KernelMax for a region of run a, where the code path the kernel
// took depends on the target: fs/binfmt_elf.c load_elf_binary() starts brk
// at the end of the executable's bss, and moves it to ELF_ET_DYN_BASE only
// for an ET_DYN without interpreter (a static PIE, whose exe is the mmap
// base here). So for a PIE with an interpreter (exe randomized, not the
// mmap base) the heap carries the executable's randomization as well:
// log2(2^exe + 2^brk) bits.
func MaxIn(a *runfile.ASLR, region string, k Kernel) Max {
	m := KernelMax(region, k)
	if region != "heap" || !m.Known || m.Bits == 0 || a == nil {
		return m
	}
	exe := regionOf(a.Regions, "exe")
	if exe == nil || exe.Present == 0 || exe.Distinct <= 1 {
		return m // a static ET_EXEC: brk follows a fixed executable
	}
	if p := pairByName(a, "exe", "mmap"); p != nil && p.DistinctDiffs == 1 && p.Offset == 0 {
		return m // a static PIE: brk moved to ELF_ET_DYN_BASE
	}
	e := KernelMax("exe", k)
	if !e.Known {
		return Max{}
	}
	return Max{math.Log2(math.Exp2(e.Bits) + math.Exp2(m.Bits)),
		fmt.Sprintf("brk starts after the PIE executable (load_elf_binary(), fs/binfmt_elf.c): its %.0f bits, then %s", e.Bits, m.Source), true}
}

// aboveSlack is how far a figure may exceed the kernel maximum before it is
// flagged: rounding, and the unseen-ends margin of the range.
const aboveSlack = 0.05

// Above reports whether region r's effective figure exceeds the maximum m.
func Above(r runfile.Region, m Max) bool {
	return m.Known && r.Present > 0 && r.Effective > m.Bits+aboveSlack
}

// AboveWords is the sentence for a figure above the kernel maximum.
func AboveWords(r runfile.Region, m Max) string {
	return fmt.Sprintf("%s: %.2f bits measured, above the kernel maximum of %.0f (%s): either this kernel build differs from the source vbench knows, or the estimate is wrong",
		r.Name, r.Effective, m.Bits, m.Source)
}

// Annotate fills each region's kernel maximum fields for kernel k.
func Annotate(a *runfile.ASLR, k Kernel) {
	if a == nil {
		return
	}
	for i := range a.Regions {
		r := &a.Regions[i]
		m := MaxIn(a, r.Name, k)
		r.KernelMaxBits, r.KernelMaxSource, r.AboveKernelMax = 0, "", false
		if m.Known {
			r.KernelMaxBits, r.KernelMaxSource, r.AboveKernelMax = m.Bits, m.Source, Above(*r, m)
		}
	}
}
