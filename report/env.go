package report

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/vbench-dev/vbench/runfile"
)

// EnvField is one line of a run's environment block.
type EnvField struct {
	Key, Value string
	// Code is true for a value shown as code in Markdown (the kernel
	// command line), which is shown even when empty.
	Code bool
}

// EnvFields is the environment block, the one list report.md's table and
// `vbench env`'s lines both show: every field of runfile.Env a reader
// wants, and the boot of a bootmodes guest. Empty values are left out,
// but for the command line.
func EnvFields(r *runfile.Run) []EnvField {
	e := r.Env
	var fs []EnvField
	kv := func(k, v string) {
		if v != "" {
			fs = append(fs, EnvField{Key: k, Value: v})
		}
	}
	kv("host", e.Hostname)
	kv("kernel", strings.TrimSpace(e.KernelRelease+" "+e.KernelVersion))
	fs = append(fs, EnvField{Key: "cmdline", Value: e.Cmdline, Code: true})
	boot := "kernel default"
	if e.VsyscallBoot != "" {
		boot = "vsyscall=" + e.VsyscallBoot + " on the command line"
	}
	kv("vsyscall", e.VsyscallMode+" ("+boot+")")
	kv("vsyscall maps line", e.VsyscallMapsLine)
	cs := e.Clocksource
	if len(e.AvailableClocksources) > 0 {
		cs += " (available: " + strings.Join(e.AvailableClocksources, " ") + ")"
	}
	kv("clocksource", cs)
	kv("cpu", fmt.Sprintf("%s, %d CPUs", e.CPUModel, e.NumCPU))
	var flags []string
	for f, on := range e.CPUFlags {
		if on {
			flags = append(flags, f)
		} else {
			flags = append(flags, "-"+f)
		}
	}
	sort.Strings(flags)
	kv("cpu flags", strings.Join(flags, " "))
	vulns := make([]string, 0, len(e.Vulnerabilities))
	for k := range e.Vulnerabilities {
		vulns = append(vulns, k)
	}
	sort.Strings(vulns)
	for _, k := range vulns {
		kv("vuln "+k, e.Vulnerabilities[k])
	}
	kv("randomize_va_space", e.Shown("kernel.randomize_va_space", e.RandomizeVASpace))
	kv("mmap_rnd_bits", e.Shown("vm.mmap_rnd_bits", e.MmapRndBits))
	kv("mmap_rnd_compat_bits", e.Shown("vm.mmap_rnd_compat_bits", e.MmapRndCompatBits))
	kv("go", e.GoVersion)
	v := e.VbenchVersion
	if e.VbenchRelease != "" && !strings.Contains(v, e.VbenchRelease) {
		v = strings.TrimSpace(e.VbenchRelease + " " + v)
	}
	kv("vbench", v)
	if e.Guest {
		kv("guest", "yes, accel "+e.Accel)
	}
	if b := r.Boot; b != nil {
		kv("boot", fmt.Sprintf("mode %s, kernel %s, %s, %.1f s", b.Mode, b.Kernel, b.Accel, b.Seconds))
	}
	for _, m := range e.Missing {
		kv("missing", m)
	}
	return fs
}

// EnvMarkdown writes the environment block (EnvFields) as a two-column
// table.
func EnvMarkdown(w io.Writer, r *runfile.Run) {
	fmt.Fprintln(w, "| | |\n|---|---|")
	for _, f := range EnvFields(r) {
		v := mdEscape(f.Value)
		if f.Code {
			v = mdCode(f.Value)
		}
		fmt.Fprintf(w, "| %s | %s |\n", f.Key, v)
	}
}

// EnvText writes the environment block (EnvFields) as aligned "key: value"
// lines, one field a line.
func EnvText(w io.Writer, r *runfile.Run) error {
	ew := &errWriter{w: w}
	for _, f := range EnvFields(r) {
		ew.printf("%-22s %s\n", f.Key+":", runfile.OneLine(f.Value))
	}
	return ew.err
}
