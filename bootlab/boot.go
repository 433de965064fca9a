package bootlab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vbench-dev/vbench/runfile"
)

// ErrTimeout is wrapped by a Result's error when the boot was killed.
var ErrTimeout = errors.New("boot timed out")

// Config is what every boot of a session shares.
type Config struct {
	QEMU      string // the QEMU binary for Arch (see FindQEMU)
	Kernel    string // kernel image (see ParseKernels)
	Arch      *Arch  // the kernel's architecture; nil means x86_64
	Initramfs string // archive from BuildInitramfs
	Accel     string // AccelKVM or AccelTCG (see ChooseAccel); "" means tcg
	// AccelReason says why Accel was chosen; it is recorded in each run.
	AccelReason string
	Append      string        // extra kernel command line, appended last
	Timeout     time.Duration // per boot; 0 means 120 s
	// Silent, if positive, abandons a boot in which neither the kernel nor
	// the guest has printed anything after this long (firmware output does
	// not count): a KVM that starts QEMU but never runs the guest is then
	// given up in seconds, not at Timeout.
	Silent   time.Duration
	MemoryMB int // 0 means 512
	// Console, if not nil, receives the serial console as it arrives.
	Console io.Writer
}

func (c Config) accel() string {
	if c.Accel == "" {
		return AccelTCG
	}
	return c.Accel
}

func (c Config) arch() *Arch {
	if c.Arch == nil {
		return arches[0]
	}
	return c.Arch
}

func (c Config) timeout() time.Duration {
	if c.Timeout <= 0 {
		return 120 * time.Second
	}
	return c.Timeout
}

// Result is one boot's outcome.
type Result struct {
	Kernel  string // the kernel's name (Kernel.Name of its path)
	Mode    Mode
	Cmdline string       // kernel command line given
	Seconds float64      // QEMU start to exit, host wall clock
	Console []byte       // the serial console transcript
	Run     *runfile.Run // nil unless a good frame arrived
	Guest   []string     // error lines the guest wrote
	Err     error        // why there is no Run, or a timeout after it
	Arch    *Arch        // the kernel's architecture
	// Dir is where Lab.Run wrote the boot's console.log and run.json.
	Dir string
}

// cmdline is the kernel command line for mode m.
func (c Config) cmdline(m Mode) string {
	args := []string{"console=" + c.arch().Console}
	if m.Arg != "" {
		args = append(args, m.Arg)
	}
	args = append(args, "panic=-1", "quiet",
		envGuest+"=1",
		envMode+"="+m.Name,
		envAccel+"="+c.accel(),
		envTimeout+"="+strconv.Itoa(int(c.timeout().Seconds())),
	)
	if s := strings.TrimSpace(c.Append); s != "" {
		args = append(args, s)
	}
	return strings.Join(args, " ")
}

// qemuArgs is the argument list for booting mode m.
func (c Config) qemuArgs(m Mode) []string {
	return append(c.qemuBase(), "-initrd", c.Initramfs, "-append", c.cmdline(m))
}

// qemuBase is the argument list without initramfs and command line: the
// machine, the accelerator and the kernel, shared by Boot and probeKVM so
// that the probe tests exactly what the boots will run.
func (c Config) qemuBase() []string {
	mem := c.MemoryMB
	if mem <= 0 {
		mem = GuestMemoryMB
	}
	a := c.arch()
	args := append([]string{"-nographic", "-no-reboot"}, a.Machine...)
	args = append(args,
		"-m", strconv.Itoa(mem),
		"-accel", c.accel(),
		"-nic", "none",
		"-kernel", c.Kernel,
	)
	switch {
	case c.accel() == AccelKVM:
		args = append(args, "-cpu", "host")
	case a.TCGCPU != "":
		args = append(args, "-cpu", a.TCGCPU)
	}
	return args
}

// initramfsPattern names the initramfs files BuildInitramfs makes.
const initramfsPattern = ".vbench-initramfs-*.cpio"

// BuildInitramfs writes the initramfs for init into a new hidden file in dir
// ("" for the system's temporary directory) and returns its path. The caller
// removes it. Put it in the run's output directory: if vbench is killed
// before it can remove it (SIGKILL), RemoveStaleInitramfs there clears it at
// the next run, instead of a 14 MB file staying in /tmp for good.
func BuildInitramfs(dir, init string) (string, error) {
	f, err := os.CreateTemp(dir, initramfsPattern)
	if err != nil {
		return "", err
	}
	if err := writeInitramfs(f, init); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

// RemoveStaleInitramfs removes what BuildInitramfs left in dir when a run
// there was killed, and says how many it removed.
func RemoveStaleInitramfs(dir string) (int, error) {
	stale, err := filepath.Glob(filepath.Join(dir, initramfsPattern))
	if err != nil {
		return 0, err
	}
	for _, p := range stale {
		if err := os.Remove(p); err != nil {
			return 0, err
		}
	}
	return len(stale), nil
}

// Boot boots mode m once and decodes what the guest sent back. It never
// panics on guest misbehaviour; Result.Err says what went wrong.
func Boot(ctx context.Context, c Config, m Mode) Result {
	res := Result{Kernel: strings.TrimPrefix(filepath.Base(c.Kernel), "vmlinuz-"), Mode: m, Cmdline: c.cmdline(m), Arch: c.arch()}
	ctx, cancel := context.WithTimeoutCause(ctx, c.timeout(), ErrTimeout)
	defer cancel()
	out := &capWriter{max: maxConsole}
	var stdout io.Writer = out
	if c.Console != nil {
		stdout = io.MultiWriter(out, c.Console)
	}
	var stop <-chan struct{}
	alive := newWatch(kernelAlive)
	if c.Silent > 0 {
		stdout = io.MultiWriter(stdout, alive)
		silent := make(chan struct{})
		stop = silent
		t := time.AfterFunc(c.Silent, func() {
			if !alive.matched() {
				close(silent)
			}
		})
		defer t.Stop()
	}
	start := time.Now()
	stderr, runErr := runQEMU(ctx, c.QEMU, c.qemuArgs(m), stdout, stop)
	res.Seconds = time.Since(start).Seconds()
	res.Console = out.buf.Bytes()
	silent := c.Silent > 0 && !alive.matched() && ctx.Err() == nil && runErr != nil && isStopped(stop)

	dec, decErr := decodeConsole(res.Console)
	res.Guest = dec.Errors
	if decErr == nil {
		r, err := runfile.Decode(bytes.NewReader(dec.Payload), "guest result")
		if err != nil {
			decErr = err
		} else {
			res.Run = r
			if r.Boot == nil {
				r.Boot = &runfile.Boot{}
			}
			r.Boot.Mode = m.Name
			r.Boot.Append = res.Cmdline
			r.Boot.Kernel = filepath.Base(c.Kernel)
			r.Boot.Accel = c.accel()
			r.Boot.AccelReason = c.AccelReason
			r.Boot.Seconds = res.Seconds
			r.Env.Guest = true
			r.Env.Accel = c.accel()
		}
	}

	switch {
	case res.Run != nil && ctx.Err() == nil:
	case silent:
		res.Err = fmt.Errorf("%w: nothing from the kernel or the guest within %s under %s (killed)%s", ErrSilent, c.Silent, c.accel(), lastWords(res, nil))
	case errors.Is(context.Cause(ctx), ErrTimeout):
		res.Err = fmt.Errorf("%w after %s (killed)%s", ErrTimeout, c.timeout(), lastWords(res, decErr))
	case ctx.Err() != nil:
		res.Err = ctx.Err()
	case decErr != nil:
		if runErr != nil {
			decErr = fmt.Errorf("%v; qemu %s%s", decErr, exitWords(runErr), firstLine(stderr))
		}
		res.Err = fmt.Errorf("%w%s", decErr, lastWords(res, nil))
	}
	if res.Err != nil && c.accel() == AccelKVM {
		res.Err = fmt.Errorf("%w (under kvm; --accel tcg avoids KVM)", res.Err)
	}
	return res
}

// ErrSilent is wrapped by a Result's error when the boot was abandoned
// because nothing came from the kernel or the guest (Config.Silent).
var ErrSilent = errors.New("guest silent")

func isStopped(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// runQEMU runs qemu with args, copying its standard output to stdout, until
// it exits, ctx ends, or stop (if not nil) is closed. It returns the start
// of QEMU's standard error and the run's error.
func runQEMU(ctx context.Context, qemu string, args []string, stdout io.Writer, stop <-chan struct{}) (string, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if stop != nil {
		go func() {
			select {
			case <-stop:
				cancel()
			case <-ctx.Done():
			}
		}()
	}
	cmd := exec.CommandContext(ctx, qemu, args...)
	stderr := &capWriter{max: 64 << 10}
	cmd.Stdin = nil
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	cmd.WaitDelay = 2 * time.Second
	// QEMU is killed if vbench dies without cleaning up (SIGKILL, SIGTERM,
	// a crash): PR_SET_PDEATHSIG. It fires when the thread that forked
	// exits, not the process, so this goroutine stays locked to that thread
	// until QEMU has been waited for: no other goroutine can run on it, lock
	// it and exit with it, killing QEMU early.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	err := cmd.Run()
	return stderr.String(), err
}

// maxConsole bounds what is kept of a console: a guest printing in a loop
// would otherwise fill the host's memory before the timeout.
const maxConsole = 32 << 20

// capWriter keeps the first max bytes written and drops the rest.
type capWriter struct {
	buf bytes.Buffer
	max int
}

func (w *capWriter) Write(p []byte) (int, error) {
	if room := w.max - w.buf.Len(); room > 0 {
		w.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

func (w *capWriter) String() string { return w.buf.String() }

// lastWords picks what best explains a boot without a result: a guest error
// line, a Go panic or a kernel panic on the console, or its last line.
func lastWords(res Result, decErr error) string {
	var s string
	if decErr != nil && !errors.Is(decErr, ErrNoFrame) {
		s = "; " + decErr.Error()
	}
	if len(res.Guest) > 0 {
		return s + "; guest: " + res.Guest[len(res.Guest)-1]
	}
	lines := strings.Split(ansiEscape.ReplaceAllString(string(res.Console), ""), "\n")
	for _, l := range lines {
		for _, p := range []string{"panic: ", "fatal error: ", "Kernel panic", "runtime: "} {
			if i := strings.Index(l, p); i >= 0 {
				return s + "; console: " + strings.TrimSpace(l[i:])
			}
		}
	}
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" {
			return s + "; last console line: " + l
		}
	}
	return s + "; nothing on the console"
}

// ansiEscape matches the terminal control sequences firmware prints (SeaBIOS
// clears the screen), and carriage returns.
var ansiEscape = regexp.MustCompile(`\x1b(\[[0-9;?]*[A-Za-z]|[A-Za-z])|\r`)

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	l, _, _ := strings.Cut(s, "\n")
	return " (" + l + ")"
}
