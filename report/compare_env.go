package report

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/vbench-dev/vbench/runfile"
)

// EnvDiff is one environment fact that differs between the runs and can
// move a cost (or an ASLR figure): what it is, why it matters, and each
// run's value (indexed like Comparison.Runs).
type EnvDiff struct {
	Fact   string // e.g. "page-table isolation (cpu flag pti)"
	Why    string // e.g. "every kernel entry switches page tables: syscall and vsyscall cost"
	Values []string
}

// envFact is a fact of Env worth comparing.
type envFact struct {
	fact, why string
	get       func(runfile.Env) string
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// flagFact reads a CPU flag; "unknown" when the run did not record it.
func flagFact(name string) func(runfile.Env) string {
	return func(e runfile.Env) string {
		v, ok := e.CPUFlags[name]
		if !ok {
			return "unknown"
		}
		return onOff(v)
	}
}

// cmdlineParam is the value of a kernel command line parameter, "" when
// absent (the last one wins, as in the kernel's parse_args()).
func cmdlineParam(cmdline, name string) string {
	v := ""
	for _, f := range strings.Fields(cmdline) {
		if f == "--" {
			break // what follows is for init
		}
		if k, val, ok := strings.Cut(f, "="); ok && k == name {
			v = val
		} else if f == name {
			v = "(set)"
		}
	}
	return v
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// envFacts are the facts compared, in the order they are listed: those that
// move the cost of a kernel entry first (the syscall and vsyscall paths),
// then the clock read (the vDSO path), then the machine.
var envFacts = []envFact{
	{"page-table isolation (cpu flag pti)", "a kernel entry switches page tables: the syscall and vsyscall paths",
		flagFact("pti")},
	{"Meltdown mitigation (vulnerabilities/meltdown)", "PTI on or off: the syscall and vsyscall paths",
		func(e runfile.Env) string { return orDefault(e.Vulnerabilities["meltdown"], "unknown") }},
	{"mitigations= (kernel command line)", "which mitigations run on each kernel entry and exit",
		func(e runfile.Env) string { return orDefault(cmdlineParam(e.Cmdline, "mitigations"), "absent (auto)") }},
	{"pti= (kernel command line)", "forces page-table isolation on or off",
		func(e runfile.Env) string { return orDefault(cmdlineParam(e.Cmdline, "pti"), "absent") }},
	{"clocksource", "what the vDSO reads (tsc, kvm-clock) or whether it falls back to the syscall (hpet, acpi_pm)",
		func(e runfile.Env) string { return e.Clocksource }},
	{"vsyscall mode", "emulate and xonly trap and emulate each vsyscall call; none has no page",
		func(e runfile.Env) string { return e.VsyscallMode }},
	{"kernel", "entry code, mitigations and the vDSO change between versions",
		func(e runfile.Env) string { return e.KernelRelease }},
	{"CPU model", "the cost of every path",
		func(e runfile.Env) string { return strings.TrimSpace(e.CPUVendor + " " + e.CPUModel) }},
	{"virtualization (cpu flag hypervisor)", "a guest's clock may be paravirtual, its exits cost more",
		flagFact("hypervisor")},
	{"QEMU guest and accelerator", "under TCG every instruction is emulated: timings are not hardware numbers",
		func(e runfile.Env) string {
			if !e.Guest {
				return "no"
			}
			return "yes, " + orDefault(e.Accel, "unknown accel")
		}},
	{"rdtscp (cpu flag)", "the rdtscp floor and the latency timer", flagFact("rdtscp")},
	{"constant_tsc (cpu flag)", "whether the TSC rate follows the CPU frequency", flagFact("constant_tsc")},
	{"nonstop_tsc (cpu flag)", "whether the TSC stops in deep idle", flagFact("nonstop_tsc")},
	{"tsc_reliable (cpu flag)", "whether the kernel watches the TSC against another clock", flagFact("tsc_reliable")},
	{"tsc_known_freq (cpu flag)", "whether the TSC rate comes from the hypervisor or CPUID", flagFact("tsc_known_freq")},
	{"randomize_va_space", "ASLR on (2), partial (1) or off (0)",
		func(e runfile.Env) string { return e.Shown("kernel.randomize_va_space", e.RandomizeVASpace) }},
	{"vm.mmap_rnd_bits", "the mmap base's (and, since 6.9, the vDSO's) ASLR bits",
		func(e runfile.Env) string { return e.Shown("vm.mmap_rnd_bits", e.MmapRndBits) }},
}

// envDiffs lists each fact whose value is not the same in every run, then
// each /sys/devices/system/cpu/vulnerabilities entry that differs (every
// mitigation there changes what a kernel entry or exit does).
func envDiffs(runs []*runfile.Run, labels []string) []EnvDiff {
	var out []EnvDiff
	differs := func(vals []string) bool {
		for _, v := range vals[1:] {
			if v != vals[0] {
				return true
			}
		}
		return false
	}
	if len(runs) < 2 {
		return nil
	}
	for _, f := range envFacts {
		vals := make([]string, len(runs))
		for i, r := range runs {
			vals[i] = f.get(r.Env)
		}
		if differs(vals) {
			out = append(out, EnvDiff{Fact: f.fact, Why: f.why, Values: vals})
		}
	}
	keys := map[string]bool{}
	for _, r := range runs {
		for k := range r.Env.Vulnerabilities {
			keys[k] = true
		}
	}
	var names []string
	for k := range keys {
		if k != "meltdown" { // listed above
			names = append(names, k)
		}
	}
	sort.Strings(names)
	for _, k := range names {
		vals := make([]string, len(runs))
		for i, r := range runs {
			vals[i] = orDefault(r.Env.Vulnerabilities[k], "not recorded")
		}
		if differs(vals) {
			out = append(out, EnvDiff{Fact: "vulnerabilities/" + k, Why: "its mitigation runs on kernel entry, exit or context switch", Values: vals})
		}
	}
	return out
}

// grouped says which runs have which value: "on (a, b); off (c)".
func grouped(vals, labels []string) string {
	var order []string
	who := map[string][]string{}
	for i, v := range vals {
		if _, ok := who[v]; !ok {
			order = append(order, v)
		}
		who[v] = append(who[v], labels[i])
	}
	var parts []string
	for _, v := range order {
		parts = append(parts, fmt.Sprintf("%s (%s)", v, strings.Join(who[v], ", ")))
	}
	return strings.Join(parts, "; ")
}

func (c *Comparison) writeEnv(w io.Writer, md bool) {
	if len(c.Runs) < 2 {
		return
	}
	if len(c.Env) == 0 {
		line := "environment: no difference in the facts that can move a cost (PTI, mitigations, clocksource, vsyscall mode, kernel, CPU, virtualization, TSC flags, ASLR sysctls)."
		if !md {
			line = wrap(line, noteWidth)
		}
		fmt.Fprintln(w, line)
		fmt.Fprintln(w)
		return
	}
	fmt.Fprintln(w, "environment differences that can move a cost:")
	if md {
		fmt.Fprintln(w)
	}
	for _, d := range c.Env {
		line := fmt.Sprintf("%s: %s. Moves: %s.", d.Fact, grouped(d.Values, c.Labels), d.Why)
		if md {
			line = "- " + mdEscape(line) // the list marker is ours, not the run's text
		} else {
			line = "- " + line
			line = wrapIndent(line, noteWidth, "  ")
		}
		fmt.Fprintln(w, line)
	}
	fmt.Fprintln(w)
}
