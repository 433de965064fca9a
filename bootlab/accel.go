package bootlab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"time"
)

// Accelerators QEMU is run with.
const (
	AccelAuto = "auto" // KVM if a guest really runs under it here, else TCG
	AccelKVM  = "kvm"
	AccelTCG  = "tcg"
)

// EnvAccelChoice, when set on the host, is the accelerator wanted when none
// is given on the command line (auto, kvm or tcg). The boot tests read it
// too, so a machine whose KVM misbehaves in a way the probe cannot see can
// still be forced to TCG.
const EnvAccelChoice = "VBENCH_QEMU_ACCEL"

// ErrKVMUnusable is wrapped when KVM was asked for but a guest cannot run
// under it on this machine.
var ErrKVMUnusable = errors.New("kvm unusable here")

// ErrBadAccel is wrapped for an accelerator name that is not auto, kvm or tcg.
var ErrBadAccel = errors.New("unknown accelerator")

// Accel is the accelerator chosen for every boot of one run, and why.
type Accel struct {
	Name   string // AccelKVM or AccelTCG
	Reason string // one line, e.g. "kvm unusable here: qemu aborted (...); using tcg"
}

// defaultProbeDeadline bounds the KVM probe: a kernel under KVM prints its
// first early console line well under a second after QEMU starts.
const defaultProbeDeadline = 10 * time.Second

// kvmDevice is the KVM device node; a variable so tests can stand in a file.
var kvmDevice = "/dev/kvm"

// ChooseAccel decides, once per run, which accelerator the boots of c use.
// want is AccelAuto, AccelKVM, AccelTCG, or "" (EnvAccelChoice, else auto).
//
// /dev/kvm existing is not enough: on a nested VM, QEMU can abort with
// -cpu host ("failed to set MSR 0x10a"), or start and leave the guest silent
// after the firmware. So unless TCG is asked for, ChooseAccel boots c.Kernel
// under KVM with no initramfs and an early serial console, and accepts KVM
// only if the kernel's first console line arrives within deadline (0 means
// defaultProbeDeadline). Under auto a failed probe falls back to TCG; under
// kvm it is an error wrapping ErrKVMUnusable that names --accel tcg.
func ChooseAccel(ctx context.Context, want string, c Config, deadline time.Duration) (Accel, error) {
	if want == "" {
		want = os.Getenv(EnvAccelChoice)
	}
	if want == "" {
		want = AccelAuto
	}
	switch want {
	case AccelTCG:
		return Accel{Name: AccelTCG, Reason: "tcg asked for"}, nil
	case AccelKVM, AccelAuto:
	default:
		return Accel{}, fmt.Errorf("%w %q (valid: auto, kvm, tcg)", ErrBadAccel, want)
	}
	if h := hostArch(); h != c.arch() {
		// KVM runs guests of the host's own architecture only.
		host := runtime.GOARCH
		if h != nil {
			host = h.Name
		}
		why := fmt.Sprintf("an %s kernel on an %s host", c.arch().Name, host)
		if want == AccelKVM {
			return Accel{}, fmt.Errorf("%w: %s (use --accel tcg)", ErrKVMUnusable, why)
		}
		return Accel{Name: AccelTCG, Reason: why + ": tcg"}, nil
	}
	if deadline <= 0 {
		deadline = defaultProbeDeadline
	}
	var why string
	if f, err := os.OpenFile(kvmDevice, os.O_RDWR, 0); err != nil {
		why = "cannot open " + kvmDevice + " (" + errText(err) + ")"
	} else {
		f.Close()
		start := time.Now()
		if err := probeKVM(ctx, c, deadline); err != nil {
			if ctx.Err() != nil {
				return Accel{}, ctx.Err()
			}
			why = err.Error()
		} else if want == AccelKVM {
			return Accel{Name: AccelKVM, Reason: fmt.Sprintf("kvm asked for; a test boot printed within %.1fs", time.Since(start).Seconds())}, nil
		} else {
			return Accel{Name: AccelKVM, Reason: fmt.Sprintf("kvm works here: a test boot printed within %.1fs", time.Since(start).Seconds())}, nil
		}
	}
	if want == AccelKVM {
		return Accel{}, fmt.Errorf("%w: %s (use --accel tcg, or auto to fall back by itself)", ErrKVMUnusable, why)
	}
	return Accel{Name: AccelTCG, Reason: "kvm unusable here: " + why + "; using tcg"}, nil
}

// errText is an error without the "open /dev/kvm: " prefix os adds.
func errText(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// probeKVM boots c.Kernel under KVM, with the CPU model Boot would use, no
// initramfs and an early serial console, and returns nil as soon as the
// kernel prints, killing QEMU. It fails if QEMU exits first (say how, with
// QEMU's first stderr line) or if nothing from the kernel arrives within
// deadline.
func probeKVM(ctx context.Context, c Config, deadline time.Duration) error {
	c.Accel = AccelKVM
	return probeBoot(ctx, c, deadline)
}

// probeBoot is probeKVM under c.Accel, whichever it is: the boot test runs
// it under TCG to check that a real kernel's first lines are recognized.
func probeBoot(ctx context.Context, c Config, deadline time.Duration) error {
	args := c.qemuBase()
	// earlyprintk makes the kernel print from its first moments
	// (arch/x86/kernel/early_printk.c); without a root file system it then
	// panics, and panic=-1 with -no-reboot ends QEMU.
	args = append(args, "-append", "console="+c.arch().Console+" "+c.arch().EarlyPrint+" panic=-1 loglevel=7")
	ctx, cancel := context.WithTimeoutCause(ctx, deadline, ErrSilent)
	defer cancel()
	seen := newWatch(kernelAlive)
	stderr, err := runQEMU(ctx, c.QEMU, args, seen, seen.done)
	if seen.matched() {
		return nil
	}
	switch {
	case errors.Is(context.Cause(ctx), ErrSilent):
		return fmt.Errorf("no kernel output under %s within %s (%s)", c.accel(), deadline, seen.lastLine())
	case ctx.Err() != nil:
		return ctx.Err()
	case err != nil:
		return fmt.Errorf("qemu %s%s", exitWords(err), firstLine(stderr))
	}
	return fmt.Errorf("qemu exited before the kernel printed anything%s", firstLine(stderr))
}

// kernelAlive matches the first things a booting x86 kernel, or vbench's
// guest, writes on the serial console: the decompressor's banner, the
// "Linux version" line, a printk timestamp, or the guest's start line.
// Firmware (SeaBIOS: "Booting from ROM...") matches none of them.
var kernelAlive = regexp.MustCompile(`Decompressing Linux|Linux version|Booting Linux on|\[ *[0-9]+\.[0-9]{6}\]|` + regexp.QuoteMeta(guestStart))

// exitWords says how a QEMU process ended: "aborted" for SIGABRT (QEMU's
// abort() on a fatal KVM error), else the exec error's own words.
func exitWords(err error) string {
	s := err.Error()
	if strings.Contains(s, "signal: aborted") {
		return "aborted"
	}
	return "exited: " + s
}

// watch is a writer that notices the first match of re in what passes
// through it (also across writes) and closes done.
type watch struct {
	re   *regexp.Regexp
	done chan struct{}

	mu   sync.Mutex
	tail []byte // the last bytes seen, for matches that straddle writes
	last []byte // the last non-empty line, for error messages
	hit  bool
}

func newWatch(re *regexp.Regexp) *watch { return &watch{re: re, done: make(chan struct{})} }

func (w *watch) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.tail = append(w.tail, p...)
	if !w.hit && w.re.Match(w.tail) {
		w.hit = true
		close(w.done)
	}
	for _, l := range bytes.Split(ansiEscape.ReplaceAll(w.tail, nil), []byte("\n")) {
		if l = bytes.TrimSpace(l); len(l) > 0 {
			w.last = append(w.last[:0], l...)
		}
	}
	if len(w.tail) > 256 {
		w.tail = append(w.tail[:0], w.tail[len(w.tail)-256:]...)
	}
	return len(p), nil
}

func (w *watch) matched() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.hit
}

func (w *watch) lastLine() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.last) == 0 {
		return "nothing on the console"
	}
	return "last console line: " + string(w.last)
}
