package bootlab

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
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
	EnvGuest   = "VBENCH_GUEST"   // "1": this boot is a bootmodes guest
	EnvMode    = "VBENCH_MODE"    // the --modes entry
	EnvAccel   = "VBENCH_ACCEL"   // "kvm" or "tcg"
	EnvTimeout = "VBENCH_TIMEOUT" // the host's --timeout, in seconds
	// EnvParts and EnvASLRSamples may be given with --append to shorten a
	// guest run: VBENCH_PARTS=vsyscall,verify VBENCH_ASLR_SAMPLES=50.
	EnvParts       = "VBENCH_PARTS"
	EnvASLRSamples = "VBENCH_ASLR_SAMPLES"
)

// guestStart is the line a guest prints as soon as it runs as /init.
const guestStart = "vbench guest: started"

// GuestParts are the parts of the study a guest runs by default, in order.
var GuestParts = []string{"vsyscall", "bench", "verify", "aslr"}

// IsGuest reports whether this process is /init of a bootmodes guest: PID 1
// and VBENCH_GUEST=1. Both are required, so that vbench run as PID 1 of a
// container is not mistaken for a guest.
func IsGuest() bool {
	return os.Getpid() == 1 && os.Getenv(EnvGuest) == "1"
}

// GuestInfo is what the host told the guest.
type GuestInfo struct {
	Mode        string
	Accel       string
	Timeout     time.Duration // the host kills the boot after this
	Parts       map[string]bool
	ASLRSamples int // 0: the study's default for guests
}

// ReadGuestInfo reads the VBENCH_* variables and removes them from the
// environment, so that child processes (probes, ASLR targets) do not see
// them.
func ReadGuestInfo() GuestInfo {
	gi := GuestInfo{
		Mode:    os.Getenv(EnvMode),
		Accel:   os.Getenv(EnvAccel),
		Timeout: 120 * time.Second,
		Parts:   map[string]bool{},
	}
	if s, err := strconv.Atoi(os.Getenv(EnvTimeout)); err == nil && s > 0 {
		gi.Timeout = time.Duration(s) * time.Second
	}
	if n, err := strconv.Atoi(os.Getenv(EnvASLRSamples)); err == nil && n > 0 {
		gi.ASLRSamples = n
	}
	parts := GuestParts
	if s := os.Getenv(EnvParts); s != "" {
		parts = strings.Split(s, ",")
	}
	for _, p := range parts {
		gi.Parts[strings.TrimSpace(p)] = true
	}
	for _, k := range []string{EnvGuest, EnvMode, EnvAccel, EnvTimeout, EnvParts, EnvASLRSamples} {
		os.Unsetenv(k)
	}
	return gi
}

// GuestSetup mounts what the study reads: proc, sysfs, devtmpfs on /dev
// and a tmpfs on /tmp. It tries every mount and returns the failures joined.
func GuestSetup() error {
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
	defer PowerOff(con)
	defer func() {
		if r := recover(); r != nil {
			WriteError(con, fmt.Errorf("guest panic: %v", r))
			fmt.Fprintf(os.Stderr, "%s\n", debug.Stack())
		}
	}()
	gi := ReadGuestInfo()
	if err := GuestSetup(); err != nil {
		WriteError(con, err)
	}
	run, err := study(gi)
	if err != nil {
		WriteError(con, err)
	}
	if run == nil {
		return
	}
	b, err := json.Marshal(run)
	if err != nil {
		WriteError(con, fmt.Errorf("encoding the run: %w", err))
		return
	}
	if err := WriteFrame(con, b); err != nil {
		WriteError(con, err)
	}
}

// PowerOff waits until con's output has left the serial port (tcdrain:
// ioctl TCSBRK with a non-zero argument, drivers/tty/tty_io.c), syncs and
// powers the machine off. If power-off fails it asks for a restart (QEMU
// runs with -no-reboot, so either ends it), and as a last resort exits: the
// kernel panics when init dies and panic=-1 reboots at once.
func PowerOff(con *os.File) {
	_ = unix.IoctlSetInt(int(con.Fd()), unix.TCSBRK, 1)
	unix.Sync()
	err := unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF)
	fmt.Fprintf(con, "\nvbench guest: power off failed (%v), restarting\n", err)
	_ = unix.Reboot(unix.LINUX_REBOOT_CMD_RESTART)
	os.Exit(1)
}
