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
	WriteSummaryMarkdown(&b, Accel{AccelTCG, "kvm unusable here: qemu aborted (x); using tcg"}, results)
	s := b.String()
	for _, w := range []string{
		"Accelerator: tcg (kvm unusable here: qemu aborted (x); using tcg).",
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
	WriteSummaryMarkdown(&b, Accel{AccelKVM, "kvm works here"}, results[:1])
	if strings.Contains(b.String(), TCGNote) {
		t.Error("TCG note written for a KVM boot")
	}
	if Perms("") != "absent" || Perms(ok.Boot.Observed.MapsLine) != "--xp" {
		t.Error("Perms")
	}
}
