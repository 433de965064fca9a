package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/vbench-dev/vbench/aslr"
	"github.com/vbench-dev/vbench/bootlab"
	"github.com/vbench-dev/vbench/probes"
	"github.com/vbench-dev/vbench/probes/verify"
	"github.com/vbench-dev/vbench/probes/vsyscall"
	"github.com/vbench-dev/vbench/runfile"
	"github.com/vbench-dev/vbench/sysenv"
)

// guestMain runs vbench as /init inside a `vbench bootmodes` guest and
// reports whether it did (it does not return when it did: the guest powers
// off). See bootlab.IsGuest for how a guest is recognized.
func guestMain() bool {
	// A child that vsyscall.Probe re-executed must do its probe and exit,
	// whether or not main calls this too (a second call is a no-op).
	vsyscall.RunChildIfAsked()
	if !bootlab.IsGuest() {
		return false
	}
	bootlab.RunGuest(guestStudy)
	return true
}

// Guest settings: the guest may run under software emulation (TCG), where
// everything is tens of times slower, so the study is shortened.
const (
	guestBenchCount     = 6 // the fewest samples with a 95% CI (probes.MinSamplesForCI)
	guestBenchtime      = 5 * time.Millisecond
	guestASLRSamples    = 200
	guestBudgetFraction = 0.6 // of the host's --timeout, for bench and aslr
)

// guestStudy runs each part of the study in turn; a part that fails (or
// panics) is recorded in Boot.Errors and the next one still runs.
func guestStudy(gi bootlab.GuestInfo) (*runfile.Run, error) {
	start := time.Now()
	settleClocksource(3 * time.Second)
	r := runfile.New(sysenv.Collect())
	r.Env.Guest = true
	r.Env.Accel = gi.Accel
	// The label names the boot, not the host: "vsyscall=xonly (QEMU tcg)";
	// DefaultLabel would not tell vdso=0 apart from vsyscall=none.
	arg := gi.Mode
	if !strings.Contains(arg, "=") {
		arg = "vsyscall=" + arg
	}
	r.Label = fmt.Sprintf("%s (QEMU %s)", arg, gi.Accel)
	boot := &runfile.Boot{Mode: gi.Mode, Accel: gi.Accel, Append: r.Env.Cmdline}
	r.Boot = boot
	deadline := start.Add(time.Duration(float64(gi.Timeout) * guestBudgetFraction))

	part := func(name string, f func() error) {
		if !gi.Parts[name] {
			return
		}
		defer func() {
			if p := recover(); p != nil {
				boot.Errors = append(boot.Errors, fmt.Sprintf("%s: panic: %v", name, p))
			}
		}()
		if err := f(); err != nil {
			msg := err.Error()
			if !strings.HasPrefix(msg, name) { // most errors already name their part
				msg = name + ": " + msg
			}
			boot.Errors = append(boot.Errors, msg)
		}
	}

	// The maps line is known from the environment even if the probe fails.
	boot.Observed.MapsLine = r.Env.VsyscallMapsLine
	part("vsyscall", func() error {
		obs, err := vsyscall.Probe()
		if err != nil {
			return err
		}
		boot.Observed = runfile.VsyscallObserved{MapsLine: obs.MapsLine, ReadProbe: obs.ReadProbe, CallProbe: obs.CallProbe}
		return nil
	})
	part("bench", func() error {
		cfg := probes.DefaultBenchConfig()
		cfg.Count = guestBenchCount
		cfg.Benchtime = guestBenchtime
		cfg.Latency = false
		// Half of what is left for bench, the rest for verify and aslr.
		ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(time.Until(deadline)/2))
		defer cancel()
		b, err := probes.Bench(ctx, cfg, nil)
		r.Bench = b
		return err
	})
	part("verify", func() error {
		r.Verify = verify.Run(verify.Config{Brief: true, CPU: -1})
		return nil
	})
	part("aslr", func() error {
		n := gi.ASLRSamples
		if n <= 0 {
			n = guestASLRSamples
		}
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		defer cancel()
		a, err := aslr.Study(ctx, aslr.Config{Samples: n}, nil)
		r.ASLR = a
		return err
	})
	// Run.Errors is where reports look for failed parts; Boot.Errors keeps
	// them with the boot record.
	r.Errors = append(r.Errors, boot.Errors...)
	r.Finished = time.Now().UTC()
	return r, nil
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
