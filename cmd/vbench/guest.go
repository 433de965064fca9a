package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vbench-dev/vbench/aslr"
	"github.com/vbench-dev/vbench/aslr/analysis"
	"github.com/vbench-dev/vbench/bootlab"
	"github.com/vbench-dev/vbench/probes"
	"github.com/vbench-dev/vbench/probes/lifecycle"
	"github.com/vbench-dev/vbench/proc"
	"github.com/vbench-dev/vbench/runfile"
	"github.com/vbench-dev/vbench/study"
	"github.com/vbench-dev/vbench/sysenv"
)

// guestMain runs vbench as /init inside a `vbench bootmodes` guest and
// reports whether it did (it does not return when it did: the guest powers
// off). See bootlab.IsGuest for how a guest is recognized.
func guestMain() bool {
	if !bootlab.IsGuest() {
		return false
	}
	bootlab.RunGuest(guestStudy)
	return true
}

// Guest settings: the guest may run under software emulation (TCG), where
// everything is tens of times slower, so the study is shortened: bench gets
// a few samples per cell, and ASLR takes as many samples as the vDSO's
// interval needs (guestASLRSamples), within a time limit, so that a slow
// guest still gathers what it can.
const (
	guestBenchCount = 6 // the fewest samples with a 95% CI (runfile.MinSamplesForCI)
	guestBenchtime  = 5 * time.Millisecond
	guestASLRTime   = 20 * time.Second
	// guestASLRCap is the most samples a guest takes: enough for the
	// collision estimator's lower bound to pass 22 bits with no collision
	// at all (log2(N^2/6) > 22 from N = 5,017), so that a vDSO in the mmap
	// region (28 bits) is told from one next to the stack (at most 22
	// bits before 6.9 on x86-64).
	guestASLRCap        = 6000
	guestASLRMin        = 500
	guestBudgetFraction = 0.6 // of the host's --timeout, for the whole study
)

// guestStudy runs the study (package study) with the guest's settings and
// records the boot: what the guest saw of the vsyscall page, and which
// parts failed.
func guestStudy(gi bootlab.GuestInfo) (*runfile.Run, error) {
	settleClocksource(3 * time.Second)
	r := runfile.New(sysenv.Collect())
	r.Env.Guest = true
	r.Env.Accel = gi.Accel
	// The label names the boot, not the host: "vsyscall=xonly (QEMU tcg)";
	// DefaultLabel would not tell vdso=0 apart from vsyscall=none.
	arg := gi.Mode
	switch {
	case arg == bootlab.DefaultMode.Name:
		arg = "default boot" // a kernel without vsyscall= (arm64)
	case !strings.Contains(arg, "="):
		arg = "vsyscall=" + arg
	}
	r.Label = fmt.Sprintf("%s (QEMU %s)", arg, gi.Accel)
	boot := &runfile.Boot{Mode: gi.Mode, Accel: gi.Accel, Append: r.Env.Cmdline}
	r.Boot = boot
	// The maps line is known from the environment even if the probe fails.
	boot.Observed.MapsLine = r.Env.VsyscallMapsLine

	// The host's timeout runs from QEMU's start: the budget is counted from
	// the kernel's, which under a loaded TCG host can be half a minute
	// before /init runs (an arm64 6.12 guest timed out at 120 s so).
	budget := time.Duration(float64(gi.Timeout)*guestBudgetFraction) - sinceBoot()
	// The fault-injection check needs debugfs, which no one else mounts in
	// a guest.
	cfg := study.Config{VerifyBrief: true, Lifecycle: lifecycle.Config{MountDebugFS: true}}
	for _, p := range runfile.Parts {
		if gi.Parts[p] {
			cfg.Parts = append(cfg.Parts, p)
		}
	}
	cfg.Bench = probes.DefaultBenchConfig()
	cfg.Bench.Count = guestBenchCount
	cfg.Bench.Benchtime = guestBenchtime
	cfg.Bench.Latency = false
	// Every context, on the cells each applies to (probes/contexts), and
	// the first auxiliary clock where the kernel has them, enabled here
	// (a guest's machine is its own): the others stay disabled, to show
	// what a disabled one gives.
	cfg.Bench.Contexts, cfg.Bench.ContextHeadlinesOnly = runfile.Contexts, true
	if enableAux0() {
		cfg.Bench.Clocks = append(runfile.DefaultClocks(), runfile.ClockAux0)
	}
	// The spawn ceiling too (0.3 s of the budget): a guest's samples/s
	// means little under TCG without it.
	cfg.ASLR.Samples, cfg.ASLR.Ceiling = guestASLRSamples(r.Env), aslr.DefaultCeiling
	// Guests sample through ptrace unless VBENCH_ASLR_METHOD says chain or
	// self-report (spawn): on Debian's 6.1 kernel under TCG, self-reporting
	// spawns after the bench or verify part brought soft lockups ("CPU#0
	// stuck for 25-60s") and boots of 60 to 150 s; through ptrace the same
	// boot took 29 s with none. Not understood yet; the host is not
	// affected.
	switch m := os.Getenv("VBENCH_ASLR_METHOD"); m {
	case "spawn", runfile.MethodSelfReport:
		cfg.ASLR.Method = runfile.MethodSelfReport
	case runfile.MethodChain, runfile.MethodPtrace:
		cfg.ASLR.Method = m
	default:
		cfg.ASLR.Method = runfile.MethodPtrace
	}
	cfg.ASLRBudget = min(guestASLRTime, budget/2)
	if gi.ASLRSamples > 0 {
		cfg.ASLR.Samples, cfg.ASLRBudget = gi.ASLRSamples, budget/2
	}
	// What is left after ASLR's share, for bench (verify is quick).
	cfg.BenchBudget = (budget - cfg.ASLRBudget) / 2

	d := study.Run(context.Background(), cfg, r)
	if d != nil && d.VsyscallErr == nil {
		o := d.Vsyscall
		boot.Observed = runfile.VsyscallObserved{MapsLine: o.MapsLine, ReadProbe: o.ReadProbe, CallProbe: o.CallProbe}
	}
	// Boot.Errors keeps the failed parts with the boot record.
	boot.Errors = append(boot.Errors, r.Errors...)
	if ms, err := proc.Live.Maps(0); err == nil {
		boot.Layout = specialMappings(ms)
	} else {
		boot.Errors = append(boot.Errors, fmt.Sprintf("layout: %v", err))
	}
	return r, nil
}

// guestASLRSamples is how many ASLR samples the vDSO's interval needs on
// this kernel: were the vDSO at its kernel maximum of M bits (package
// analysis, per version and architecture), 2^((M+5)/2) samples give about
// 16 colliding pairs, and the collision estimator an interval about 1.6
// bits wide; at most guestASLRCap, at least guestASLRMin. arm64's 18
// bits: 2,896; x86-64's 22 or 28: the cap. TCG gathers about 200 a second
// on a quiet host, so on x86-64 the 20 s limit comes first (about 4,000).
func guestASLRSamples(env runfile.Env) int {
	m := analysis.KernelMax("vdso", analysis.KernelOf(env))
	if !m.Known || m.Bits <= 0 {
		return guestASLRCap
	}
	n := int(math.Round(math.Exp2((m.Bits + 5) / 2)))
	return max(guestASLRMin, min(n, guestASLRCap))
}

// settleClocksource waits, at most max, while the clocksource is still an
// early one: x86 boots on "tsc-early" and switches to "tsc" from a work item
// scheduled a second after boot (arch/x86/kernel/tsc.c,
// tsc_refine_calibration_work), so timings taken at once would mix the two.
func settleClocksource(max time.Duration) {
	const cur = "/sys/devices/system/clocksource/clocksource0/current_clocksource"
	for end := time.Now().Add(max); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		b, err := os.ReadFile(cur)
		if err != nil || !strings.HasSuffix(strings.TrimSpace(string(b)), "-early") {
			return
		}
	}
}

// specialNames are the kernel's special mappings the boot lab's timeline
// shows.
var specialNames = []string{"[vvar]", "[vvar_vclock]", "[vdso]", "[vsyscall]"}

// specialMappings picks the kernel's special mappings ([vvar],
// [vvar_vclock], [vdso], [vsyscall]) out of a process's maps, in address
// order, for runfile.Boot.Layout. /proc/PID/maps lists mappings in address
// order (fs/proc/task_mmu.c walks the VMA tree in order), the gate VMA
// [vsyscall] last.
func specialMappings(ms proc.Maps) []runfile.Mapping {
	var out []runfile.Mapping
	for _, m := range ms {
		if slices.Contains(specialNames, m.Path) {
			out = append(out, runfile.Mapping{Name: m.Path, Start: m.Start, Size: m.Size(), Perms: m.Perms})
		}
	}
	return out
}

// enableAux0 enables the auxiliary clock 0 (/sys/kernel/time/aux_clocks/0/enable,
// kernel/time/timekeeping.c) where the kernel has auxiliary clocks, and
// reports whether it is enabled.
func enableAux0() bool {
	const p = "/sys/kernel/time/aux_clocks/0/enable"
	if err := os.WriteFile(p, []byte("1\n"), 0); err != nil {
		return false
	}
	b, err := os.ReadFile(p)
	return err == nil && strings.TrimSpace(string(b)) == "1"
}

// sinceBoot is how long the kernel has been running (CLOCK_BOOTTIME), or 0
// if it cannot be read.
func sinceBoot() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}
