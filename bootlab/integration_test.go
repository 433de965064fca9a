package bootlab

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
		Append:  "VBENCH_PARTS=vsyscall,bench,verify",
		Timeout: 50 * time.Second,
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
	qemu, err := FindQEMU("", ks[0].Arch)
	if err != nil {
		skipUnlessCI(t, "%v", err)
	}
	start := time.Now()
	if err := probeBoot(context.Background(), Config{QEMU: qemu, Kernel: k, Arch: ks[0].Arch, Accel: AccelTCG}, 60*time.Second); err != nil {
		t.Fatalf("arm64 probe boot: %v", err)
	}
	t.Logf("arm64 kernel printed after %.1fs under tcg", time.Since(start).Seconds())
}
