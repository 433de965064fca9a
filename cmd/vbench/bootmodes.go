package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/vbench-dev/vbench/bootlab"
	"github.com/vbench-dev/vbench/internal/atomicfile"
	"github.com/vbench-dev/vbench/report"
	"github.com/vbench-dev/vbench/runfile"
)

func init() {
	register(&command{name: "bootmodes", summary: "boot kernels under QEMU in each vsyscall= mode and compare", run: runBootmodes})
}

const bootmodesExamples = `  vbench bootmodes --kernel /boot/vmlinuz-$(uname -r)
  vbench bootmodes --kernel vmlinuz-6.1.0-50-cloud-amd64 --kernel vmlinuz-6.12.57+deb12-cloud-amd64
  vbench bootmodes --kernel vmlinuz --modes emulate,xonly,none,vdso=0 --out results/bootmodes
  vbench bootmodes --kernel vmlinuz --modes none --append "VBENCH_PARTS=vsyscall,verify" --timeout 60s

vbench must be a static binary to run as the guest's /init:
  CGO_ENABLED=0 go build ./cmd/vbench

Each kernel boots once in each mode, one at a time, with "console=ttyS0
vsyscall=MODE panic=-1 quiet" (+ --append); the guest runs the study
(vsyscall probe, a short bench, verify, 20 s of ASLR sampling), sends its
run back on the serial console and powers off.
Results: OUT/KERNEL/MODE/run.json and console.log, OUT/bootmodes.md (a
kernels x modes table of what each guest saw, boot times, and the ASLR
figures per kernel), and the comparison and full report of the runs
under OUT/report.

--accel auto (the default) uses KVM only if a test boot of the kernel
prints under it within 10 s (a nested VM may have /dev/kvm and still abort
QEMU or never run the guest), else TCG, and says why on stderr and in
bootmodes.md and run.json. $VBENCH_QEMU_ACCEL sets the default. Under TCG
QEMU emulates the CPU: timings from such a guest are not real-hardware
numbers. A KVM boot silent for 20 s is given up.
Guest knobs for --append: VBENCH_PARTS=vsyscall,bench,verify,aslr (default all),
VBENCH_ASLR_SAMPLES=N (a count instead of 20 s of sampling),
VBENCH_ASLR_METHOD=self-report (guests sample through ptrace by default).

` + outRule

// kvmSilent is how long a KVM boot may stay silent before it is given up:
// under KVM the guest's /init prints within a few seconds of QEMU starting.
const kvmSilent = 20 * time.Second

func runBootmodes(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bootmodes", "vbench bootmodes --kernel VMLINUZ [flags]", bootmodesExamples, stdout)
	kernelFlags := fs.StringArray("kernel", nil, "kernel image (bzImage) to boot, e.g. /boot/vmlinuz-...; repeat for several kernels")
	modesFlag := fs.String("modes", "emulate,xonly,none", "comma-separated vsyscall= modes; an entry with '=' (e.g. vdso=0) is a boot argument used as is")
	appendArgs := fs.String("append", "", "extra kernel command line for every boot")
	out := fs.String("out", "", "output `DIR` (default results/bootmodes-TIME/)")
	timeout := fs.Duration("timeout", 120*time.Second, "kill a boot that has not powered off after this long")
	qemu := fs.String("qemu", "", "QEMU binary (name on PATH or path; default qemu-system-x86_64 or qemu-system-aarch64 by the kernel's architecture)")
	inits := fs.StringArray("init", nil, "static vbench to run as /init, for kernels of its architecture (default: this vbench for its own); repeat for several")
	defAccel := os.Getenv(bootlab.EnvAccelChoice)
	if defAccel == "" {
		defAccel = bootlab.AccelAuto
	}
	accel := fs.String("accel", defAccel, "QEMU accelerator: auto (kvm if a test boot runs under it here, else tcg), kvm or tcg; default from $"+bootlab.EnvAccelChoice)
	console := fs.Bool("console", false, "copy each guest's serial console to stderr as it arrives")
	quiet := quietFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErrorf("bootmodes: unexpected argument %q (see 'vbench bootmodes --help')", fs.Arg(0))
	}
	if len(*kernelFlags) == 0 {
		return usageErrorf("bootmodes: --kernel is required (a vmlinuz, e.g. /boot/vmlinuz-$(uname -r))")
	}
	kernels, err := bootlab.ParseKernels(*kernelFlags)
	if err != nil {
		return usageErrorf("bootmodes: --kernel: %v", err)
	}
	modes, err := bootlab.ParseModes(*modesFlag)
	if err != nil {
		return usageErrorf("bootmodes: --modes: %v", err)
	}
	if *timeout <= 0 {
		return usageErrorf("bootmodes: --timeout must be positive")
	}
	switch *accel {
	case bootlab.AccelAuto, bootlab.AccelKVM, bootlab.AccelTCG:
	default:
		return usageErrorf("bootmodes: --accel %q (valid: auto, kvm, tcg)", *accel)
	}
	// Everything each architecture needs is checked before anything boots:
	// its QEMU and its /init.
	archs, err := prepareArchs(kernels, *qemu, *inits)
	if err != nil {
		return err
	}
	if *out == "" {
		*out = defaultOut("bootmodes", time.Now())
	}
	if err := atomicfile.CheckDir(*out); err != nil {
		return usageErrorf("bootmodes: --out %v", err)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return failedf("bootmodes: %v", err)
	}
	if n, err := bootlab.RemoveStaleInitramfs(*out); err != nil {
		return failedf("bootmodes: %v", err)
	} else if n > 0 {
		fmt.Fprintf(infoWriter(stderr, *quiet), "vbench: removed %d initramfs file(s) a killed run left in %s\n", n, *out)
	}
	// SIGTERM too: QEMU is then killed and the temporary initramfs removed.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	accels := map[string]bootlab.Accel{}
	for _, a := range archs {
		cfg := bootlab.Config{QEMU: a.qemu, Kernel: a.kernel.Path, Arch: a.kernel.Arch, Timeout: *timeout}
		// Decided once per architecture for every boot of the run: KVM only
		// if a guest really prints under it here (a nested VM may have
		// /dev/kvm and still abort QEMU, or start it and never run the
		// guest), and only for the host's own architecture.
		acc, err := bootlab.ChooseAccel(ctx, *accel, cfg, 0)
		if err != nil {
			if ctx.Err() != nil {
				return failedf("bootmodes: interrupted")
			}
			return failedf("bootmodes: %v", err)
		}
		fmt.Fprintf(infoWriter(stderr, *quiet), "vbench: accel for %s kernels: %s: %s\n", a.kernel.Arch.Name, acc.Name, acc.Reason)
		accels[a.kernel.Arch.Name] = acc
		a.initrd, err = bootlab.BuildInitramfs(*out, a.init)
		if err != nil {
			return failedf("bootmodes: building the initramfs: %v", err)
		}
		defer os.Remove(a.initrd)
	}

	nboots := 0
	for _, k := range kernels {
		nboots += len(bootlab.ModesFor(k.Arch, modes))
	}
	fmt.Fprintf(stdout, "booting %d kernel(s), %d boot(s), one at a time, timeout %s each\n", len(kernels), nboots, *timeout)

	var (
		results []bootlab.Result
		runs    []*runfile.Run
		failed  []string
	)
	for _, k := range kernels {
		a := archs[k.Arch.Name]
		acc := accels[k.Arch.Name]
		cfg := bootlab.Config{QEMU: a.qemu, Kernel: k.Path, Arch: k.Arch, Initramfs: a.initrd,
			Accel: acc.Name, AccelReason: acc.Reason, Append: *appendArgs, Timeout: *timeout}
		if acc.Name == bootlab.AccelKVM {
			cfg.Silent = kvmSilent
		}
		if *console {
			cfg.Console = escapeWriter{stderr}
		}
		for _, m := range bootlab.ModesFor(k.Arch, modes) {
			fmt.Fprintf(stdout, "\n== %s, %s (%s)\n", k.Name, m.Name, m.Arg)
			res := bootlab.Boot(ctx, cfg, m)
			results = append(results, res)
			dir := filepath.Join(*out, k.Dir(), m.Dir())
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return failedf("bootmodes: %v", err)
			}
			if err := atomicfile.WriteBytes(filepath.Join(dir, "console.log"), res.Console); err != nil {
				return failedf("bootmodes: %v", err)
			}
			if res.Run != nil {
				if len(kernels) > 1 {
					// Labels must tell the kernels apart in the comparison.
					res.Run.Label = k.Name + " " + res.Run.Label
				}
				p := filepath.Join(dir, "run.json")
				if err := res.Run.WriteFile(p); err != nil {
					return failedf("bootmodes: %v", err)
				}
				runs = append(runs, res.Run)
			}
			printBoot(stdout, res, dir)
			if res.Err != nil {
				failed = append(failed, k.Name+"/"+m.Name)
			}
			if ctx.Err() != nil {
				return failedf("bootmodes: interrupted")
			}
		}
	}

	fmt.Fprintln(stdout)
	printBootSummary(stdout, results)
	if slices.ContainsFunc(results, func(r bootlab.Result) bool { return r.Run != nil && r.Run.Boot.Accel != bootlab.AccelKVM }) {
		fmt.Fprintf(stdout, "\nnote: %s\n", bootlab.TCGNote)
	}

	var summary bytes.Buffer
	bootlab.WriteSummaryMarkdown(&summary, accels, results)
	bootlab.WriteASLRMarkdown(&summary, results)
	bootlab.WriteLifecycleMarkdown(&summary, results)
	var compareErr error
	if len(runs) >= 2 {
		// The comparison and the report are rendered by package report,
		// as 'vbench compare' and 'vbench report' do.
		fmt.Fprintf(stdout, "\n== comparison (first run is the base)\n")
		cmp := report.Compare(runs, nil, report.DefaultConfig)
		if err := cmp.WriteText(stdout); err != nil {
			return err
		}
		dir := filepath.Join(*out, "report")
		md, err := report.Write(context.Background(), dir, runs, report.Options{})
		if err != nil {
			compareErr = err
			fmt.Fprintf(stdout, "report failed: %v\n", err)
		} else {
			fmt.Fprintf(stdout, "\nreport: %s\n", md)
			rel, _ := filepath.Rel(*out, md)
			fmt.Fprintf(&summary, "\nFull report with the comparison: [%s](%s).\n", rel, filepath.ToSlash(rel))
		}
	} else {
		fmt.Fprintf(stdout, "\nfewer than two runs: nothing to compare\n")
	}
	sp := filepath.Join(*out, "bootmodes.md")
	if err := atomicfile.WriteBytes(sp, summary.Bytes()); err != nil {
		return failedf("bootmodes: %v", err)
	}
	fmt.Fprintf(stdout, "summary: %s\n", sp)

	switch {
	case len(failed) > 0:
		return failedf("bootmodes: %d of %d boot(s) gave no result: %s", len(failed), len(results), strings.Join(failed, ", "))
	case compareErr != nil:
		return failedf("bootmodes: report: %v", compareErr)
	}
	return nil
}

// archSetup is what the boots of one architecture share.
type archSetup struct {
	kernel bootlab.Kernel // the first kernel of the architecture, for the KVM probe
	qemu   string
	init   string // the static vbench for /init
	initrd string
}

// prepareArchs finds, for each architecture among kernels, its QEMU (qemu
// if given, else the architecture's own) and its /init: the --init built
// for it, or this vbench for its own architecture. What is missing is a
// usage error naming the way to get it.
func prepareArchs(kernels []bootlab.Kernel, qemu string, inits []string) (map[string]*archSetup, error) {
	given := map[string]string{}
	for _, p := range inits {
		a, err := bootlab.BinaryArch(p)
		if err != nil {
			return nil, usageErrorf("bootmodes: --init: %v", err)
		}
		given[a.Name] = p
	}
	out := map[string]*archSetup{}
	for _, k := range kernels {
		if out[k.Arch.Name] != nil {
			continue
		}
		a := &archSetup{kernel: k}
		var err error
		if a.qemu, err = bootlab.FindQEMU(qemu, k.Arch); err != nil {
			return nil, usageErrorf("bootmodes: %v", err)
		}
		a.init = given[k.Arch.Name]
		if a.init == "" {
			if runtime.GOARCH != k.Arch.GOARCH {
				return nil, usageErrorf("bootmodes: %s is an %s kernel: give --init PATH, a vbench built with GOARCH=%s CGO_ENABLED=0 go build ./cmd/vbench", k.Name, k.Arch.Name, k.Arch.GOARCH)
			}
			if a.init, err = os.Executable(); err != nil {
				return nil, failedf("bootmodes: cannot find vbench's own executable: %v", err)
			}
		}
		if err := bootlab.CheckInit(a.init, k.Arch); err != nil {
			if errors.Is(err, bootlab.ErrNotStatic) {
				return nil, usageErrorf("bootmodes: %s is dynamically linked and cannot be the guest's /init: build it with CGO_ENABLED=0 go build ./cmd/vbench", a.init)
			}
			return nil, usageErrorf("bootmodes: %v", err)
		}
		out[k.Arch.Name] = a
	}
	return out, nil
}

// printBoot prints what one guest saw.
func printBoot(w io.Writer, res bootlab.Result, dir string) {
	fmt.Fprintf(w, "boot took %.1fs; console in %s\n", res.Seconds, filepath.Join(dir, "console.log"))
	if res.Run == nil {
		fmt.Fprintf(w, "no result: %v\n", res.Err)
		return
	}
	o := res.Run.Boot.Observed
	fmt.Fprintf(w, "kernel %s, vsyscall mode from maps: %s\n", res.Run.Env.KernelRelease, orDash(res.Run.Env.VsyscallMode))
	fmt.Fprintf(w, "  maps line:  %s\n", orText(o.MapsLine, "(no [vsyscall] line)"))
	fmt.Fprintf(w, "  read probe: %s\n", orText(o.ReadProbe, "(not probed)"))
	fmt.Fprintf(w, "  call probe: %s\n", orText(o.CallProbe, "(not probed)"))
	for _, e := range res.Run.Boot.Errors {
		fmt.Fprintf(w, "  guest error: %s\n", e)
	}
	if res.Run.Verify != nil {
		fmt.Fprintf(w, "  verify: %s\n", verifyWord(res.Run.Verify))
	}
	if res.Err != nil {
		fmt.Fprintf(w, "  but: %v\n", res.Err)
	}
	fmt.Fprintf(w, "run written to %s\n", filepath.Join(dir, "run.json"))
}

func printBootSummary(w io.Writer, results []bootlab.Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "kernel\tmode\tboot\tmaps\tread\tcall\tverify\tresult")
	for _, res := range results {
		if res.Run == nil {
			fmt.Fprintf(tw, "%s\t%s\t%.1fs\t-\t-\t-\t-\tno result\n", res.Kernel, res.Mode.Name, res.Seconds)
			continue
		}
		o := res.Run.Boot.Observed
		perms := bootlab.Perms(o.MapsLine)
		verdict := "ok"
		if n := len(res.Run.Boot.Errors); n > 0 {
			verdict = fmt.Sprintf("%d part(s) failed", n)
		}
		vw := "-"
		if res.Run.Verify != nil {
			vw = verifyWord(res.Run.Verify)
		}
		fmt.Fprintf(tw, "%s\t%s\t%.1fs\t%s\t%s\t%s\t%s\t%s\n", res.Kernel, res.Mode.Name, res.Seconds, perms, orDash(o.ReadProbe), orDash(o.CallProbe), vw, verdict)
	}
	tw.Flush()
}

func verifyWord(v *runfile.Verify) string {
	n, _ := v.Counts()
	return fmt.Sprintf("%d pass, %d fail, %d skip", n[runfile.StatusPass], n[runfile.StatusFail], n[runfile.StatusSkip])
}

func orDash(s string) string { return orText(s, "-") }

func orText(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}

// escapeWriter shows ESC as "^[" so that firmware output on the console
// (SeaBIOS resets and clears the screen) cannot drive the user's terminal.
type escapeWriter struct{ w io.Writer }

func (e escapeWriter) Write(p []byte) (int, error) {
	if _, err := e.w.Write(bytes.ReplaceAll(p, []byte{0x1b}, []byte("^["))); err != nil {
		return 0, err
	}
	return len(p), nil
}
