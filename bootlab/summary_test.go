package bootlab

import (
	"errors"
	"strings"
	"testing"

	"github.com/vbench-dev/vbench/runfile"
)

func TestWriteSummaryMarkdown(t *testing.T) {
	ok := &runfile.Run{Boot: &runfile.Boot{Accel: "tcg", Seconds: 2.25, Observed: runfile.VsyscallObserved{
		MapsLine: "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0 [vsyscall]", ReadProbe: "SIGSEGV", CallProbe: "ok"}}}
	results := []Result{
		{Kernel: "6.1.0-50-cloud-amd64", Mode: Mode{"xonly", "vsyscall=xonly"}, Run: ok, Seconds: 2.25},
		{Kernel: "6.12.57+deb12-cloud-amd64", Mode: Mode{"none", "vsyscall=none"}, Seconds: 50, Err: errors.New("boot timed out | killed")},
	}
	var b strings.Builder
	WriteSummaryMarkdown(&b, map[string]Accel{"x86_64": {AccelTCG, "kvm unusable here: qemu aborted (x); using tcg"}}, results)
	s := b.String()
	for _, w := range []string{
		"Accelerator for x86_64 kernels: tcg (kvm unusable here: qemu aborted (x); using tcg).",
		"Kernels `6.1.0-50-cloud-amd64`, `6.12.57+deb12-cloud-amd64`;",
		"| 6.1.0-50-cloud-amd64 | xonly | `vsyscall=xonly` | `--xp` | SIGSEGV | ok | tcg | 2.2 | ok |",
		"| 6.12.57+deb12-cloud-amd64 | none | `vsyscall=none` | - | - | - | - | 50.0 | no result: boot timed out \\| killed |",
		TCGNote,
	} {
		if !strings.Contains(s, w) {
			t.Errorf("summary lacks %q:\n%s", w, s)
		}
	}
	ok.Boot.Accel = "kvm"
	b.Reset()
	WriteSummaryMarkdown(&b, map[string]Accel{"x86_64": {AccelKVM, "kvm works here"}}, results[:1])
	if strings.Contains(b.String(), TCGNote) {
		t.Error("TCG note written for a KVM boot")
	}
	if Perms("") != "absent" || Perms(ok.Boot.Observed.MapsLine) != "--xp" {
		t.Error("Perms")
	}
}

func TestWriteASLRMarkdown(t *testing.T) {
	guest := func(kernel, version string, samples int, vdso runfile.Region, pairs ...runfile.Pair) *runfile.Run {
		return &runfile.Run{
			Env: runfile.Env{KernelRelease: kernel, KernelVersion: version, RandomizeVASpace: runfile.Int(2), MmapRndBits: runfile.Int(28)},
			ASLR: &runfile.ASLR{Samples: samples, Regions: []runfile.Region{
				vdso,
				{Name: "mmap", Present: samples, Distinct: samples, Effective: 28, EffectiveLo: 21.7, EffectiveHi: 28},
				{Name: "heap", Present: samples, Distinct: samples - 5, Effective: 21.5, EffectiveLo: 20.9, EffectiveHi: 22.1},
			}, Pairs: pairs}}
	}
	v61 := runfile.Region{Name: "vdso", Present: 3000, Distinct: 2990, Effective: 21.4, EffectiveLo: 20.8, EffectiveHi: 22.0}
	v612 := runfile.Region{Name: "vdso", Present: 900, Distinct: 900, Effective: 28, EffectiveLo: 18.7, EffectiveHi: 28}
	results := []Result{
		{Kernel: "6.1.0-50-cloud-amd64", Mode: Mode{"emulate", "vsyscall=emulate"}, Run: guest("6.1.0-50-cloud-amd64", "#1 SMP Debian 6.1.176-1", 3000, v61)},
		{Kernel: "6.1.0-50-cloud-amd64", Mode: Mode{"xonly", "vsyscall=xonly"}, Run: guest("6.1.0-50-cloud-amd64", "#1 SMP Debian 6.1.176-1", 2000, v61)},
		{Kernel: "6.12.117+deb12-cloud-amd64", Mode: Mode{"none", "vsyscall=none"}, Run: guest("6.12.117+deb12-cloud-amd64", "#1 SMP Debian 6.12.117-1", 900, v612,
			runfile.Pair{A: "mmap", B: "vdso", DistinctDiffs: 1, Offset: -0x2000, MinDiff: -0x2000, MaxDiff: -0x2000})},
		{Kernel: "6.12.117+deb12-cloud-amd64", Mode: Mode{"xonly", "vsyscall=xonly"}, Err: errors.New("no frame")},
	}
	var b strings.Builder
	WriteASLRMarkdown(&b, results)
	s := b.String()
	for _, w := range []string{
		"| region | 6.1.0-50-cloud-amd64 (emulate, 3000 samples) | 6.12.117+deb12-cloud-amd64 (none, 900 samples) |",
		"| vdso | 21.4 [20.8, 22.0] | 28.0 [18.7, 28.0] |",
		"| heap | 21.5 [20.9, 22.1] **above the kernel's 18** | 21.5 [20.9, 22.1] **above the kernel's 18** |",
		"On 6.12.117+deb12-cloud-amd64:",
		"vdso, mmap move together",
	} {
		if !strings.Contains(s, w) {
			t.Errorf("ASLR table lacks %q:\n%s", w, s)
		}
	}
	b.Reset()
	WriteASLRMarkdown(&b, results[3:])
	if b.Len() != 0 {
		t.Errorf("no ASLR results, yet: %q", b.String())
	}
}
