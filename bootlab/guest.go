package bootlab

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vbench-dev/vbench/runfile"
)

// Environment variables the host puts on the kernel command line. The
// kernel hands parameters it does not know, and whose name has no '.', to
// init as environment variables (init/main.c, unknown_bootoption), so the
// guest reads them before /proc is even mounted.
const (
	envGuest   = "VBENCH_GUEST"   // "1": this boot is a bootmodes guest
	envMode    = "VBENCH_MODE"    // the --modes entry
	envAccel   = "VBENCH_ACCEL"   // "kvm" or "tcg"
	envTimeout = "VBENCH_TIMEOUT" // the host's --timeout, in seconds
	// envParts and envASLRSamples may be given with --append to shorten a
	// guest run: VBENCH_PARTS=vsyscall,verify VBENCH_ASLR_SAMPLES=50.
	envParts       = "VBENCH_PARTS"
	envASLRSamples = "VBENCH_ASLR_SAMPLES"
)

// guestStart is the line a guest prints as soon as it runs as /init.
const guestStart = "vbench guest: started"

// IsGuest reports whether this process is /init of a bootmodes guest: PID 1
// and VBENCH_GUEST=1. Both are required, so that vbench run as PID 1 of a
// container is not mistaken for a guest.
func IsGuest() bool {
	return os.Getpid() == 1 && os.Getenv(envGuest) == "1"
}

// GuestInfo is what the host told the guest.
type GuestInfo struct {
	Mode        string
	Accel       string
	Timeout     time.Duration // the host kills the boot after this
	Parts       map[runfile.Part]bool
	ASLRSamples int // 0: the study's default for guests
}

// readGuestInfo reads the VBENCH_* variables and removes them from the
// environment, so that child processes (probes, ASLR targets) do not see
// them.
func readGuestInfo() GuestInfo {
	gi := GuestInfo{
		Mode:    os.Getenv(envMode),
		Accel:   os.Getenv(envAccel),
		Timeout: 120 * time.Second,
		Parts:   map[runfile.Part]bool{},
	}
	if s, err := strconv.Atoi(os.Getenv(envTimeout)); err == nil && s > 0 {
		gi.Timeout = time.Duration(s) * time.Second
	}
	if n, err := strconv.Atoi(os.Getenv(envASLRSamples)); err == nil && n > 0 {
		gi.ASLRSamples = n
	}
	parts := runfile.Parts // all by default
	if s := os.Getenv(envParts); s != "" {
		parts = nil
		for _, p := range strings.Split(s, ",") {
			parts = append(parts, runfile.Part(strings.TrimSpace(p)))
		}
	}
	for _, p := range parts {
		gi.Parts[p] = true
	}
	for _, k := range []string{envGuest, envMode, envAccel, envTimeout, envParts, envASLRSamples} {
		os.Unsetenv(k)
	}
	return gi
}

// guestSetup mounts what the study reads: proc, sysfs, devtmpfs on /dev
// and a tmpfs on /tmp. It tries every mount and returns the failures joined.
func guestSetup() error {
	var errs []error
	for _, m := range []struct {
		fstype, dir string
		flags       uintptr
	}{
		{"proc", "/proc", unix.MS_NOSUID | unix.MS_NOEXEC},
		{"sysfs", "/sys", unix.MS_NOSUID | unix.MS_NOEXEC},
		{"devtmpfs", "/dev", unix.MS_NOSUID | unix.MS_NOEXEC},
		{"tmpfs", "/tmp", unix.MS_NOSUID}, // exec allowed: a probe may write a target there
	} {
		if err := os.MkdirAll(m.dir, 0o755); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := unix.Mount(m.fstype, m.dir, m.fstype, m.flags, ""); err != nil {
			errs = append(errs, fmt.Errorf("mount %s on %s: %w", m.fstype, m.dir, err))
		}
	}
	return errors.Join(errs...)
}

// RunGuest runs study as the guest's /init: it mounts the file systems,
// calls study, writes the run it returns in a frame on stdout (the serial
// console), and powers off. A panic in study or an error it returns is
// written as a framed error line; the machine powers off in every case.
// RunGuest does not return.
func RunGuest(study func(GuestInfo) (*runfile.Run, error)) {
	con := os.Stdout
	// The first line, so the host knows the guest runs (Config.Silent).
	fmt.Fprintf(con, "\n%s\n", guestStart)
	defer powerOff(con)
	defer func() {
		if r := recover(); r != nil {
			writeError(con, fmt.Errorf("guest panic: %v", r))
			fmt.Fprintf(os.Stderr, "%s\n", debug.Stack())
		}
	}()
	gi := readGuestInfo()
	if err := guestSetup(); err != nil {
		writeError(con, err)
	}
	run, err := study(gi)
	if err != nil {
		writeError(con, err)
	}
	if run == nil {
		return
	}
	b, err := json.Marshal(run)
	if err != nil {
		writeError(con, fmt.Errorf("encoding the run: %w", err))
		return
	}
	if err := writeFrame(con, b); err != nil {
		writeError(con, err)
	}
}

// powerOff waits until con's output has left the serial port (tcdrain:
// ioctl TCSBRK with a non-zero argument, drivers/tty/tty_io.c), syncs and
// powers the machine off. If power-off fails it asks for a restart (QEMU
// runs with -no-reboot, so either ends it), and as a last resort exits: the
// kernel panics when init dies and panic=-1 reboots at once.
func powerOff(con *os.File) {
	_ = unix.IoctlSetInt(int(con.Fd()), unix.TCSBRK, 1)
	unix.Sync()
	if !canPowerOff() {
		_ = unix.Reboot(unix.LINUX_REBOOT_CMD_RESTART)
	}
	err := unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF)
	fmt.Fprintf(con, "\nvbench guest: power off failed (%v), restarting\n", err)
	_ = unix.Reboot(unix.LINUX_REBOOT_CMD_RESTART)
	os.Exit(1)
}

// canPowerOff reports whether reboot(LINUX_REBOOT_CMD_POWER_OFF) can power
// this machine off. Where the kernel has no way to (no pm_power_off and no
// sys-off handler), the call halts instead and never returns
// (kernel/reboot.c: "Power off not available: System halted instead"), so
// QEMU would run on until the host's timeout. Under QEMU an x86-64 kernel
// powers off through ACPI only: a kernel built without CONFIG_ACPI (the
// fault-injection pair of .ci/build-kernel) has no /sys/firmware/acpi and
// is restarted instead, which ends QEMU too (-no-reboot). arm64 powers off
// through PSCI, ACPI or not.
func canPowerOff() bool {
	if runtime.GOARCH != "amd64" {
		return true
	}
	_, err := os.Stat("/sys/firmware/acpi")
	return err == nil
}
