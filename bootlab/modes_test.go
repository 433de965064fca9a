package bootlab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vbench-dev/vbench/runfile"
)

func TestParseModes(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []Mode
	}{
		{"emulate,xonly,none", []Mode{{"emulate", "vsyscall=emulate"}, {"xonly", "vsyscall=xonly"}, {"none", "vsyscall=none"}}},
		{" xonly , vdso=0 ", []Mode{{"xonly", "vsyscall=xonly"}, {"vdso=0", "vdso=0"}}},
		{"vsyscall=none,", []Mode{{"vsyscall=none", "vsyscall=none"}}},
	} {
		got, err := ParseModes(c.in)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if len(got) != len(c.want) {
			t.Errorf("%q: got %v, want %v", c.in, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%q: got %v, want %v", c.in, got, c.want)
			}
		}
	}
	for _, bad := range []string{"", ",", "emulated", "XONLY", "=0", "vdso=0 quiet", `a="b`, "none,none"} {
		if _, err := ParseModes(bad); err == nil {
			t.Errorf("%q accepted", bad)
		} else if strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: error is not one line: %q", bad, err)
		}
	}
	if _, err := ParseModes("bogus"); !errors.Is(err, ErrUnknownMode) {
		t.Errorf("bogus: %v, want ErrUnknownMode", err)
	}
}

func TestModeDir(t *testing.T) {
	for in, want := range map[string]string{"xonly": "xonly", "vdso=0": "vdso=0", "a/b=1": "a_b=1", "..": "___", "": "_"} {
		if got := (Mode{Name: in}).Dir(); got != want {
			t.Errorf("Dir(%q) = %q, want %q", in, got, want)
		}
	}
}

// fakeKernel writes a file with the bzImage setup-header magic.
func fakeKernel(t *testing.T) string {
	t.Helper()
	b := make([]byte, 0x1000)
	copy(b[0x202:], "HdrS")
	p := filepath.Join(t.TempDir(), "vmlinuz")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCheckKernel(t *testing.T) {
	if err := checkKernel(fakeKernel(t)); err != nil {
		t.Errorf("bzImage header rejected: %v", err)
	}
	dir := t.TempDir()
	short := filepath.Join(dir, "short")
	os.WriteFile(short, []byte("HdrS"), 0o644)
	text := filepath.Join(dir, "text")
	os.WriteFile(text, []byte(strings.Repeat("not a kernel\n", 100)), 0o644)
	for _, p := range []string{short, text, dir} {
		err := checkKernel(p)
		if !errors.Is(err, ErrNotKernel) {
			t.Errorf("%s: got %v, want ErrNotKernel", filepath.Base(p), err)
		}
	}
	// An ELF executable (this test binary) is not a bzImage either.
	if self, err := os.Executable(); err == nil {
		if err := checkKernel(self); !errors.Is(err, ErrNotKernel) {
			t.Errorf("test binary: got %v, want ErrNotKernel", err)
		}
	}
	if err := checkKernel(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing: got %v, want ErrNotExist", err)
	}
}

func TestCheckInit(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x")
	os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755)
	if err := CheckInit(p, arches[0]); err == nil {
		t.Error("a shell script passed as a static ELF")
	}
	// This test binary is built for the host: the other architecture's
	// kernel cannot run it.
	self, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	host := hostArch()
	if host == nil {
		t.Skip("host architecture unknown to the boot lab")
	}
	for _, a := range arches {
		if a == host {
			continue
		}
		if err := CheckInit(self, a); !errors.Is(err, ErrWrongArch) || !strings.Contains(err.Error(), "GOARCH="+a.GOARCH) {
			t.Errorf("a %s binary as /init of %s: %v", host.Name, a.Name, err)
		}
	}
	// /bin/sh on a glibc system has an interpreter.
	if _, err := os.Stat("/bin/sh"); err == nil {
		if err := CheckInit("/bin/sh", host); err != nil && !errors.Is(err, ErrNotStatic) {
			t.Errorf("/bin/sh: unexpected error %v", err)
		}
	}
}

func TestFindQEMUMissing(t *testing.T) {
	if _, err := FindQEMU(filepath.Join(t.TempDir(), "no-qemu"), arches[0]); !errors.Is(err, ErrNoQEMU) {
		t.Errorf("got %v, want ErrNoQEMU", err)
	}
	if _, err := FindQEMU("", &Arch{QEMU: "no-such-qemu-vbench", QEMUPkg: "qemu-system-zz"}); err == nil || !strings.Contains(err.Error(), "apt-get install qemu-system-zz") {
		t.Errorf("missing default QEMU: %v", err)
	}
}

// arm64Image writes a file with the arm64 Image header's magic.
func arm64Image(t *testing.T, name string) string {
	t.Helper()
	b := make([]byte, 0x1000)
	copy(b[0x38:], "ARM\x64")
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestKernelArch(t *testing.T) {
	ks, err := ParseKernels([]string{fakeKernel(t), arm64Image(t, "vmlinuz-6.1.0-50-cloud-arm64")})
	if err != nil {
		t.Fatal(err)
	}
	if ks[0].Arch.Name != "x86_64" || ks[1].Arch.Name != "aarch64" || ks[1].Arch.GOARCH != "arm64" {
		t.Errorf("architectures: %s, %s", ks[0].Arch.Name, ks[1].Arch.Name)
	}
	modes, _ := ParseModes("emulate,xonly,none")
	if got := ModesFor(ks[0].Arch, modes); len(got) != 3 {
		t.Errorf("x86_64 boots %v", got)
	}
	if got := ModesFor(ks[1].Arch, modes); len(got) != 1 || got[0] != DefaultMode {
		t.Errorf("arm64 with vsyscall modes only boots %v, want the default boot", got)
	}
	modes, _ = ParseModes("xonly,vdso=0,rodata=off")
	if got := ModesFor(ks[1].Arch, modes); len(got) != 2 || got[0].Arg != "vdso=0" || got[1].Arg != "rodata=off" {
		t.Errorf("arm64 with boot arguments boots %v", got)
	}
	c := Config{Kernel: ks[1].Path, Arch: ks[1].Arch, Accel: AccelTCG, Initramfs: "/i"}
	args := strings.Join(c.qemuArgs(DefaultMode), " ")
	for _, w := range []string{"-M virt", "-cpu max", "-accel tcg", "console=ttyAMA0 panic=-1"} {
		if !strings.Contains(args, w) {
			t.Errorf("arm64 QEMU arguments %q lack %q", args, w)
		}
	}
	if strings.Contains(args, "vsyscall") || strings.Contains(args, "  ") {
		t.Errorf("arm64 command line %q", args)
	}
	// KVM runs only guests of the host's architecture: no probe, tcg.
	if hostArch() == arches[0] {
		acc, err := ChooseAccel(context.Background(), AccelAuto, c, time.Second)
		if err != nil || acc.Name != AccelTCG || !strings.Contains(acc.Reason, "an aarch64 kernel on an x86_64 host") {
			t.Errorf("arm64 kernel on an x86 host: %+v %v", acc, err)
		}
		if _, err := ChooseAccel(context.Background(), AccelKVM, c, time.Second); !errors.Is(err, ErrKVMUnusable) {
			t.Errorf("--accel kvm for an arm64 kernel on x86: %v", err)
		}
	}
}

func TestCmdline(t *testing.T) {
	c := Config{Accel: "tcg", Append: "VBENCH_PARTS=vsyscall", Timeout: 30 * time.Second}
	got := c.cmdline(Mode{Name: "vdso=0", Arg: "vdso=0"})
	for _, w := range []string{"console=ttyS0", "vdso=0", "panic=-1", "VBENCH_GUEST=1", "VBENCH_MODE=vdso=0", "VBENCH_ACCEL=tcg", "VBENCH_TIMEOUT=30"} {
		if !strings.Contains(" "+got+" ", " "+w+" ") {
			t.Errorf("cmdline %q lacks %q", got, w)
		}
	}
	if !strings.HasSuffix(got, " VBENCH_PARTS=vsyscall") {
		t.Errorf("--append not last: %q", got)
	}
	args := strings.Join(c.qemuArgs(Mode{Name: "none", Arg: "vsyscall=none"}), " ")
	for _, w := range []string{"-nographic", "-no-reboot", "-accel tcg"} {
		if !strings.Contains(args, w) {
			t.Errorf("qemu args %q lack %q", args, w)
		}
	}
}

// fakeQEMU writes a shell script standing in for QEMU that prints the file
// console to stdout, then sleeps for sleep seconds.
func fakeQEMU(t *testing.T, console []byte, sleep string) string {
	t.Helper()
	dir := t.TempDir()
	cf := filepath.Join(dir, "console")
	if err := os.WriteFile(cf, console, 0o644); err != nil {
		t.Fatal(err)
	}
	q := filepath.Join(dir, "qemu")
	script := "#!/bin/sh\ncat '" + cf + "'\nexec sleep " + sleep + "\n"
	if err := os.WriteFile(q, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return q
}

func TestBootDecodesAndTimesOut(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh for the fake QEMU")
	}
	run := runfile.New(runfile.Env{})
	run.Boot = &runfile.Boot{Observed: runfile.VsyscallObserved{ReadProbe: "SIGSEGV", CallProbe: "ok"}}
	var payload strings.Builder
	if err := run.Encode(&payload); err != nil {
		t.Fatal(err)
	}
	var con strings.Builder
	writeFrame(&con, []byte(payload.String()))
	m := Mode{Name: "xonly", Arg: "vsyscall=xonly"}

	cfg := Config{QEMU: fakeQEMU(t, []byte(serialize(con.String())), "0"), Kernel: "/k/vmlinuz-x", Initramfs: "/dev/null", Accel: "tcg", Timeout: 10 * time.Second}
	res := Boot(context.Background(), cfg, m)
	if res.Err != nil || res.Run == nil {
		t.Fatalf("good frame: err %v, run %v", res.Err, res.Run)
	}
	b := res.Run.Boot
	if b.Mode != "xonly" || b.Kernel != "vmlinuz-x" || b.Accel != "tcg" || b.Observed.ReadProbe != "SIGSEGV" || !res.Run.Env.Guest {
		t.Errorf("boot record not filled: %+v", b)
	}

	// A guest that never powers off is killed at the timeout, and what it
	// said is still reported.
	var e strings.Builder
	writeError(&e, errors.New("guest panic: boom"))
	cfg.QEMU = fakeQEMU(t, []byte(e.String()), "30")
	cfg.Timeout = 300 * time.Millisecond
	start := time.Now()
	res = Boot(context.Background(), cfg, m)
	if !errors.Is(res.Err, ErrTimeout) || res.Run != nil {
		t.Fatalf("hung guest: err %v", res.Err)
	}
	if !strings.Contains(res.Err.Error(), "guest panic: boom") {
		t.Errorf("timeout error does not carry the guest's last words: %v", res.Err)
	}
	if time.Since(start) > 8*time.Second {
		t.Errorf("hung guest not killed promptly: %s", time.Since(start))
	}

	// A guest that dies without a frame.
	cfg.QEMU = fakeQEMU(t, []byte("[ 1.0] Kernel panic - not syncing: Attempted to kill init!\r\n"), "0")
	cfg.Timeout = 10 * time.Second
	res = Boot(context.Background(), cfg, m)
	if !errors.Is(res.Err, ErrNoFrame) || !strings.Contains(res.Err.Error(), "Attempted to kill init") {
		t.Errorf("dead guest: %v", res.Err)
	}
}

// If vbench dies during a boot without a chance to clean up (SIGKILL), QEMU
// dies with it (PR_SET_PDEATHSIG) instead of running on as an orphan. The
// test process becomes a child subreaper so that an orphan would be
// reparented to it and seen.
func TestBootQEMUDiesWithVbench(t *testing.T) {
	if os.Getenv("VBENCH_BOOT_HELPER") == "1" {
		cfg := Config{QEMU: os.Getenv("VBENCH_BOOT_QEMU"), Kernel: "/k/vmlinuz-x", Initramfs: "/dev/null", Accel: "tcg", Timeout: time.Minute}
		Boot(context.Background(), cfg, Mode{Name: "xonly", Arg: "vsyscall=xonly"})
		return
	}
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh for the fake QEMU")
	}
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		t.Skipf("PR_SET_CHILD_SUBREAPER: %v", err)
	}
	defer unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
	q := fakeQEMU(t, []byte("booting\n"), "60")
	cmd := exec.Command(os.Args[0], "-test.run=^TestBootQEMUDiesWithVbench$")
	cmd.Env = append(os.Environ(), "VBENCH_BOOT_HELPER=1", "VBENCH_BOOT_QEMU="+q)
	out := &strings.Builder{}
	cmd.Stdout = out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until the fake QEMU runs: a child of the helper that has exec'd
	// its final "sleep". Other children come and go: the Go runtime forks a
	// short-lived child of its own, once, to learn whether clone can return a
	// pidfd (os/pidfd_linux.go checkPidfd, syscall/exec_linux.go
	// checkClonePidfd); taking that one, already dead, for QEMU made
	// this test flaky under load ("wait4: no child processes").
	var qemuPID int
	for deadline := time.Now().Add(10 * time.Second); qemuPID == 0 && time.Now().Before(deadline); {
		for _, tid := range tasks(cmd.Process.Pid) {
			b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", cmd.Process.Pid, tid))
			for _, f := range strings.Fields(string(b)) {
				pid, _ := strconv.Atoi(f)
				if argv, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); strings.HasPrefix(string(argv), "sleep\x00") {
					qemuPID = pid
				}
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	if qemuPID == 0 {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatal("the fake QEMU never started")
	}
	cmd.Process.Kill()
	cmd.Wait()
	// The orphan, reparented to us, must die of SIGKILL.
	var ws unix.WaitStatus
	done := make(chan error, 1)
	go func() {
		_, err := unix.Wait4(qemuPID, &ws, 0, nil)
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("wait4(%d): %v", qemuPID, err)
		}
		if !ws.Signaled() || ws.Signal() != unix.SIGKILL {
			t.Errorf("QEMU ended with status %#x, not by SIGKILL", uint32(ws))
		}
	case <-time.After(10 * time.Second):
		unix.Kill(qemuPID, unix.SIGKILL)
		<-done
		t.Error("QEMU outlived vbench (no PR_SET_PDEATHSIG)")
	}
}

// tasks lists the thread ids of pid.
func tasks(pid int) []int {
	ents, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	var ids []int
	for _, e := range ents {
		if id, err := strconv.Atoi(e.Name()); err == nil {
			ids = append(ids, id)
		}
	}
	return ids
}

func TestParseKernels(t *testing.T) {
	dir := t.TempDir()
	k1, k2 := filepath.Join(dir, "vmlinuz-6.1.0-50-cloud-amd64"), filepath.Join(dir, "vmlinuz-6.12.57+deb12-cloud-amd64")
	for _, p := range []string{k1, k2} {
		b := make([]byte, 0x1000)
		copy(b[0x202:], "HdrS")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ks, err := ParseKernels([]string{k1, k2})
	if err != nil || len(ks) != 2 || ks[0].Name != "6.1.0-50-cloud-amd64" || ks[1].Dir() != "6.12.57_deb12-cloud-amd64" {
		t.Errorf("ParseKernels: %+v, %v", ks, err)
	}
	other := filepath.Join(t.TempDir(), "vmlinuz-6.1.0-50-cloud-amd64")
	os.Link(k1, other)
	if _, err := ParseKernels([]string{k1, other}); err == nil || !strings.Contains(err.Error(), "both be filed as") {
		t.Errorf("two kernels of one name: %v", err)
	}
	if _, err := ParseKernels([]string{k1, filepath.Join(dir, "missing")}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a missing second kernel: %v", err)
	}
}
