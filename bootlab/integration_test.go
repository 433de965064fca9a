package bootlab

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vbench-dev/vbench/aslr/analysis"
	"github.com/vbench-dev/vbench/runfile"
)

// skipUnlessCI skips the boot test for a missing prerequisite, except when
// VBENCH_REQUIRE_BOOT is set (.ci/run sets it): there a missing QEMU or
// kernel is a failure, so CI cannot pass without having booted the modes.
func skipUnlessCI(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("VBENCH_REQUIRE_BOOT") != "" {
		t.Fatalf("VBENCH_REQUIRE_BOOT is set but: "+format, args...)
	}
	t.Skipf(format, args...)
}

// testKernel finds a kernel for the boot test: $VBENCH_TEST_KERNEL, else the
// first .ci/fetch-kernel unpacked under .cache/kernel at the repository root.
func testKernel(t *testing.T) string {
	if k := os.Getenv("VBENCH_TEST_KERNEL"); k != "" {
		if err := checkKernel(k); err != nil {
			t.Fatalf("VBENCH_TEST_KERNEL: %v", err)
		}
		return k
	}
	ks, _ := filepath.Glob("../.cache/kernel/*-amd64/boot/vmlinuz-*")
	if len(ks) == 0 {
		skipUnlessCI(t, "no kernel: set VBENCH_TEST_KERNEL or run .ci/fetch-kernel")
	}
	return ks[0]
}

// TestBootAllModes boots a static vbench in each vsyscall= mode and checks
// what each guest saw against the table in FIELD-GUIDE.md (and the kernel's
// tools/testing/selftests/x86/test_vsyscall.c).
func TestBootAllModes(t *testing.T) {
	if testing.Short() {
		skipUnlessCI(t, "boots QEMU; skipped with -short")
	}
	qemu, err := FindQEMU("", arches[0])
	if err != nil {
		skipUnlessCI(t, "%v", err)
	}
	kernel := testKernel(t)
	gobin, err := exec.LookPath("go")
	if err != nil {
		skipUnlessCI(t, "no go command to build the guest's vbench")
	}

	dir := t.TempDir()
	vb := filepath.Join(dir, "vbench")
	build := exec.Command(gobin, "build", "-o", vb, "github.com/vbench-dev/vbench/cmd/vbench")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building a static vbench: %v\n%s", err, out)
	}
	if err := CheckInit(vb, arches[0]); err != nil {
		t.Fatalf("CGO_ENABLED=0 build is not static: %v", err)
	}
	initrd, err := BuildInitramfs(dir, vb)
	if err != nil {
		t.Fatal(err)
	}
	modes, err := ParseModes("emulate,xonly,none")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		QEMU: qemu, Kernel: kernel, Initramfs: initrd,
		// The short study: aslr spawns hundreds of processes, slow under TCG.
		Append: "VBENCH_PARTS=vsyscall,bench,verify",
		// Generous: under TCG on a loaded 2-core host a guest has taken
		// 50 s; a quiet one takes 5 to 25.
		Timeout: 120 * time.Second,
	}
	want := map[string]struct {
		perms, read, call string // perms "" means no [vsyscall] line
	}{
		"emulate": {"r-xp", "ok", "ok"},
		"xonly":   {"--xp", "SIGSEGV", "ok"},
		"none":    {"", "SIGSEGV", "SIGSEGV"},
	}
	// The probe recognizes a real kernel's first console lines (run here
	// under TCG, which every machine has; the KVM probe is the same boot).
	start := time.Now()
	if err := probeBoot(context.Background(), Config{QEMU: qemu, Kernel: kernel, Accel: AccelTCG}, 60*time.Second); err != nil {
		t.Errorf("probe boot under tcg: %v", err)
	}
	t.Logf("probe boot under tcg: kernel printed after %.1fs", time.Since(start).Seconds())

	// The accelerator is chosen as `vbench bootmodes` chooses it: KVM only
	// if a test boot prints under it here ($VBENCH_QEMU_ACCEL forces one).
	acc, err := ChooseAccel(context.Background(), "", cfg, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("accel %s: %s", acc.Name, acc.Reason)
	cfg.Accel, cfg.AccelReason = acc.Name, acc.Reason
	if acc.Name == AccelKVM {
		cfg.Silent = 20 * time.Second
	}
	for _, m := range modes {
		res := Boot(context.Background(), cfg, m)
		t.Logf("%s: %.1fs (%s)", m.Name, res.Seconds, cfg.accel())
		if res.Err != nil || res.Run == nil {
			t.Errorf("%s: no result: %v\nconsole tail:\n%s", m.Name, res.Err, tail(res.Console, 15))
			continue
		}
		r, w := res.Run, want[m.Name]
		o := r.Boot.Observed
		t.Logf("%s: maps %q read %q call %q errors %q", m.Name, o.MapsLine, o.ReadProbe, o.CallProbe, r.Boot.Errors)
		if r.Boot.Accel != acc.Name || r.Boot.AccelReason != acc.Reason {
			t.Errorf("%s: run records accel %q (%q), want %q (%q)", m.Name, r.Boot.Accel, r.Boot.AccelReason, acc.Name, acc.Reason)
		}
		if !r.Env.Guest || r.Env.VsyscallBoot != m.Name || r.Boot.Mode != m.Name {
			t.Errorf("%s: run not marked as this guest's: guest=%v vsyscall_boot=%q mode=%q", m.Name, r.Env.Guest, r.Env.VsyscallBoot, r.Boot.Mode)
		}
		if w.perms == "" {
			if o.MapsLine != "" {
				t.Errorf("%s: maps line %q, want none", m.Name, o.MapsLine)
			}
		} else if f := strings.Fields(o.MapsLine); len(f) < 2 || f[1] != w.perms || !strings.HasSuffix(o.MapsLine, "[vsyscall]") {
			t.Errorf("%s: maps line %q, want a [vsyscall] line with %s", m.Name, o.MapsLine, w.perms)
		}
		if r.Env.VsyscallMode != m.Name {
			t.Errorf("%s: mode from maps %q", m.Name, r.Env.VsyscallMode)
		}
		if o.ReadProbe != w.read || o.CallProbe != w.call {
			t.Errorf("%s: read %q call %q, want %q %q", m.Name, o.ReadProbe, o.CallProbe, w.read, w.call)
		}
		for _, e := range r.Boot.Errors {
			if strings.Contains(e, "panic") {
				t.Errorf("%s: a part crashed: %s", m.Name, e)
			}
		}
		if r.Verify != nil {
			if f := failedChecks(r.Verify); len(f) > 0 {
				t.Errorf("%s: verify checks failed: %+v", m.Name, f)
			}
		}
		checkVsyscallCells(t, m.Name, r)
	}
}

// checkVsyscallCells: with vsyscall=none every vsyscall-path cell must be
// marked unavailable (and not measured, which would have killed the guest);
// in the other modes they must have been measured.
func checkVsyscallCells(t *testing.T, mode string, r *runfile.Run) {
	if r.Bench == nil {
		for _, e := range r.Boot.Errors {
			if strings.HasPrefix(e, "bench") && strings.Contains(e, "not implemented") {
				t.Logf("%s: bench not implemented yet; vsyscall cells not checked", mode)
				return
			}
		}
		t.Errorf("%s: no bench in the run (errors: %q)", mode, r.Boot.Errors)
		return
	}
	n := 0
	for _, c := range r.Bench.Cells {
		if c.Path != "vsyscall" {
			continue
		}
		n++
		if mode == "none" && (c.Unavailable == "" || len(c.Samples) > 0) {
			t.Errorf("none: cell %s measured, want unavailable", c.Name())
		}
		if mode != "none" && c.Unavailable != "" {
			t.Errorf("%s: cell %s unavailable: %s", mode, c.Name(), c.Unavailable)
		}
	}
	if n == 0 {
		t.Errorf("%s: bench has no vsyscall cells", mode)
	}
}

func failedChecks(v *runfile.Verify) []runfile.Check {
	var out []runfile.Check
	for _, c := range v.Checks {
		if c.Status == "fail" {
			out = append(out, c)
		}
	}
	return out
}

func tail(b []byte, n int) string {
	lines := strings.Split(strings.ReplaceAll(string(b), "\r", ""), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// TestProbeBootArm64 boots Debian's arm64 kernel under qemu-system-aarch64
// (TCG) far enough for its first console line: the machine, CPU and early
// console the boot lab gives an arm64 kernel work. The kernel comes from
// $VBENCH_TEST_KERNEL_ARM64, else from .ci/fetch-kernel 6.1/arm64.
func TestProbeBootArm64(t *testing.T) {
	if testing.Short() {
		t.Skip("boots QEMU; skipped with -short")
	}
	k, arch, qemu := arm64Kernel(t)
	start := time.Now()
	if err := probeBoot(context.Background(), Config{QEMU: qemu, Kernel: k, Arch: arch, Accel: AccelTCG}, 60*time.Second); err != nil {
		t.Fatalf("arm64 probe boot: %v", err)
	}
	t.Logf("arm64 kernel printed after %.1fs under tcg", time.Since(start).Seconds())
}

// arm64Kernel finds the arm64 kernel for the boot tests
// ($VBENCH_TEST_KERNEL_ARM64, else .ci/fetch-kernel 6.1/arm64's under
// .cache) and its QEMU, skipping (failing under VBENCH_REQUIRE_BOOT) when
// either is missing.
func arm64Kernel(t *testing.T) (kernel string, arch *Arch, qemu string) {
	t.Helper()
	k := os.Getenv("VBENCH_TEST_KERNEL_ARM64")
	if k == "" {
		ks, _ := filepath.Glob("../.cache/kernel/*-arm64/boot/vmlinuz-*")
		if len(ks) == 0 {
			skipUnlessCI(t, "no arm64 kernel: set VBENCH_TEST_KERNEL_ARM64 or run .ci/fetch-kernel 6.1/arm64")
		}
		k = ks[0]
	}
	ks, err := ParseKernels([]string{k})
	if err != nil {
		t.Fatal(err)
	}
	if ks[0].Arch.GOARCH != "arm64" {
		t.Fatalf("%s: read as %s", k, ks[0].Arch.Name)
	}
	qemu, err = FindQEMU("", ks[0].Arch)
	if err != nil {
		skipUnlessCI(t, "%v", err)
	}
	return k, ks[0].Arch, qemu
}

// TestBootArm64 cross-builds a static arm64 vbench, boots it as /init of
// the arm64 kernel under qemu-system-aarch64 (TCG: the timings are
// emulated, only what ran and what agreed is checked) with the parts
// vsyscall, bench, verify and aslr (a few hundred samples of the built-in
// arm64 target), and checks the run it sends back:
//   - the vDSO's clock_gettime(CLOCK_MONOTONIC) was measured, and verify
//     read it between two syscalls without it going backwards;
//   - every vsyscall cell is there and unavailable, saying the page is
//     x86-64 only, and verify skips the page;
//   - time (no syscall, no vDSO entry on arm64) and getcpu through the vDSO
//     (arm64's vDSO has none; the syscall is measured) are unavailable
//     cells with their reasons, not missing rows;
//   - no check failed and no part failed;
//   - ASLR: every sample self-reported by the AArch64 target, some of them
//     checked against /proc through ptrace (a mismatch fails the part);
//     vdso, stack and mmap (at least) randomized; no region above the
//     arm64 kernel maximum (package aslr); no [vsyscall] mapped.
func TestBootArm64(t *testing.T) {
	if testing.Short() {
		skipUnlessCI(t, "boots QEMU; skipped with -short")
	}
	kernel, arch, qemu := arm64Kernel(t)
	gobin, err := exec.LookPath("go")
	if err != nil {
		skipUnlessCI(t, "no go command to build the guest's vbench")
	}
	dir := t.TempDir()
	vb := filepath.Join(dir, "vbench")
	build := exec.Command(gobin, "build", "-o", vb, "github.com/vbench-dev/vbench/cmd/vbench")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOARCH=arm64")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("cross-building a static arm64 vbench: %v\n%s", err, out)
	}
	if err := CheckInit(vb, arch); err != nil {
		t.Fatalf("GOARCH=arm64 CGO_ENABLED=0 build cannot be /init: %v", err)
	}
	initrd, err := BuildInitramfs(dir, vb)
	if err != nil {
		t.Fatal(err)
	}
	modes := ModesFor(arch, nil)
	if len(modes) != 1 || modes[0] != DefaultMode {
		t.Fatalf("arm64 boots %v, want the one default boot", modes)
	}
	cfg := Config{QEMU: qemu, Kernel: kernel, Arch: arch, Initramfs: initrd, Accel: AccelTCG,
		AccelReason: "an aarch64 kernel on this host: tcg",
		// 240 s gives the guest a budget of 144 s (cmd/vbench guest.go):
		// 72 s for the ASLR samples, 36 s for the bench, which needs about
		// 12 s under TCG on an idle host.
		Append:  "VBENCH_PARTS=vsyscall,bench,verify,aslr VBENCH_ASLR_METHOD=self-report VBENCH_ASLR_SAMPLES=" + strconv.Itoa(arm64ASLRSamples),
		Timeout: 240 * time.Second}
	res := Boot(context.Background(), cfg, modes[0])
	t.Logf("arm64 boot: %.1fs (tcg)", res.Seconds)
	if res.Err != nil || res.Run == nil {
		t.Fatalf("no result: %v\nconsole tail:\n%s", res.Err, tail(res.Console, 20))
	}
	r := res.Run
	if r.Env.Machine != "aarch64" || r.Env.VsyscallMode != "absent" {
		t.Errorf("guest machine %q vsyscall mode %q, want aarch64 absent", r.Env.Machine, r.Env.VsyscallMode)
	}
	for _, e := range r.Boot.Errors {
		// A bench cut short by its time budget (a loaded host slows TCG
		// down several times) keeps what it measured; the checks below
		// still need the cells they look at.
		if strings.HasPrefix(e, "bench interrupted") {
			t.Logf("guest: %s", e)
			continue
		}
		t.Errorf("a part failed: %s", e)
	}
	if r.Bench == nil || r.Verify == nil {
		t.Fatalf("bench %v verify %v: both parts must have run", r.Bench != nil, r.Verify != nil)
	}

	cells := map[string]runfile.Cell{}
	for _, c := range r.Bench.Cells {
		cells[string(c.Function)+"/"+string(c.Clock)+"/"+string(c.Path)] = c
	}
	// 1. The vDSO's clock_gettime(MONOTONIC) measured, and in order with
	// the syscall.
	if c, ok := cells["clock_gettime/MONOTONIC/vdso"]; !ok || c.Unavailable != "" || len(c.Samples) == 0 {
		t.Errorf("vdso clock_gettime MONOTONIC not measured: %+v", c)
	} else if s, ok := cells["clock_gettime/MONOTONIC/syscall"]; !ok || len(s.Samples) == 0 {
		t.Errorf("syscall clock_gettime MONOTONIC not measured")
	} else {
		t.Logf("clock_gettime MONOTONIC under TCG: vdso %.0f ns, syscall %.0f ns (samples' first)", c.Samples[0], s.Samples[0])
	}
	wantCheck(t, r.Verify, "clock_gettime MONOTONIC: syscall <= vdso <= syscall", "pass")

	// 2. The vsyscall cells: present, unavailable, saying why.
	n := 0
	for _, c := range r.Bench.Cells {
		if c.Path != "vsyscall" {
			continue
		}
		n++
		if c.Unavailable == "" || len(c.Samples) > 0 || !strings.Contains(c.Unavailable, "x86-64 only") {
			t.Errorf("vsyscall cell %s: unavailable %q with %d samples, want unavailable: x86-64 only", c.Name(), c.Unavailable, len(c.Samples))
		}
	}
	if n != 3 {
		t.Errorf("%d vsyscall cells, want gettimeofday, time and getcpu's", n)
	}
	wantCheck(t, r.Verify, "gettimeofday via vsyscall", "skip")

	// 3. time and the vDSO's getcpu: unavailable with their reasons; the
	// getcpu syscall measured.
	for key, why := range map[string]string{
		"time//syscall": "no time syscall",
		"time//vdso":    "vDSO has no time",
		"getcpu//vdso":  "vDSO has no getcpu",
	} {
		c, ok := cells[key]
		if !ok || c.Unavailable == "" || !strings.Contains(c.Unavailable, why) {
			t.Errorf("%s: present %v, unavailable %q, want a reason saying %q", key, ok, c.Unavailable, why)
		}
	}
	if c := cells["getcpu//syscall"]; c.Unavailable != "" || len(c.Samples) == 0 {
		t.Errorf("getcpu via syscall not measured: %q", c.Unavailable)
	}
	wantCheck(t, r.Verify, "time via syscall", "skip")
	wantCheck(t, r.Verify, "getcpu via vdso", "skip")
	if f := failedChecks(r.Verify); len(f) > 0 {
		t.Errorf("verify checks failed: %+v", f)
	}
	checkArm64ASLR(t, r)
}

// arm64ASLRSamples is what TestBootArm64 asks the guest for: enough for
// every region to show that it moves, few enough for TCG.
const arm64ASLRSamples = 300

// checkArm64ASLR checks the aslr part of an arm64 guest's run.
func checkArm64ASLR(t *testing.T, r *runfile.Run) {
	t.Helper()
	a := r.ASLR
	if a == nil {
		t.Fatal("no aslr part in the arm64 guest's run")
	}
	t.Logf("arm64 ASLR: %d samples in %v (%.0f/s under tcg), %s, %d checked against /proc", a.Samples, a.Duration.Round(time.Millisecond), a.Rate, a.Method, a.Checked)
	if a.Samples < arm64ASLRSamples/2 || a.Method != runfile.MethodSelfReport || a.Checked == 0 {
		t.Errorf("%d samples (asked %d), method %q, %d checked: want most samples, self-reported, some checked", a.Samples, arm64ASLRSamples, a.Method, a.Checked)
	}
	if a.NoRandomize || a.InheritedNoRandomize {
		t.Errorf("guest sampled without randomization")
	}
	k := analysis.KernelOf(r.Env)
	regions := map[string]runfile.Region{}
	for _, g := range a.Regions {
		regions[g.Name] = g
		m := analysis.MaxIn(a, g.Name, k)
		t.Logf("  %-11s present %3d distinct %3d effective %5.2f [%5.2f, %5.2f] (%s), kernel max %v", g.Name, g.Present, g.Distinct, g.Effective, g.EffectiveLo, g.EffectiveHi, g.Rule, m.Bits)
		if g.Present > 0 && !m.Known {
			t.Errorf("%s: no arm64 kernel maximum", g.Name)
		}
		if analysis.Above(g, m) {
			t.Errorf("%s", analysis.AboveWords(g, m))
		}
		// The guest annotated its run with the same maxima (it knows it
		// runs arm64: uname -m).
		if m.Known && (g.KernelMaxBits != m.Bits || g.KernelMaxSource != m.Source) {
			t.Errorf("%s: the guest says kernel max %v (%s), the arm64 maximum is %v (%s)", g.Name, g.KernelMaxBits, g.KernelMaxSource, m.Bits, m.Source)
		}
	}
	for _, name := range []string{"vdso", "stack", "mmap", "exe", "sp", "heap"} {
		g, ok := regions[name]
		if !ok || g.Present == 0 || g.Distinct <= 1 || g.Effective <= 0 {
			t.Errorf("%s: present %d distinct %d effective %.2f: want it randomized", name, g.Present, g.Distinct, g.Effective)
		}
	}
	if v := a.Vsyscall; v != nil && v.Mapped > 0 {
		t.Errorf("[vsyscall] mapped in %d samples at %#x on arm64", v.Mapped, v.Addr)
	}
}

// wantCheck fails t unless v has the check name with status.
func wantCheck(t *testing.T, v *runfile.Verify, name string, status runfile.Status) {
	t.Helper()
	for _, c := range v.Checks {
		if c.Name == name {
			if c.Status != status {
				t.Errorf("check %q: %s (%s), want %s", name, c.Status, c.Detail, status)
			}
			return
		}
	}
	t.Errorf("no check %q in verify", name)
}
