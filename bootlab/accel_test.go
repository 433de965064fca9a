package bootlab

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// scriptQEMU writes a shell script standing in for qemu-system-x86_64 and
// returns its path. body sees QEMU's arguments in "$@".
func scriptQEMU(t *testing.T, body string) string {
	t.Helper()
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh for the fake QEMU")
	}
	q := filepath.Join(t.TempDir(), "qemu")
	if err := os.WriteFile(q, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return q
}

// fakeKVMDevice points the KVM device at a file that opens read-write (or,
// with ok false, at one that does not exist) for the test's duration.
func fakeKVMDevice(t *testing.T, ok bool) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "kvm")
	if ok {
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := kvmDevice
	kvmDevice = p
	t.Cleanup(func() { kvmDevice = old })
}

// The QEMU of a nested VM whose KVM cannot run this CPU model: it aborts
// as soon as it is asked for -accel kvm, as qemu-system-x86_64 did on the
// machine the boot-lab issue was found on.
const abortUnderKVM = `case " $* " in *" -accel kvm "*)
	echo "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69" >&2
	echo "qemu-system-x86_64: ../../target/i386/kvm/kvm.c:3262: kvm_buf_set_msrs: Assertion failed." >&2
	kill -ABRT $$;;
esac
printf 'SeaBIOS (version 1.16)\r\nBooting from ROM..\r\n[    0.000000] Linux version 6.1.0\r\n'
exec sleep 30
`

func TestChooseAccelFallsBackWhenQEMUAborts(t *testing.T) {
	fakeKVMDevice(t, true)
	c := Config{QEMU: scriptQEMU(t, abortUnderKVM), Kernel: "/k/vmlinuz"}
	start := time.Now()
	acc, err := ChooseAccel(context.Background(), AccelAuto, c, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if acc.Name != AccelTCG {
		t.Fatalf("chose %q, want tcg: %s", acc.Name, acc.Reason)
	}
	for _, w := range []string{"kvm unusable here", "qemu aborted", "failed to set MSR 0x10a", "using tcg"} {
		if !strings.Contains(acc.Reason, w) {
			t.Errorf("reason %q lacks %q", acc.Reason, w)
		}
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("an aborting QEMU took %s to be noticed", d)
	}

	// Asked for by name, a KVM that cannot run is an error that names the
	// way out.
	_, err = ChooseAccel(context.Background(), AccelKVM, c, 10*time.Second)
	if !errors.Is(err, ErrKVMUnusable) || !strings.Contains(err.Error(), "--accel tcg") || !strings.Contains(err.Error(), "MSR 0x10a") {
		t.Errorf("--accel kvm on a broken KVM: %v", err)
	}

	// The same fake QEMU runs a TCG boot: what the boots will use works.
	c.Accel = AccelTCG
	c.Timeout = 300 * time.Millisecond
	res := Boot(context.Background(), c, Mode{Name: "xonly", Arg: "vsyscall=xonly"})
	if !strings.Contains(string(res.Console), "Linux version") {
		t.Errorf("tcg boot of the fake QEMU printed %q", res.Console)
	}
}

func TestChooseAccelSilentGuest(t *testing.T) {
	fakeKVMDevice(t, true)
	// QEMU starts, the firmware prints, the kernel never does.
	c := Config{QEMU: scriptQEMU(t, "printf 'SeaBIOS\\r\\nBooting from ROM..\\r\\n'\nexec sleep 30\n"), Kernel: "/k/vmlinuz"}
	start := time.Now()
	acc, err := ChooseAccel(context.Background(), AccelAuto, c, 500*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if acc.Name != AccelTCG || !strings.Contains(acc.Reason, "no kernel output under kvm within 500ms") || !strings.Contains(acc.Reason, "Booting from ROM..") {
		t.Errorf("silent KVM guest: %+v", acc)
	}
	if d := time.Since(start); d > 8*time.Second {
		t.Errorf("silent guest abandoned after %s, want about the deadline", d)
	}
}

func TestChooseAccelKVMWorks(t *testing.T) {
	fakeKVMDevice(t, true)
	args := filepath.Join(t.TempDir(), "args")
	c := Config{QEMU: scriptQEMU(t, "echo \"$@\" > '"+args+"'\nprintf 'Booting from ROM..\\r\\n[    0.000000] Linux version 6.18\\r\\n'\nexec sleep 30\n"), Kernel: "/k/vmlinuz"}
	start := time.Now()
	acc, err := ChooseAccel(context.Background(), "", c, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if acc.Name != AccelKVM {
		t.Fatalf("chose %+v, want kvm", acc)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the probe waited %s after the kernel printed", d)
	}
	b, _ := os.ReadFile(args)
	for _, w := range []string{"-accel kvm", "-cpu host", "-kernel /k/vmlinuz", "earlyprintk=serial"} {
		if !strings.Contains(string(b), w) {
			t.Errorf("probe's QEMU arguments %q lack %q", b, w)
		}
	}
}

func TestChooseAccelWithoutProbe(t *testing.T) {
	// No KVM device: tcg, and QEMU is not started.
	fakeKVMDevice(t, false)
	ran := filepath.Join(t.TempDir(), "ran")
	c := Config{QEMU: scriptQEMU(t, "touch '"+ran+"'\n"), Kernel: "/k/vmlinuz"}
	acc, err := ChooseAccel(context.Background(), AccelAuto, c, time.Second)
	if err != nil || acc.Name != AccelTCG || !strings.Contains(acc.Reason, "cannot open") {
		t.Errorf("no /dev/kvm: %+v, %v", acc, err)
	}
	if _, err := ChooseAccel(context.Background(), AccelKVM, c, time.Second); !errors.Is(err, ErrKVMUnusable) {
		t.Errorf("--accel kvm without /dev/kvm: %v", err)
	}
	// tcg asked for, by flag or by the environment: no probe.
	fakeKVMDevice(t, true)
	t.Setenv(EnvAccelChoice, "tcg")
	for _, want := range []string{AccelTCG, ""} {
		acc, err := ChooseAccel(context.Background(), want, c, time.Second)
		if err != nil || acc.Name != AccelTCG {
			t.Errorf("want %q: %+v, %v", want, acc, err)
		}
	}
	if _, err := os.Stat(ran); err == nil {
		t.Error("QEMU was started although no probe was needed")
	}
	if _, err := ChooseAccel(context.Background(), "hvf", c, time.Second); !errors.Is(err, ErrBadAccel) {
		t.Errorf("hvf: %v", err)
	}
}

func TestBootAbandonsSilentGuest(t *testing.T) {
	m := Mode{Name: "xonly", Arg: "vsyscall=xonly"}
	c := Config{QEMU: scriptQEMU(t, "printf 'Booting from ROM..\\r\\n'\nexec sleep 30\n"), Kernel: "/k/vmlinuz",
		Initramfs: "/dev/null", Accel: AccelKVM, Timeout: 30 * time.Second, Silent: 300 * time.Millisecond}
	start := time.Now()
	res := Boot(context.Background(), c, m)
	if !errors.Is(res.Err, ErrSilent) || !strings.Contains(res.Err.Error(), "--accel tcg") || !strings.Contains(res.Err.Error(), "Booting from ROM..") {
		t.Errorf("silent guest: %v", res.Err)
	}
	if d := time.Since(start); d > 8*time.Second {
		t.Errorf("silent guest given up after %s, want about 300ms", d)
	}
	// A guest that prints its start line is not silent, however long it
	// then takes: only Timeout ends it.
	c.QEMU = scriptQEMU(t, "printf '\\n"+guestStart+"\\n'\nexec sleep 1\n")
	c.Timeout = 10 * time.Second
	res = Boot(context.Background(), c, m)
	if errors.Is(res.Err, ErrSilent) || res.Seconds < 0.9 {
		t.Errorf("a guest that printed was abandoned as silent: %v after %.1fs", res.Err, res.Seconds)
	}
}
