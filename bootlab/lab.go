package bootlab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/vbench-dev/vbench/internal/atomicfile"
	"github.com/vbench-dev/vbench/internal/field"
	"github.com/vbench-dev/vbench/runfile"
)

// Lab is one run of the boot lab: every kernel booted in each mode (the
// matrix), or once in its default mode (the timeline), up to Parallel
// guests at a time, with every result written under Out. `vbench
// bootmodes` fills one from its flags; the tests fill one directly.
type Lab struct {
	// Kernels are the kernel images to boot (ParseKernels names them).
	Kernels []string
	// Modes is the comma-separated list of boots per kernel (ParseModes);
	// "" means DefaultModes. Ignored with Timeline.
	Modes string
	// Timeline boots each kernel once, in its default mode (no vsyscall=
	// argument: what the kernel's own configuration chose), and opens
	// bootmodes.md with the timeline table.
	Timeline bool
	Append   string        // extra kernel command line, appended to every boot's
	Timeout  time.Duration // per boot, positive (e.g. DefaultTimeout)
	// QEMU names the QEMU binary (FindQEMU); "" means each architecture's.
	QEMU string
	// Inits are static vbench executables for /init, one per architecture
	// at most; SelfInit (this vbench, if static) serves its own
	// architecture when Inits has none for it.
	Inits    []string
	SelfInit string
	// Accel is AccelAuto, AccelKVM or AccelTCG; "" means EnvAccelChoice,
	// else auto.
	Accel string
	// Parallel is how many guests run at once; 0 means one per CPU (see
	// DefaultParallel, which the memory bounds too).
	Parallel int
	// Out is the directory everything is written to: per boot
	// KERNEL/MODE/run.json and console.log, bootmodes.md, report/.
	Out string
	// Console, if not nil, receives every guest's serial console.
	Console io.Writer
	// Progress, if not nil, is told what the lab does (Event); it is
	// called from one goroutine at a time.
	Progress func(Event)
	// Sections are bootmodes.md's sections in order; nil means
	// DefaultSections.
	Sections []Section
}

// DefaultModes are the boots of each kernel in the matrix.
const DefaultModes = "emulate,xonly,none"

// DefaultTimeout is the time limit of a boot `vbench bootmodes` gives.
const DefaultTimeout = 120 * time.Second

// MaxParallel bounds Lab.Parallel.
const MaxParallel = 64

// kvmSilent is how long a KVM boot may stay silent before it is given up:
// under KVM the guest's /init prints within a few seconds of QEMU starting.
const kvmSilent = 20 * time.Second

// A Lab setting that cannot work is a *field.Error: Field is the Lab
// field's name ("Kernels", "Modes", ...), which a CLI maps to its flag
// (field.Rename), and the error it wraps says why.
func fieldErr(name string, err error) error {
	return &field.Error{Field: name, Msg: err.Error(), Kind: err}
}

func fieldErrf(name, format string, a ...any) error {
	return fieldErr(name, fmt.Errorf(format, a...))
}

// plan is a validated Lab.
type plan struct {
	kernels []Kernel
	modes   []Mode
	inits   map[string]string // architecture name -> /init given
}

// Validate checks every setting that can be checked without booting:
// each kernel image's header and name, the modes, the counts and the
// output directory. The error is a *field.Error naming the field.
func (l Lab) Validate() error {
	_, err := l.plan()
	return err
}

func (l Lab) plan() (*plan, error) {
	p := &plan{inits: map[string]string{}}
	if len(l.Kernels) == 0 {
		return nil, fieldErrf("Kernels", "no kernel given (a vmlinuz, e.g. /boot/vmlinuz-$(uname -r))")
	}
	var err error
	if p.kernels, err = ParseKernels(l.Kernels); err != nil {
		return nil, fieldErr("Kernels", err)
	}
	modes := l.Modes
	if modes == "" {
		modes = DefaultModes
	}
	if l.Timeline {
		p.modes = []Mode{DefaultMode}
	} else if p.modes, err = ParseModes(modes); err != nil {
		return nil, fieldErr("Modes", err)
	}
	if l.Timeout <= 0 {
		return nil, fieldErrf("Timeout", "%s: must be positive", l.Timeout)
	}
	switch l.Accel {
	case "", AccelAuto, AccelKVM, AccelTCG:
	default:
		return nil, fieldErrf("Accel", "%w %q (valid: auto, kvm, tcg)", ErrBadAccel, l.Accel)
	}
	if l.Parallel < 0 || l.Parallel > MaxParallel {
		return nil, fieldErrf("Parallel", "%d: want 1 to %d (0: as many as the cores and memory allow)", l.Parallel, MaxParallel)
	}
	for _, path := range l.Inits {
		a, err := BinaryArch(path)
		if err != nil {
			return nil, fieldErr("Inits", err)
		}
		if prev, ok := p.inits[a.Name]; ok {
			return nil, fieldErrf("Inits", "%s and %s are both for %s", prev, path, a.Name)
		}
		p.inits[a.Name] = path
	}
	if err := atomicfile.CheckDir(l.Out); err != nil {
		return nil, fieldErr("Out", err)
	}
	return p, nil
}

// setup is what the boots of one architecture share.
type setup struct {
	qemu   string
	init   string
	initrd string
	accel  Accel
}

// archSetups finds each architecture's QEMU and /init before anything
// boots; what is missing is a *field.Error naming the way to get it.
func (l Lab) archSetups(p *plan) (map[string]*setup, []*Arch, error) {
	out := map[string]*setup{}
	var order []*Arch
	for _, k := range p.kernels {
		if out[k.Arch.Name] != nil {
			continue
		}
		s := &setup{}
		var err error
		if s.qemu, err = FindQEMU(l.QEMU, k.Arch); err != nil {
			return nil, nil, fieldErr("QEMU", err)
		}
		s.init = p.inits[k.Arch.Name]
		if s.init == "" {
			if l.SelfInit == "" || runtime.GOARCH != k.Arch.GOARCH {
				return nil, nil, fieldErrf("Inits", "%s is an %s kernel: give a vbench built for it as /init (GOARCH=%s CGO_ENABLED=0 go build ./cmd/vbench)", k.Name, k.Arch.Name, k.Arch.GOARCH)
			}
			s.init = l.SelfInit
		}
		if err := CheckInit(s.init, k.Arch); err != nil {
			if errors.Is(err, ErrNotStatic) {
				err = fmt.Errorf("%s is dynamically linked and cannot be the guest's /init: build it with CGO_ENABLED=0 go build ./cmd/vbench", s.init)
			}
			return nil, nil, fieldErr("Inits", err)
		}
		out[k.Arch.Name] = s
		order = append(order, k.Arch)
	}
	return out, order, nil
}

// EventKind says what an Event reports.
type EventKind int

const (
	// EventInfo is an informational line (Text).
	EventInfo EventKind = iota
	// EventAccel: the accelerator for Arch's kernels was chosen (Accel).
	EventAccel
	// EventStart: the boots begin (Boots of them, Parallel at a time).
	EventStart
	// EventBooted: a boot ended (Result, written under Result.Dir).
	EventBooted
)

// Event is what Lab.Progress is told.
type Event struct {
	Kind     EventKind
	Text     string
	Arch     *Arch
	Accel    Accel
	Boots    int
	Parallel int
	Timeout  time.Duration
	Result   *Result
}

// Results is what a Lab run gives back.
type Results struct {
	Timeline bool
	Accels   map[string]Accel // by architecture name
	// Boots are every boot's result in the order asked: kernel by kernel,
	// mode by mode (not the order they finished in).
	Boots    []Result
	Parallel int
	Seconds  float64 // the whole run, host wall clock
	// Summary is bootmodes.md's path; Report report.md's, "" when fewer
	// than two runs came back or the report failed (ReportErr).
	Summary   string
	Report    string
	ReportErr error
	// Figures are the files of the lab's own figures (the timeline's).
	Figures []string
}

// Runs are the run files of the boots that brought one back, in order.
func (r *Results) Runs() []*runfile.Run {
	var out []*runfile.Run
	for _, b := range r.Boots {
		if b.Run != nil {
			out = append(out, b.Run)
		}
	}
	return out
}

// Failed names the boots that brought no result back, as KERNEL/MODE.
func (r *Results) Failed() []string {
	var out []string
	for _, b := range r.Boots {
		if b.Err != nil {
			out = append(out, b.Kernel+"/"+b.Mode.Name)
		}
	}
	return out
}

// Emulated reports whether any run came from a guest without KVM.
func (r *Results) Emulated() bool {
	for _, b := range r.Boots {
		if b.Run != nil && b.Run.Boot.Accel != AccelKVM {
			return true
		}
	}
	return false
}

// Run validates the lab, chooses each architecture's accelerator, builds
// its initramfs, boots every (kernel, mode) with up to Parallel guests at
// once, writes each boot's console.log and run.json, then bootmodes.md
// (Sections) and the report of the runs. A boot that fails or times out is
// a result with Err, and the others go on. The error is a *field.Error for
// a setting that cannot work (nothing booted), ctx's error when it was
// cancelled (what finished is written), or a failure to write.
func (l Lab) Run(ctx context.Context) (*Results, error) {
	start := time.Now()
	p, err := l.plan()
	if err != nil {
		return nil, err
	}
	setups, arches, err := l.archSetups(p)
	if err != nil {
		return nil, err
	}
	progress := func(e Event) {
		if l.Progress != nil {
			l.Progress(e)
		}
	}
	if err := os.MkdirAll(l.Out, 0o755); err != nil {
		return nil, err
	}
	if n, err := RemoveStaleInitramfs(l.Out); err != nil {
		return nil, err
	} else if n > 0 {
		progress(Event{Kind: EventInfo, Text: fmt.Sprintf("removed %d initramfs file(s) a killed run left in %s", n, l.Out)})
	}
	res := &Results{Timeline: l.Timeline, Accels: map[string]Accel{}}
	for _, a := range arches {
		s := setups[a.Name]
		first := p.kernels[indexArch(p.kernels, a)]
		// Decided once per architecture for every boot of the run: KVM only
		// if a guest really prints under it here (a nested VM may have
		// /dev/kvm and still abort QEMU, or start it and never run the
		// guest), and only for the host's own architecture.
		s.accel, err = ChooseAccel(ctx, l.Accel, Config{QEMU: s.qemu, Kernel: first.Path, Arch: a, Timeout: l.timeout()}, 0)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fieldErr("Accel", err)
		}
		res.Accels[a.Name] = s.accel
		progress(Event{Kind: EventAccel, Arch: a, Accel: s.accel})
		if s.initrd, err = BuildInitramfs(l.Out, s.init); err != nil {
			return nil, fmt.Errorf("building the initramfs: %w", err)
		}
		defer os.Remove(s.initrd)
	}

	type job struct {
		k Kernel
		m Mode
	}
	var jobs []job
	for _, k := range p.kernels {
		for _, m := range ModesFor(k.Arch, p.modes) {
			jobs = append(jobs, job{k, m})
		}
	}
	res.Parallel = l.Parallel
	if res.Parallel == 0 {
		res.Parallel = runtime.NumCPU()
	}
	res.Parallel = min(res.Parallel, len(jobs))
	progress(Event{Kind: EventStart, Boots: len(jobs), Parallel: res.Parallel, Timeout: l.timeout()})

	res.Boots = make([]Result, len(jobs))
	var (
		mu       sync.Mutex // serializes Progress and the first write error
		writeErr error
		wg       sync.WaitGroup
		next     = make(chan int)
	)
	for range res.Parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if ctx.Err() != nil {
					continue // never started: no result
				}
				j := jobs[i]
				r := l.boot(ctx, setups[j.k.Arch.Name], j.k, j.m, len(p.kernels) > 1)
				err := l.writeBoot(&r)
				mu.Lock()
				res.Boots[i] = r
				if err != nil && writeErr == nil {
					writeErr = err
				}
				progress(Event{Kind: EventBooted, Result: &res.Boots[i]})
				mu.Unlock()
			}
		}()
	}
	for i := range jobs {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if writeErr != nil {
		return res, writeErr
	}
	if ctx.Err() != nil {
		// Boots never started have no result; keep the ones that ran.
		var done []Result
		for _, b := range res.Boots {
			if b.Kernel != "" {
				done = append(done, b)
			}
		}
		res.Boots = done
	}
	// What finished is written even when ctx was cancelled.
	err = l.render(context.WithoutCancel(ctx), res)
	res.Seconds = time.Since(start).Seconds()
	if err != nil {
		return res, err
	}
	return res, ctx.Err()
}

func indexArch(ks []Kernel, a *Arch) int {
	for i, k := range ks {
		if k.Arch == a {
			return i
		}
	}
	return 0
}

func (l Lab) timeout() time.Duration {
	if l.Timeout <= 0 {
		return DefaultTimeout
	}
	return l.Timeout
}

// boot boots kernel k in mode m once.
func (l Lab) boot(ctx context.Context, s *setup, k Kernel, m Mode, labelKernel bool) Result {
	cfg := Config{QEMU: s.qemu, Kernel: k.Path, Arch: k.Arch, Initramfs: s.initrd,
		Accel: s.accel.Name, AccelReason: s.accel.Reason, Append: l.Append, Timeout: l.timeout()}
	if s.accel.Name == AccelKVM {
		cfg.Silent = kvmSilent
	}
	if l.Console != nil {
		cfg.Console = l.Console
	}
	r := Boot(ctx, cfg, m)
	r.Arch = k.Arch
	r.Dir = filepath.Join(l.Out, k.Dir(), m.Dir())
	if r.Run != nil && labelKernel {
		// Labels must tell the kernels apart in the comparison.
		r.Run.Label = k.Name + " " + r.Run.Label
	}
	return r
}

// writeBoot writes a boot's console.log and, if it brought one back,
// run.json into its directory.
func (l Lab) writeBoot(r *Result) error {
	if err := os.MkdirAll(r.Dir, 0o755); err != nil {
		return err
	}
	if err := atomicfile.WriteBytes(filepath.Join(r.Dir, "console.log"), r.Console); err != nil {
		return err
	}
	if r.Run != nil {
		return r.Run.WriteFile(filepath.Join(r.Dir, "run.json"))
	}
	return nil
}

// render writes bootmodes.md from the sections and the report of the runs
// (package report, as `vbench report` renders it) under Out/report.
func (l Lab) render(ctx context.Context, res *Results) error {
	sections := l.Sections
	if sections == nil {
		sections = DefaultSections
	}
	var md bytes.Buffer
	doc := &Doc{Results: res, Out: l.Out}
	fmt.Fprintf(&md, "# The boot lab under QEMU\n")
	for _, s := range sections {
		var b bytes.Buffer
		if err := s.Write(&b, doc); err != nil {
			return fmt.Errorf("bootmodes.md, section %s: %w", s.Name, err)
		}
		if b.Len() > 0 {
			md.WriteString("\n")
			md.Write(b.Bytes())
		}
	}
	runs := res.Runs()
	if len(runs) >= 2 {
		p, err := writeReport(ctx, filepath.Join(l.Out, "report"), runs)
		if err != nil {
			res.ReportErr = err
		} else {
			res.Report = p
			rel, _ := filepath.Rel(l.Out, p)
			fmt.Fprintf(&md, "\nFull report with the comparison: [%s](%s).\n", rel, filepath.ToSlash(rel))
		}
	}
	res.Figures = doc.Figures
	res.Summary = filepath.Join(l.Out, "bootmodes.md")
	return atomicfile.WriteBytes(res.Summary, md.Bytes())
}

// GuestMemoryMB is a guest's memory (Config.MemoryMB's default).
const GuestMemoryMB = 512

// DefaultParallel is how many guests of memMB each a machine with cpus
// CPUs and avail bytes of available memory (MemAvailable, 0 if unknown)
// can run at once: one per CPU (a TCG guest of one vCPU keeps one host
// thread busy), and no more than half of the available memory holds (a
// guest takes its memory and about 200 MB of QEMU's own), at least one.
func DefaultParallel(cpus int, avail uint64, memMB int) int {
	n := cpus
	if avail > 0 {
		n = min(n, int(avail/2/(uint64(memMB+200)<<20)))
	}
	return max(1, n)
}
