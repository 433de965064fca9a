package vsyscall

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Observed is what a process sees of the page: the three facts that tell the
// boot modes apart.
type Observed struct {
	Mode      Mode   // from /proc/self/maps (from the probes when maps is unreadable)
	MapsLine  string // the [vsyscall] line, "" when absent
	ReadProbe string // "ok" or the signal that killed the child, e.g. "SIGSEGV"
	CallProbe string // likewise, for a call of the gettimeofday entry
	// ModeSource is "maps", or "probes" when /proc/self/maps could not be
	// read (e.g. an initramfs without /proc) and the mode was inferred
	// from the two probes, or SourceArch when the architecture has no
	// page (Mode Absent, no probes run).
	ModeSource string `json:",omitempty"`
}

// ModeFromProbes infers the mode from the probes alone, by the table the
// kernel's selftest test_vsyscall.c encodes: a readable page is emulate, a
// callable but unreadable page is xonly, neither is none. ok is false when
// the probes did not both finish with "ok" or a signal.
func ModeFromProbes(read, call string) (m Mode, ok bool) {
	switch {
	case read == "ok" && call == "ok":
		return Emulate, true
	case read == "SIGSEGV" && call == "ok":
		return XOnly, true
	case read == "SIGSEGV" && call == "SIGSEGV":
		return None, true
	}
	return "", false
}

// Consistent reports whether the probes confirm the mode read from maps.
func (o Observed) Consistent() bool {
	if o.Mode == Absent {
		return o.ReadProbe == "" && o.CallProbe == ""
	}
	m, ok := ModeFromProbes(o.ReadProbe, o.CallProbe)
	return ok && m == o.Mode
}

// Callable is true only when the mode says calls are emulated and the
// child's call probe confirmed it: the condition for calling the page in
// this process.
func (o Observed) Callable() bool { return o.Mode.Callable() && o.CallProbe == "ok" }

// probeEnv names the environment variable that turns a vbench process into
// a probe child; its value is "read" or "call".
const probeEnv = "VBENCH_VSYSCALL_PROBE"

// probeTimeout bounds one child: it does one memory access or one call.
const probeTimeout = 20 * time.Second

// Probe reads the maps line and confirms it in child processes: one reads
// the page, one calls it. The parent never touches the page itself. The
// children are this executable started again (os.Executable, or os.Args[0]
// when /proc is not mounted, as under an initramfs /init) with
// VBENCH_VSYSCALL_PROBE set; they must reach RunChild first thing
// (probes.RunChild calls it). Where RunChild was never called in this
// process no child is started: the copy would run the whole program.
// The error reports probes that could not be run at all; a child killed by
// a signal is an observation, not an error.
//
// Where the page does not exist (every architecture but x86-64: Exists is
// false) no child is started and the mode is Absent.
func Probe() (Observed, error) {
	var o Observed
	if !Exists {
		return Observed{Mode: Absent, ModeSource: SourceArch}, nil
	}
	mode, m, mapsErr := CurrentMode()
	if mapsErr == nil {
		o.Mode, o.ModeSource = mode, "maps"
		if mode != None {
			o.MapsLine = m.String()
		}
	}
	var err error
	if o.ReadProbe, err = runChild("read"); err != nil {
		return o, err
	}
	if o.CallProbe, err = runChild("call"); err != nil {
		return o, err
	}
	if mapsErr != nil {
		m, ok := ModeFromProbes(o.ReadProbe, o.CallProbe)
		if !ok {
			return o, fmt.Errorf("vsyscall: maps unreadable (%v) and probes inconclusive (read %s, call %s)", mapsErr, o.ReadProbe, o.CallProbe)
		}
		o.Mode, o.ModeSource = m, "probes"
	}
	return o, nil
}

// executable is the path a probe child is started from.
func executable() (string, error) {
	if exe, err := os.Executable(); err == nil {
		return exe, nil
	}
	if len(os.Args) > 0 && strings.HasPrefix(os.Args[0], "/") {
		return os.Args[0], nil // /init has no /proc/self/exe to read
	}
	return "", errors.New("vsyscall probe: cannot find this executable to re-run it (no /proc/self/exe, relative argv[0])")
}

// runChild runs one probe and returns "ok", the name of the signal that
// killed the child, or "exit N: message" when it failed otherwise.
func runChild(what string) (string, error) {
	if !dispatching.Load() {
		return "", errors.New("vsyscall probe: this program does not dispatch re-executed children: its main (or TestMain) must call probes.RunChild (or vsyscall.RunChild) first")
	}
	exe, err := executable()
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(os.Environ(), probeEnv+"="+what)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	if err != nil && ctx.Err() != nil { // killed for the timeout, not by its probe
		return "", fmt.Errorf("vsyscall %s probe: child did not finish in %v", what, probeTimeout)
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
		return "ok", nil
	case errors.As(err, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return unix.SignalName(ws.Signal()), nil
		}
		msg := strings.TrimSpace(stderr.String())
		if i := strings.LastIndexByte(msg, '\n'); i >= 0 {
			msg = msg[i+1:]
		}
		return fmt.Sprintf("exit %d: %s", ee.ExitCode(), msg), nil
	}
	return "", fmt.Errorf("vsyscall %s probe: starting %s: %w", what, exe, err)
}

// RunChild must be called first thing in main (probes.RunChild does) and
// in TestMain of packages that call Probe: in a child started by Probe it
// performs the probe and returns the exit status with true (the caller
// exits with it); otherwise it returns false at once.
//
// The child hands the faults it provokes straight to the kernel: it resets
// SIGSEGV, SIGBUS and SIGILL to SIG_DFL with a raw rt_sigaction, so the Go
// runtime's handler (which would turn the fault into a panic and exit 2)
// never sees them and the parent observes the signal itself, as a C
// program's parent would. Core dumps are switched off first.
func RunChild() (code int, child bool) {
	dispatching.Store(true)
	what, ok := os.LookupEnv(probeEnv)
	if !ok {
		return 0, false
	}
	os.Unsetenv(probeEnv)
	return probeChild(what), true
}

// dispatching is set once RunChild has run in this process.
var dispatching atomic.Bool

// probeChild is the child's side of Probe: it returns the exit status,
// unless the probe kills it.
func probeChild(what string) int {
	if !Exists {
		fmt.Fprintf(os.Stderr, "vsyscall probe: %s\n", AbsentReason)
		return 5
	}
	unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{})
	for _, sig := range []unix.Signal{unix.SIGSEGV, unix.SIGBUS, unix.SIGILL} {
		if err := setDefaultAction(sig); err != nil {
			fmt.Fprintf(os.Stderr, "vsyscall probe: rt_sigaction(%v): %v\n", sig, err)
			return 3
		}
	}
	switch what {
	case "read":
		b := *(*byte)(pageAt(Base)) // SIGSEGV unless the page is readable
		fmt.Fprintf(os.Stderr, "read %#x\n", b)
	case "call":
		var tv unix.Timeval
		r := callEntry(Gettimeofday, uintptr(unsafe.Pointer(&tv)), 0)
		if r != 0 || tv.Sec <= 0 {
			fmt.Fprintf(os.Stderr, "vsyscall gettimeofday returned %d, tv_sec %d\n", int64(r), tv.Sec)
			return 4
		}
	case "call-unmapped":
		// For tests: what the call probe meets under vsyscall=none, a call
		// to an address nothing is mapped at (just past the page; the
		// kernel emulates only addresses inside it).
		callEntry(Base+0x1000, 0, 0)
	case "kill":
		// For tests: a child killed by a signal other than SIGSEGV (as the
		// OOM killer or a timeout would).
		unix.Kill(os.Getpid(), unix.SIGKILL)
		select {}
	default:
		fmt.Fprintf(os.Stderr, "%s=%q: want read or call\n", probeEnv, what)
		return 5
	}
	return 0
}

// sigaction is the kernel's struct sigaction for rt_sigaction on x86-64
// (arch/x86/include/uapi/asm/signal.h without SA_RESTORER's libc layer).
type sigaction struct {
	handler  uintptr // SIG_DFL is 0
	flags    uint64
	restorer uintptr
	mask     uint64
}

func setDefaultAction(sig unix.Signal) error {
	var sa sigaction
	_, _, e := unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&sa)), 0, unsafe.Sizeof(sa.mask), 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

// pageAt turns a fixed kernel address into a pointer without vet's
// unsafeptr complaint, which concerns Go-heap addresses.
func pageAt(addr uintptr) unsafe.Pointer {
	return *(*unsafe.Pointer)(unsafe.Pointer(&addr))
}
