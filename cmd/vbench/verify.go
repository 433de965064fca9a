package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/vbench-dev/vbench/internal/atomicfile"
	"github.com/vbench-dev/vbench/probes"
	"github.com/vbench-dev/vbench/probes/verify"
	"github.com/vbench-dev/vbench/runfile"
	"github.com/vbench-dev/vbench/sysenv"
)

func init() {
	register(&command{name: "verify", summary: "check that every path returns the same time", run: runVerify})
}

const verifyExamples = `  vbench verify                    every check, pinned to the CPU it starts on
  vbench verify --cpu 1            pinned to CPU 1
  vbench verify --brief            fewer rounds (what 'vbench bench' runs)
  vbench verify --json verify.json write the run (environment and checks) as JSON

Checks, as the kernel's selftests vdso_test_correctness.c and test_vsyscall.c:
each function read through syscall, vdso, vsyscall, syscall in that order must
be non-decreasing; timezones, time()'s stored value and getcpu (pinned) agree;
every clock id 0-11 but 10 gives syscall <= vdso <= syscall; invalid ids (-1,
INT_MIN, INT_MAX, 10, 12) give EINVAL through the syscall and the vDSO;
getrandom gives fresh bytes, through the vDSO from its own state (as
vdso_test_getrandom.c sets it up) without falling back to the syscall. Paths
this process cannot call are SKIPped with the reason; INFO lines are what was
found, not checks. Exit status 1 if any check FAILs.
`

// discoverDoors finds what can be called; tests replace it.
var discoverDoors = probes.Discover

func runVerify(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("verify", "vbench verify [--cpu N] [--brief] [--json FILE]", verifyExamples, stdout)
	cpu := fs.Int("cpu", -1, "CPU to pin the checking thread to (-1: the one it starts on)")
	brief := fs.Bool("brief", false, "fewer rounds per check")
	jsonOut := fs.String("json", "", "write the run (environment and checks) as JSON to `FILE` ('-': standard output)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErrorf("verify: unexpected argument %q (see 'vbench verify --help')", fs.Arg(0))
	}
	if err := checkCPUFlag(*cpu); err != nil {
		return usageErrorf("verify: %v", err)
	}
	if *jsonOut != "" && *jsonOut != "-" {
		if err := atomicfile.Check(*jsonOut); err != nil {
			return usageErrorf("verify: --json %v", err)
		}
	}
	// With the run file on standard output, the checks go to standard error.
	lines := stdout
	if *jsonOut == "-" {
		lines = stderr
	}

	run := runfile.New(sysenv.Collect())
	v := verify.Run(verify.Config{CPU: *cpu, Brief: *brief, Doors: discoverDoors()})
	run.Verify = v
	run.Finished = time.Now().UTC()

	for _, c := range v.Info {
		line := fmt.Sprintf("%-4s  %s", strings.ToUpper(c.Status), c.Name)
		if c.Detail != "" {
			line += ": " + c.Detail
		}
		fmt.Fprintln(lines, line)
	}
	n := map[string]int{}
	for _, c := range v.Checks {
		n[c.Status]++
		line := fmt.Sprintf("%-4s  %s", strings.ToUpper(c.Status), c.Name)
		if c.Detail != "" {
			line += ": " + c.Detail
		}
		fmt.Fprintln(lines, line)
	}
	fmt.Fprintf(lines, "\n%d checks: %d pass, %d fail, %d skip\n", len(v.Checks), n[verify.Pass], n[verify.Fail], n[verify.Skip])

	if *jsonOut != "" {
		if err := writeOut(*jsonOut, stdout, run.Encode); err != nil {
			return failedf("verify: --json %v", err)
		}
	}
	if !v.Passed {
		return failedf("verify: %d of %d checks failed", n[verify.Fail], len(v.Checks))
	}
	return nil
}
