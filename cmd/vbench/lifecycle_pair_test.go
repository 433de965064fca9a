package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vbench-dev/vbench/bootlab"
	"github.com/vbench-dev/vbench/runfile"
)

// TestLifecyclePair boots the fault-injection kernel pair .ci/build-kernel
// makes ($VBENCH_TEST_FI_KERNELS: the fixed kernel's path, then the
// unfixed one's, space-separated) with `vbench bootmodes`, running only
// the lifecycle part, and checks what the map_vdso() fix is about: on the
// fixed kernel every failure point of ARCH_MAP_VDSO_64 fails cleanly, on
// the unfixed one at least one leaves [vvar] mapped. A kernel without
// fault injection fails the test with the check's reason, which names the
// missing option. Skipped when the variable is unset, except in CI
// (VBENCH_REQUIRE_BOOT).
func TestLifecyclePair(t *testing.T) {
	ks := strings.Fields(os.Getenv("VBENCH_TEST_FI_KERNELS"))
	if len(ks) != 2 {
		if os.Getenv("VBENCH_REQUIRE_BOOT") != "" {
			t.Fatalf("VBENCH_REQUIRE_BOOT is set but VBENCH_TEST_FI_KERNELS does not name two kernels (.ci/build-kernel prints them): %q", os.Getenv("VBENCH_TEST_FI_KERNELS"))
		}
		t.Skip("VBENCH_TEST_FI_KERNELS unset (the two paths .ci/build-kernel prints)")
	}
	if testing.Short() {
		t.Skip("boots QEMU; skipped with -short")
	}
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		t.Fatalf("VBENCH_TEST_FI_KERNELS is set but: %v", err)
	}
	dir := t.TempDir()
	vb := filepath.Join(dir, "vbench")
	build := exec.Command("go", "build", "-o", vb, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building a static vbench: %v\n%s", err, out)
	}
	out := filepath.Join(dir, "pair")
	cmd := exec.Command(vb, "bootmodes", "--kernel", ks[0], "--kernel", ks[1], "--modes", "xonly",
		// no_timer_check: under TCG on a loaded host the kernel's IO-APIC
		// timer check can fail and panic ("IO-APIC + timer doesn't work!",
		// seen once here with a Debian kernel at load 25).
		"--append", "VBENCH_PARTS=lifecycle no_timer_check", "--accel", "tcg", "--timeout", "90s", "--out", out)
	b, err := cmd.CombinedOutput()
	t.Logf("%s", b)
	if err != nil {
		t.Fatalf("bootmodes: %v", err)
	}
	read := func(k string) *runfile.Lifecycle {
		pk, err := bootlab.ParseKernels([]string{k})
		if err != nil {
			t.Fatal(err)
		}
		name := pk[0].Name
		f, err := os.Open(filepath.Join(out, pk[0].Dir(), "xonly", "run.json"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		r, err := runfile.Decode(f, name)
		if err != nil {
			t.Fatal(err)
		}
		if r.Lifecycle == nil {
			t.Fatalf("%s: no lifecycle part in the guest's run (errors %q)", name, r.Errors)
		}
		for _, c := range r.Lifecycle.Checks {
			t.Logf("%s: %s %s: %s", name, c.Name, c.Status, c.Detail)
			if c.Name == "fault injection" && r.Lifecycle.FaultInjection == nil {
				t.Errorf("%s: the pair needs fault injection, the guest says: %s", name, c.Detail)
			}
			if c.Name != "fault injection" && c.Status != "pass" {
				t.Errorf("%s: %s %s: %s", name, c.Name, c.Status, c.Detail)
			}
		}
		return r.Lifecycle
	}
	fixed, unfixed := read(ks[0]), read(ks[1])
	if t.Failed() {
		return
	}
	if fi := fixed.FaultInjection; !fi.Complete || fi.Points == 0 || len(fi.Leaks) > 0 {
		t.Errorf("fixed kernel: %d points (complete %v), leaks %+v: want every point visited and none leaking", fi.Points, fi.Complete, fi.Leaks)
	}
	fi := unfixed.FaultInjection
	vvar := false
	for _, k := range fi.Leaks {
		for _, g := range k.Regions {
			vvar = vvar || g.Name == "[vvar]"
		}
	}
	if !vvar {
		t.Errorf("unfixed kernel: no failure point left [vvar] behind (leaks %+v)", fi.Leaks)
	}
	if fi.Points != fixed.FaultInjection.Points {
		t.Errorf("the one-line change moved the failure points: %d fixed, %d unfixed", fixed.FaultInjection.Points, fi.Points)
	}
	md, err := os.ReadFile(filepath.Join(out, "bootmodes.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "## The vDSO's lifecycle in each guest") || !strings.Contains(string(md), "): [vvar]") {
		t.Errorf("bootmodes.md does not show the leak:\n%s", md)
	}
}
