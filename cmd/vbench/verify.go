package main

import (
	"fmt"
	"io"
	"time"

	"github.com/vbench-dev/vbench/probes"
	"github.com/vbench-dev/vbench/probes/verify"
	"github.com/vbench-dev/vbench/report"
	"github.com/vbench-dev/vbench/runfile"
	"github.com/vbench-dev/vbench/sysenv"
)

func init() {
	register(&command{name: "verify", summary: "check that every path returns the same time", run: runVerify})
}

const verifyExamples = `  vbench verify                    every check, pinned to the CPU it starts on
  vbench verify --cpu 1            pinned to CPU 1
  vbench verify --quick            fewer rounds (what 'vbench bench' and 'vbench run' run)
  vbench verify --json verify.json  write the run (environment and checks) as JSON
  vbench verify --json - | jq '.verify.checks[] | select(.status == "fail")'

Checks, as the kernel's selftests vdso_test_correctness.c and test_vsyscall.c:
each function read through syscall, vdso, vsyscall, syscall in that order must
be non-decreasing; timezones, time()'s stored value and getcpu (pinned) agree;
every clock id 0-11 but 10 gives syscall <= vdso <= syscall; invalid ids (-1,
INT_MIN, INT_MAX, 10, 12) give EINVAL through the syscall and the vDSO;
getrandom gives fresh bytes, through the vDSO from its own state (as
vdso_test_getrandom.c sets it up) without falling back to the syscall. Paths
this process cannot call are SKIPped with the reason; INFO lines are what was
found, not checks. Failures are listed first; exit status 1 if any check
FAILs. The table is the one report.md shows.

` + outRule

// discoverDoors finds what can be called; tests replace it.
var discoverDoors = probes.Discover

func runVerify(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("verify", "vbench verify [--cpu N] [--quick] [--json FILE] [--label NAME]", verifyExamples, stdout)
	cpu := cpuFlag(fs, "the checking thread")
	quick := quickFlag(fs, "fewer rounds per check")
	ctxNames := contextsFlag(fs)
	jsonOut := jsonFlag(fs, "environment and checks")
	label := labelFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErrorf("verify: unexpected argument %q (see 'vbench verify --help')", fs.Arg(0))
	}
	ctxs, err := parseContexts("verify", *ctxNames)
	if err != nil {
		return err
	}
	vcfg := verify.Config{CPU: *cpu, Brief: *quick, Contexts: ctxs}
	if err := vcfg.Validate(); err != nil {
		return configError("verify", err)
	}
	if err := checkOutFile("verify", "--json", *jsonOut); err != nil {
		return err
	}
	lines := textOut(stdout, stderr, *jsonOut)

	run := runfile.New(sysenv.Collect())
	run.Label = *label
	vcfg.Doors = discoverDoors()
	v := verify.Run(vcfg)
	run.Verify = v
	run.Finished = time.Now().UTC()

	report.VerifyTable(v).Text(lines)
	fmt.Fprintf(lines, "\n%s\n", report.VerifySummary(v))

	if *jsonOut != "" {
		if err := writeOut(*jsonOut, stdout, run.Encode); err != nil {
			return failedf("verify: --json %v", err)
		}
	}
	if !v.Passed {
		_, failed := v.Counts()
		return failedf("verify: %d of %d checks failed", len(failed), len(v.Checks))
	}
	return nil
}
