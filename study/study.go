// Package study runs vbench's study, the sequence of parts that makes one
// result file: find the doors, time every call (bench), check that the doors
// agree (verify), map, move and unmap the vDSO (lifecycle), and sample the
// address-space layout (aslr).
//
// It is the one orchestrator: `vbench run` on a host and /init in a
// bootmodes guest both call Run, and differ only in their Config. The doors
// are discovered once per Run (the vsyscall probe children run once), each
// part runs under one panic guard, and a part that fails is recorded in
// Run.Errors while the others still run. Cancelling ctx stops the study
// after the part that is running, which keeps what it had measured.
//
// The caller fills the Run's environment block; Run does not read the
// machine beyond what the parts themselves measure.
package study

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/vbench-dev/vbench/aslr"
	"github.com/vbench-dev/vbench/probes"
	"github.com/vbench-dev/vbench/probes/lifecycle"
	"github.com/vbench-dev/vbench/probes/verify"
	"github.com/vbench-dev/vbench/runfile"
)

// Config says which parts run and how.
type Config struct {
	// Parts to run (runfile.Parts); nil means all. The vsyscall part only
	// reports the probe's failure: the doors are discovered whatever the
	// parts.
	Parts []runfile.Part

	Bench probes.BenchConfig
	// BenchBudget, if positive, stops the bench part after this long,
	// keeping the cells measured so far (a guest under TCG is slow).
	BenchBudget time.Duration

	VerifyBrief bool

	Lifecycle lifecycle.Config

	ASLR aslr.Config
	// ASLRBudget, if positive, ends sampling after this long: the part then
	// reports what it gathered in that time, not as an interruption.
	ASLRBudget time.Duration

	// Doors, if not nil, are used instead of probes.Discover (tests).
	Doors *probes.Doors

	// Progress, if not nil, is told how far each part has come: unit is
	// "cells" or "samples". It is called with done == total when a part ends.
	Progress func(part runfile.Part, unit string, done, total int)
	// Failed, if not nil, is told about each part that failed, as it fails.
	Failed func(part runfile.Part, err error)
}

func (c Config) runs(part runfile.Part) bool {
	return c.Parts == nil || slices.Contains(c.Parts, part)
}

// Run runs the study into r (whose Env the caller has filled) and returns
// the doors it used, so a guest can report what it saw of the vsyscall page.
func Run(ctx context.Context, cfg Config, r *runfile.Run) *probes.Doors {
	fail := func(part runfile.Part, err error) {
		msg := runfile.OneLine(err.Error())
		if !strings.HasPrefix(msg, string(part)) { // most errors already name their part
			msg = string(part) + ": " + msg
		}
		r.Errors = append(r.Errors, msg)
		if cfg.Failed != nil {
			cfg.Failed(part, err)
		}
	}
	progress := func(part runfile.Part, unit string) func(done, total int) {
		if cfg.Progress == nil {
			return nil
		}
		return func(done, total int) { cfg.Progress(part, unit, done, total) }
	}

	d := cfg.Doors
	if d == nil {
		if err := guard(func() error { d = probes.Discover(); return nil }); err != nil {
			fail("doors", err)
			return nil
		}
	}
	if cfg.runs(runfile.PartVsyscall) && d.VsyscallErr != nil {
		fail(runfile.PartVsyscall, d.VsyscallErr)
	}

	cpu := cfg.Bench.CPU
	if cfg.runs(runfile.PartBench) && ctx.Err() == nil {
		bcfg := cfg.Bench
		bcfg.Doors = d
		bctx, cancel := withBudget(ctx, cfg.BenchBudget)
		err := guard(func() error {
			b, err := probes.Bench(bctx, bcfg, progress(runfile.PartBench, "cells"))
			r.Bench = b
			return err
		})
		cancel()
		if r.Bench != nil {
			cpu = r.Bench.CPU
		}
		if err != nil {
			fail(runfile.PartBench, err)
		}
	}

	if cfg.runs(runfile.PartVerify) && ctx.Err() == nil {
		if err := guard(func() error {
			r.Verify = verify.Run(verify.Config{CPU: cpu, Brief: cfg.VerifyBrief, Doors: d, Contexts: cfg.Bench.Contexts})
			return nil
		}); err != nil {
			fail(runfile.PartVerify, err)
		}
	}

	if cfg.runs(runfile.PartLifecycle) && ctx.Err() == nil {
		if err := guard(func() error {
			r.Lifecycle = lifecycle.Run(cfg.Lifecycle)
			return nil
		}); err != nil {
			fail(runfile.PartLifecycle, err)
		}
	}

	if cfg.runs(runfile.PartASLR) && cfg.ASLR.Samples != SkipASLR && ctx.Err() == nil {
		budget := cfg.ASLRBudget
		if cfg.ASLR.Samples == 0 && budget > 0 {
			// Sampling until narrow ends at its own budget, and says so;
			// the context's, a little later, only bounds the ceilings.
			cfg.ASLR.Budget = budget
			budget += 2 * aslr.DefaultCeiling
		}
		actx, cancel := withBudget(ctx, budget)
		err := guard(func() error {
			a, err := aslr.Study(actx, cfg.ASLR, progress(runfile.PartASLR, "samples"))
			if a != nil && a.Interrupted && ctx.Err() == nil {
				// The budget ran out, not the user's patience: a sample
				// taken for a fixed time is complete.
				a.Interrupted = false
			}
			r.ASLR = a
			return err
		})
		cancel()
		if err != nil {
			fail(runfile.PartASLR, err)
		}
	}

	if ctx.Err() != nil {
		r.Errors = append(r.Errors, "interrupted: the part running then kept what it had measured; later parts did not run")
	}
	r.Finished = time.Now().UTC()
	return d
}

// withBudget is ctx, limited to budget from now when budget is positive.
func withBudget(ctx context.Context, budget time.Duration) (context.Context, context.CancelFunc) {
	if budget <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, budget)
}

// guard runs a part, turning a panic into an error so that the other parts
// still run and the report says what happened.
func guard(part func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return part()
}
