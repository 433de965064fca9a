package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/vbench-dev/vbench/runfile"
	"github.com/vbench-dev/vbench/sysenv"
)

func init() {
	register(&command{name: "env", summary: "print the environment block every result carries", run: runEnv})
}

func runEnv(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("env", "vbench env [--json]", "  vbench env\n  vbench env --json | jq .vsyscall_mode\n", stdout)
	asJSON := fs.Bool("json", false, "print the block as JSON")
	version := fs.Bool("version", false, "print vbench's version and exit")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErrorf("env: unexpected argument %q", fs.Arg(0))
	}
	if *version {
		fmt.Fprintf(stdout, "vbench %s\n", sysenv.Version())
		return nil
	}
	e := sysenv.Collect()
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(e)
	}
	writeEnv(stdout, e)
	return nil
}

// writeEnv prints the environment block as aligned "key: value" lines.
func writeEnv(w io.Writer, e runfile.Env) {
	kv := func(k, v string) { fmt.Fprintf(w, "%-22s %s\n", k+":", v) }
	kv("host", e.Hostname)
	kv("kernel", e.KernelRelease+" "+e.KernelVersion)
	kv("cmdline", e.Cmdline)
	mode := e.VsyscallMode
	if e.VsyscallBoot != "" {
		mode += " (vsyscall=" + e.VsyscallBoot + " on the command line)"
	} else {
		mode += " (kernel default: no vsyscall= on the command line)"
	}
	kv("vsyscall", mode)
	if e.VsyscallMapsLine != "" {
		kv("vsyscall maps line", e.VsyscallMapsLine)
	}
	kv("clocksource", e.Clocksource+" (available: "+strings.Join(e.AvailableClocksources, " ")+")")
	kv("cpu", fmt.Sprintf("%s, %d CPUs", e.CPUModel, e.NumCPU))
	var flags []string
	for _, f := range sysenv.FlagsFor(e.Machine) {
		if e.CPUFlags[f] {
			flags = append(flags, f)
		} else {
			flags = append(flags, "-"+f)
		}
	}
	kv("cpu flags", strings.Join(flags, " "))
	var vulns []string
	for k := range e.Vulnerabilities {
		vulns = append(vulns, k)
	}
	sort.Strings(vulns)
	for _, k := range vulns {
		kv("vuln "+k, e.Vulnerabilities[k])
	}
	kv("randomize_va_space", fmt.Sprint(e.RandomizeVASpace))
	kv("mmap_rnd_bits", fmt.Sprint(e.MmapRndBits))
	kv("mmap_rnd_compat_bits", fmt.Sprint(e.MmapRndCompatBits))
	kv("go", e.GoVersion)
	kv("vbench", e.VbenchVersion)
	if e.Guest {
		kv("guest", "yes, accel "+e.Accel)
	}
	for _, m := range e.Missing {
		kv("missing", m)
	}
}
