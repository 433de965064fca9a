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

// testKernel finds a kernel for the boot test: $VBENCH_TEST_KERNEL, else
// the newest 6.1 amd64 kernel .ci/fetch-kernel cached (CacheDir).
func testKernel(t *testing.T) string {
	return kernelFor(t, "VBENCH_TEST_KERNEL", "6.1", arches[0])
}

// kernelFor is $env if set (it must be a kernel of a), else the newest
// cached kernel of series for a; a missing one skips the test (fails it
// under VBENCH_REQUIRE_BOOT).
func kernelFor(t *testing.T, env, series string, a *Arch) string {
	t.Helper()
	if k := os.Getenv(env); k != "" {
		got, err := kernelArch(k)
		if err != nil {
			t.Fatalf("%s: %v", env, err)
		}
		if got != a {
			t.Fatalf("%s: %s is an %s kernel, want %s", env, k, got.Name, a.Name)
		}
		return k
	}
	k, err := CachedKernel(CacheDir(), series, a)
	if err != nil {
		skipUnlessCI(t, "set %s or: %v", env, err)
	}
	return k
}

// buildInit builds a static vbench for goarch as a guest's /init.
func buildInit(t *testing.T, goarch string) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		skipUnlessCI(t, "no go command to build the guest's vbench")
	}
	vb := filepath.Join(t.TempDir(), "vbench-"+goarch)
	build := exec.Command(gobin, "build", "-o", vb, "github.com/vbench-dev/vbench/cmd/vbench")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOARCH="+goarch)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building a static %s vbench: %v\n%s", goarch, err, out)
	}
	return vb
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
	vb := buildInit(t, "amd64")
	if err := CheckInit(vb, arches[0]); err != nil {
		t.Fatalf("CGO_ENABLED=0 build is not static: %v", err)
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

	// The lab as `vbench bootmodes --kernel K` runs it: the accelerator
	// chosen once (KVM only if a test boot prints under it here;
	// $VBENCH_QEMU_ACCEL forces one), the three modes up to one guest per
	// CPU at a time.
	out := t.TempDir()
	lab := Lab{Kernels: []string{kernel}, Modes: "emulate,xonly,none", Inits: []string{vb}, Out: out,
		// The short study: aslr spawns hundreds of processes, slow under TCG.
		Append: "VBENCH_PARTS=vsyscall,bench,verify",
		// Generous: under TCG on a loaded 2-core host a guest has taken
		// 50 s; a quiet one takes 5 to 25.
		Timeout: 120 * time.Second}
	res, err := lab.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	acc := res.Accels[arches[0].Name]
	t.Logf("accel %s: %s; %d boots, %d at a time, %.0f s", acc.Name, acc.Reason, len(res.Boots), res.Parallel, res.Seconds)
	if len(res.Boots) != 3 {
		t.Fatalf("%d boots, want one per mode", len(res.Boots))
	}
	checkWritten(t, res)
	for i, name := range []string{"emulate", "xonly", "none"} {
		res := res.Boots[i]
		m := res.Mode
		if m.Name != name {
			t.Errorf("boot %d is %s, want %s (results in the order asked)", i, m.Name, name)
		}
		t.Logf("%s: %.1fs (%s)", m.Name, res.Seconds, acc.Name)
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
// ($VBENCH_TEST_KERNEL_ARM64, else the newest cached 6.1 arm64 kernel) and
// its QEMU, skipping (failing under VBENCH_REQUIRE_BOOT) when either is
// missing.
func arm64Kernel(t *testing.T) (kernel string, arch *Arch, qemu string) {
	t.Helper()
	arch = archByGOARCH("arm64")
	k := kernelFor(t, "VBENCH_TEST_KERNEL_ARM64", "6.1", arch)
	qemu, err := FindQEMU("", arch)
	if err != nil {
		skipUnlessCI(t, "%v", err)
	}
	return k, arch, qemu
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
	kernel, arch, _ := arm64Kernel(t)
	vb := buildInit(t, "arm64")
	if err := CheckInit(vb, arch); err != nil {
		t.Fatalf("GOARCH=arm64 CGO_ENABLED=0 build cannot be /init: %v", err)
	}
	modes := ModesFor(arch, nil)
	if len(modes) != 1 || modes[0] != DefaultMode {
		t.Fatalf("arm64 boots %v, want the one default boot", modes)
	}
	// The lab as `vbench bootmodes --kernel K --init vbench-arm64` runs
	// it: one default boot, since arm64 has no vsyscall= modes.
	lab := Lab{Kernels: []string{kernel}, Inits: []string{vb}, Accel: AccelTCG, Out: t.TempDir(),
		// 240 s gives the guest a budget of 144 s (cmd/vbench guest.go):
		// 72 s for the ASLR samples, 36 s for the bench, which needs about
		// 12 s under TCG on an idle host.
		Append:  "VBENCH_PARTS=vsyscall,bench,verify,aslr VBENCH_ASLR_METHOD=self-report VBENCH_ASLR_SAMPLES=" + strconv.Itoa(arm64ASLRSamples),
		Timeout: 240 * time.Second}
	all, err := lab.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(all.Boots) != 1 || all.Boots[0].Mode != DefaultMode {
		t.Fatalf("%d boots (%v), want the one default boot", len(all.Boots), all.Boots)
	}
	checkWritten(t, all)
	res := all.Boots[0]
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

// checkWritten checks what Lab.Run wrote: each boot's console.log, the
// run.json of each boot that brought one back (read back whole), and
// bootmodes.md.
func checkWritten(t *testing.T, res *Results) {
	t.Helper()
	for _, b := range res.Boots {
		if fi, err := os.Stat(filepath.Join(b.Dir, "console.log")); err != nil || fi.Size() != int64(len(b.Console)) {
			t.Errorf("%s/%s: console.log: %v", b.Kernel, b.Mode.Name, err)
		}
		if b.Run == nil {
			continue
		}
		r, err := runfile.ReadFile(filepath.Join(b.Dir, "run.json"))
		if err != nil {
			t.Errorf("%s/%s: run.json: %v", b.Kernel, b.Mode.Name, err)
		} else if r.Boot == nil || r.Boot.Mode != b.Mode.Name {
			t.Errorf("%s/%s: run.json is another boot's: %+v", b.Kernel, b.Mode.Name, r.Boot)
		}
	}
	md, err := os.ReadFile(res.Summary)
	if err != nil {
		t.Fatalf("bootmodes.md: %v", err)
	}
	for _, b := range res.Boots {
		if !strings.Contains(string(md), b.Kernel) {
			t.Errorf("bootmodes.md does not name %s", b.Kernel)
		}
	}
}

// TestTimeline runs the lab as `vbench bootmodes --timeline` does, on the
// oldest and newest x86-64 series the timeline boots (6.1 and 7.3) and on
// an arm64 kernel, two guests at a time, and checks the timeline against
// what the kernel sources say changed between them:
//   - 6.1 maps [vvar] and [vdso]; 7.3 also [vvar_vclock] (split off in
//     6.13, lib/vdso/datastore.c), between them;
//   - 6.1 puts the x86-64 vDSO next to the stack (vdso_addr(), before 6.9);
//     7.3 in the mmap region; arm64 in the mmap region in every version;
//   - 7.3's vDSO has getrandom (6.11+), 6.1's has not;
//   - every boot is in its default mode (no vsyscall= argument), and the
//     table marks 7.3's changed cells;
//   - timeline.png is drawn.
func TestTimeline(t *testing.T) {
	if testing.Short() {
		skipUnlessCI(t, "boots QEMU; skipped with -short")
	}
	x86 := arches[0]
	if _, err := FindQEMU("", x86); err != nil {
		skipUnlessCI(t, "%v", err)
	}
	oldest := testKernel(t)
	newest := kernelFor(t, "VBENCH_TEST_KERNEL_NEWEST", TimelineSeries[len(TimelineSeries)-1], x86)
	arm, _, _ := arm64Kernel(t)
	lab := Lab{Kernels: []string{newest, arm, oldest}, Timeline: true, Accel: AccelTCG, Out: t.TempDir(),
		Inits:   []string{buildInit(t, "amd64"), buildInit(t, "arm64")},
		Timeout: 240 * time.Second, Parallel: 2}
	res, err := lab.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d boots, %d at a time, %.0f s", len(res.Boots), res.Parallel, res.Seconds)
	checkWritten(t, res)
	rows := timelineRows(res.Boots)
	if len(rows) != 3 || rows[0].Result.Kernel != filepath.Base(oldest)[len("vmlinuz-"):] || rows[2].Arch.GOARCH != "arm64" {
		t.Fatalf("timeline rows out of order: %v", rows)
	}
	for _, r := range rows {
		if r.Err != nil || r.Run == nil {
			t.Fatalf("%s: no result: %v\nconsole tail:\n%s", r.Kernel, r.Err, tail(r.Console, 15))
		}
		if r.Mode != DefaultMode || strings.Contains(r.Cmdline, "vsyscall=") {
			t.Errorf("%s: booted %v (%q), want the default mode", r.Kernel, r.Mode, r.Cmdline)
		}
		t.Logf("%s %s: layout %s; vDSO %s, %s; getrandom %s; %.0f s", r.Arch.Name, r.Version, layoutCell(r.Run.Boot),
			vdsoPlace(r.Run.ASLR), vdsoBits(r.Run.ASLR), vdsoHas(r.Run.Bench, "getrandom"), r.Seconds)
	}
	old, cur, a64 := rows[0], rows[1], rows[2]
	for _, c := range []struct {
		what, got, want string
	}{
		{"6.1 layout", names(old.Run.Boot.Layout), "[vvar] [vdso]"},
		{"7.3 layout", names(cur.Run.Boot.Layout), "[vvar] [vvar_vclock] [vdso]"},
		{"6.1 vDSO", vdsoPlace(old.Run.ASLR), "next to the stack"},
		{"7.3 vDSO", vdsoPlace(cur.Run.ASLR), "in the mmap region"},
		{"arm64 vDSO", vdsoPlace(a64.Run.ASLR), "in the mmap region"},
		{"6.1 getrandom", vdsoHas(old.Run.Bench, "getrandom"), "no"},
		{"7.3 getrandom", vdsoHas(cur.Run.Bench, "getrandom"), "yes"},
	} {
		if c.got != c.want {
			t.Errorf("%s: %q, want %q", c.what, c.got, c.want)
		}
	}
	md, err := os.ReadFile(res.Summary)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "**"+layoutCell(cur.Run.Boot)+"**") || !strings.Contains(string(md), "**in the mmap region**") {
		t.Errorf("bootmodes.md does not mark what changed in 7.3:\n%s", md)
	}
	if len(res.Figures) != 1 || filepath.Base(res.Figures[0]) != "timeline.png" {
		t.Errorf("figures %v, want timeline.png", res.Figures)
	} else if fi, err := os.Stat(res.Figures[0]); err != nil || fi.Size() == 0 {
		t.Errorf("timeline.png: %v", err)
	}
}

// names lists a layout's mappings, in order, without the vsyscall page.
func names(ms []runfile.Mapping) string {
	var s []string
	for _, m := range ms {
		if m.Name != "[vsyscall]" {
			s = append(s, m.Name)
		}
	}
	return strings.Join(s, " ")
}
