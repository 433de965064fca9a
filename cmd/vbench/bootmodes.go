package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vbench-dev/vbench/bootlab"
	"github.com/vbench-dev/vbench/internal/field"
	"github.com/vbench-dev/vbench/proc"
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
  .ci/fetch-kernel 6.1 6.12 6.16 6.19 7.0 7.3 6.1/arm64 6.12/arm64 6.16/arm64 6.19/arm64 7.0/arm64 7.3/arm64
  vbench bootmodes --timeline --init vbench-arm64 --out results/timeline
  vbench bootmodes --timeline --series 6.1,7.3 --parallel 2

vbench must be a static binary to run as the guest's /init:
  CGO_ENABLED=0 go build ./cmd/vbench

Each kernel boots once in each mode with "console=ttyS0 vsyscall=MODE
panic=-1 quiet" (+ --append), up to --parallel guests at a time; the guest
runs the study (vsyscall probe, a short bench, verify, and ASLR sampling
sized to the vDSO's interval: about 2,900 samples on arm64, 6,000 on
x86-64, at most 20 s), sends its run back on the serial console and powers
off.

--timeline boots each kernel once in its default mode (no vsyscall=
argument) and opens bootmodes.md with the timeline: per architecture, one
row per kernel in version order (vsyscall default, the [vvar],
[vvar_vclock] and [vdso] mappings, where the vDSO sits and its effective
bits, getrandom in the vDSO, boot time), a cell that differs from the row
above in bold, and timeline.png. Without --kernel it takes one kernel per
--series (default 6.1,6.12,6.16,6.19,7.0,7.3) for each architecture there
is a vbench for (this one's, and each --init's) from .ci/fetch-kernel's
cache ($VBENCH_CACHE, else $XDG_CACHE_HOME/vbench, else ~/.cache/vbench).

Results: OUT/KERNEL/MODE/run.json and console.log, OUT/bootmodes.md (the
timeline, a kernels x modes table of what each guest saw, boot times, and
the ASLR figures per kernel), and the comparison and full report of the
runs under OUT/report. A boot that times out is a row saying so with its
console's last line; the others go on.

--accel auto (the default) uses KVM only if a test boot of the kernel
prints under it within 10 s (a nested VM may have /dev/kvm and still abort
QEMU or never run the guest), else TCG, and says why on stderr and in
bootmodes.md and run.json. $VBENCH_QEMU_ACCEL sets the default. Under TCG
QEMU emulates the CPU: timings from such a guest are not real-hardware
numbers. A KVM boot silent for 20 s is given up.
Guest knobs for --append: VBENCH_PARTS=vsyscall,bench,verify,aslr (default all),
VBENCH_ASLR_SAMPLES=N (a count instead of the sized one),
VBENCH_ASLR_METHOD=self-report (guests sample through ptrace by default).

` + outRule

func runBootmodes(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bootmodes", "vbench bootmodes --kernel VMLINUZ... | --timeline [flags]", bootmodesExamples, stdout)
	kernelFlags := fs.StringArray("kernel", nil, "kernel image (bzImage) to boot, e.g. /boot/vmlinuz-...; repeat for several kernels")
	timeline := fs.Bool("timeline", false, "boot each kernel once in its default vsyscall mode and open bootmodes.md with the timeline table (without --kernel: one kernel per --series and architecture from .ci/fetch-kernel's cache)")
	series := fs.StringSlice("series", bootlab.TimelineSeries, "the kernel series a --timeline without --kernel boots")
	modesFlag := fs.String("modes", bootlab.DefaultModes, "comma-separated vsyscall= modes; an entry with '=' (e.g. vdso=0) is a boot argument used as is")
	appendArgs := fs.String("append", "", "extra kernel command line for every boot")
	out := fs.String("out", "", "output `DIR` (default results/bootmodes-TIME/)")
	timeout := fs.Duration("timeout", bootlab.DefaultTimeout, "kill a boot that has not powered off after this long")
	parallel := fs.Int("parallel", 0, "guests to run at once (0: one per CPU, as memory allows)")
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
	if len(*kernelFlags) == 0 && !*timeline {
		return usageErrorf("bootmodes: --kernel is required (a vmlinuz, e.g. /boot/vmlinuz-$(uname -r)), or --timeline")
	}
	if *out == "" {
		*out = defaultOut("bootmodes", time.Now())
	}
	self, _ := os.Executable()
	lab := bootlab.Lab{Kernels: *kernelFlags, Modes: *modesFlag, Timeline: *timeline, Append: *appendArgs,
		Timeout: *timeout, QEMU: *qemu, Inits: *inits, SelfInit: self, Accel: *accel, Parallel: *parallel, Out: *out}
	if lab.Parallel == 0 {
		avail, _ := proc.Live.MemAvailable()
		lab.Parallel = bootlab.DefaultParallel(runtime.NumCPU(), avail, bootlab.GuestMemoryMB)
	}
	if *timeline && len(*kernelFlags) == 0 {
		ks, err := timelineKernels(*series, *inits)
		if err != nil {
			return err
		}
		lab.Kernels = ks
	}
	if err := lab.Validate(); err != nil {
		return labError(err)
	}
	if *console {
		lab.Console = escapeWriter{stderr}
	}
	info := infoWriter(stderr, *quiet)
	lab.Progress = func(e bootlab.Event) { printEvent(stdout, info, e) }

	ctx := onInterrupt()
	defer ctx.stop()
	res, err := lab.Run(ctx)
	if res == nil {
		if e := ctx.interruptedf("bootmodes: interrupted by %s before any boot"); e != nil {
			return e
		}
		return labError(err)
	}
	if err := printResults(stdout, res); err != nil {
		return err
	}
	if e := ctx.interruptedf("bootmodes: interrupted by %s; the boots that finished are written"); e != nil {
		return e
	}
	if err != nil {
		return failedf("bootmodes: %v", err)
	}
	if failed := res.Failed(); len(failed) > 0 {
		return failedf("bootmodes: %d of %d boot(s) gave no result: %s", len(failed), len(res.Boots), strings.Join(failed, ", "))
	}
	if res.ReportErr != nil {
		return failedf("bootmodes: report: %v", res.ReportErr)
	}
	return nil
}

// printResults prints the lab's results: the summary table, the
// comparison of the runs (package report, as 'vbench compare' renders
// it), and where everything was written.
func printResults(stdout io.Writer, res *bootlab.Results) error {
	fmt.Fprintln(stdout)
	printBootSummary(stdout, res.Boots)
	if res.Emulated() {
		fmt.Fprintf(stdout, "\nnote: %s\n", bootlab.TCGNote)
	}
	if runs := res.Runs(); len(runs) >= 2 {
		fmt.Fprintf(stdout, "\n== comparison (first run is the base)\n")
		if err := report.Compare(runs, nil, report.DefaultConfig).WriteText(stdout); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(stdout, "\nfewer than two runs: nothing to compare\n")
	}
	switch {
	case res.Report != "":
		fmt.Fprintf(stdout, "\nreport: %s\n", res.Report)
	case res.ReportErr != nil:
		fmt.Fprintf(stdout, "report failed: %v\n", res.ReportErr)
	}
	for _, f := range res.Figures {
		fmt.Fprintf(stdout, "figure: %s\n", f)
	}
	if res.Summary != "" {
		fmt.Fprintf(stdout, "summary: %s\n", res.Summary)
	}
	_, err := fmt.Fprintf(stdout, "%d boot(s) in %.0f s, %d at a time\n", len(res.Boots), res.Seconds, res.Parallel)
	return err
}

// labFlags maps bootlab.Lab's fields to the flags that set them.
var labFlags = map[string]string{
	"Kernels": "--kernel", "Modes": "--modes", "Timeout": "--timeout", "Accel": "--accel",
	"Parallel": "--parallel", "Inits": "--init", "QEMU": "--qemu", "Out": "--out",
}

// labError turns the lab's error into the CLI's: a setting that cannot work
// is a usage error naming its flag.
func labError(err error) error {
	var fe *field.Error
	if errors.As(err, &fe) {
		return usageErrorf("bootmodes: %v", field.Rename(err, labFlags))
	}
	return failedf("bootmodes: %v", err)
}

// timelineKernels finds, in .ci/fetch-kernel's cache, one kernel per
// series for each architecture there is a vbench for: this one's own, and
// each --init's.
func timelineKernels(series, inits []string) ([]string, error) {
	have := map[string]bool{runtime.GOARCH: true}
	for _, p := range inits {
		if a, err := bootlab.BinaryArch(p); err == nil {
			have[a.GOARCH] = true
		}
	}
	var out []string
	dir := bootlab.CacheDir()
	for _, a := range bootlab.Arches() {
		if !have[a.GOARCH] {
			continue
		}
		for _, s := range series {
			k, err := bootlab.CachedKernel(dir, strings.TrimSpace(s), a)
			if err != nil {
				return nil, usageErrorf("bootmodes: --timeline: %v", err)
			}
			out = append(out, k)
		}
	}
	return out, nil
}

// printEvent prints what the lab reports as it goes.
func printEvent(stdout, info io.Writer, e bootlab.Event) {
	switch e.Kind {
	case bootlab.EventInfo:
		fmt.Fprintf(info, "vbench: %s\n", e.Text)
	case bootlab.EventAccel:
		fmt.Fprintf(info, "vbench: accel for %s kernels: %s: %s\n", e.Arch.Name, e.Accel.Name, e.Accel.Reason)
	case bootlab.EventStart:
		fmt.Fprintf(stdout, "%d boot(s), %d at a time, timeout %s each\n", e.Boots, e.Parallel, e.Timeout)
	case bootlab.EventBooted:
		r := e.Result
		fmt.Fprintf(stdout, "\n== %s, %s (%s)\n", r.Kernel, r.Mode.Name, orText(r.Mode.Arg, "no boot argument"))
		printBoot(stdout, *r, r.Dir)
	}
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
