package main

import (
	"fmt"
	"io"
	"time"

	"github.com/vbench-dev/vbench/probes/lifecycle"
	"github.com/vbench-dev/vbench/report"
	"github.com/vbench-dev/vbench/runfile"
	"github.com/vbench-dev/vbench/sysenv"
)

func init() {
	register(&command{name: "lifecycle", summary: "move, unmap and re-map the vDSO in a child; fail each allocation of ARCH_MAP_VDSO_64", run: runLifecycle})
}

const lifecycleExamples = `  vbench lifecycle                      every check, in child processes
  vbench lifecycle --json lifecycle.json  write the run (environment and checks) as JSON
  vbench lifecycle --mount-debugfs       mount debugfs for the fault-injection check if needed
  vbench lifecycle --json - | jq '.lifecycle.fault_injection.leaks'

Checks, each in a fresh child vbench drives through ptrace:
  mremap              [vvar], [vvar_vclock] and [vdso] moved together; clock_gettime
                      through the moved vDSO agrees with the syscall
                      (syscall <= vDSO <= syscall, MONOTONIC and REALTIME)
  EEXIST REGION left  all but REGION unmapped: arch_prctl(ARCH_MAP_VDSO_64) is EEXIST
  arch_prctl map      all unmapped, ARCH_MAP_VDSO_64 at a free address: the maps
                      show the exec layout there, the calls agree
  fault injection     with /proc/thread-self/fail-nth and failslab, the call's N-th
                      fault point fails, for N = 1, 2, ... until it succeeds; a failed
                      call that leaves a mapping behind FAILs the check
A check that cannot run here is a SKIP with the reason (no CONFIG_CHECKPOINT_RESTORE,
sealed system mappings, no fault injection in the kernel, arm64). Fault injection
needs a kernel built for it: .ci/build-kernel builds one, with the map_vdso() fix
and without. Exit status 1 if any check FAILs.

` + outRule

func runLifecycle(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("lifecycle", "vbench lifecycle [--json FILE] [--label NAME]", lifecycleExamples, stdout)
	jsonOut := jsonFlag(fs, "environment and checks")
	label := labelFlag(fs)
	maxPoints := fs.Int("max-points", 64, "the most fault-injection points to try")
	mount := fs.Bool("mount-debugfs", false, "mount debugfs on /sys/kernel/debug if it is not mounted (fault injection's knobs live there)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErrorf("lifecycle: unexpected argument %q (see 'vbench lifecycle --help')", fs.Arg(0))
	}
	if *maxPoints < 1 {
		return usageErrorf("lifecycle: --max-points must be at least 1")
	}
	if err := checkOutFile("lifecycle", "--json", *jsonOut); err != nil {
		return err
	}
	lines := textOut(stdout, stderr, *jsonOut)
	run := runfile.New(sysenv.Collect())
	run.Label = *label
	l := lifecycle.Run(lifecycle.Config{MaxPoints: *maxPoints, MountDebugFS: *mount})
	run.Lifecycle = l
	run.Finished = time.Now().UTC()

	report.LifecycleTable(l).Text(lines)
	if ft := report.FaultTable(l); ft != nil {
		fmt.Fprintf(lines, "\nfault injection, one failure point at a time:\n")
		ft.Text(lines)
	}
	fmt.Fprintf(lines, "\n%s (%.3f s)\n", report.LifecycleSummary(l), l.Seconds)
	if *jsonOut != "" {
		if err := writeOut(*jsonOut, stdout, run.Encode); err != nil {
			return failedf("lifecycle: --json %v", err)
		}
	}
	n := 0
	for _, c := range l.Checks {
		if c.Status == runfile.StatusFail {
			n++
		}
	}
	if n > 0 {
		return failedf("lifecycle: %d of %d checks failed", n, len(l.Checks))
	}
	return nil
}
