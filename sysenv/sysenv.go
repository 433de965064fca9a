// Package sysenv collects the facts about a machine that a timing or ASLR
// result depends on: kernel, boot arguments, vsyscall mode, clocksource, CPU
// flags, speculative-execution mitigations and the randomization sysctls.
//
// Every result file vbench writes carries one Env, so that two runs can be
// compared knowing what differed between them. Collect never fails as a
// whole: a fact it cannot read is left empty and named in Env.Missing.
package sysenv

import (
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/vbench-dev/vbench/probes/vsyscall"
	"github.com/vbench-dev/vbench/proc"
)

// Env is the environment block of a result file. Field names are part of the
// JSON schema (see package runfile); add, never rename.
type Env struct {
	Hostname      string `json:"hostname"`
	KernelRelease string `json:"kernel_release"`
	KernelVersion string `json:"kernel_version"`
	Machine       string `json:"machine"`
	Cmdline       string `json:"cmdline"`
	// VsyscallBoot is the vsyscall= boot argument if given ("" if absent:
	// the kernel's configured default applies).
	VsyscallBoot string `json:"vsyscall_boot,omitempty"`
	// VsyscallMode is what /proc/self/maps shows: "emulate", "xonly" or
	// "none" (see probes/vsyscall).
	VsyscallMode string `json:"vsyscall_mode"`
	// VsyscallMapsLine is the [vsyscall] line of /proc/self/maps, if any.
	VsyscallMapsLine string `json:"vsyscall_maps_line,omitempty"`

	Clocksource           string   `json:"clocksource"`
	AvailableClocksources []string `json:"available_clocksources"`

	CPUModel  string `json:"cpu_model"`
	CPUVendor string `json:"cpu_vendor"`
	NumCPU    int    `json:"num_cpu"`
	// CPUFlags holds the flags that matter to timing, each present or not:
	// constant_tsc, nonstop_tsc, rdtscp, tsc_reliable, pti, hypervisor.
	CPUFlags map[string]bool `json:"cpu_flags"`
	// Vulnerabilities maps each file of /sys/devices/system/cpu/vulnerabilities
	// to its one-line content.
	Vulnerabilities map[string]string `json:"vulnerabilities,omitempty"`

	RandomizeVASpace  int `json:"randomize_va_space"`
	MmapRndBits       int `json:"mmap_rnd_bits"`
	MmapRndCompatBits int `json:"mmap_rnd_compat_bits"`

	GoVersion     string `json:"go_version"`
	VbenchVersion string `json:"vbench_version"`
	// Guest is set when the run happened inside vbench's own QEMU boot
	// (see bootlab); Accel is "kvm" or "tcg" there.
	Guest bool   `json:"guest,omitempty"`
	Accel string `json:"accel,omitempty"`

	// Missing names the facts that could not be read, with why.
	Missing []string `json:"missing,omitempty"`
}

// TimingFlags are the CPU flags recorded in Env.CPUFlags.
var TimingFlags = []string{"constant_tsc", "nonstop_tsc", "rdtscp", "tsc_reliable", "tsc_known_freq", "pti", "hypervisor"}

// Version is vbench's version: the module version when built by go install,
// else "devel".
func Version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

// Collect reads the live machine.
func Collect() Env {
	e := Env{
		NumCPU:        runtime.NumCPU(),
		GoVersion:     runtime.Version(),
		VbenchVersion: Version(),
		CPUFlags:      map[string]bool{},
	}
	miss := func(what string, err error) {
		e.Missing = append(e.Missing, what+": "+err.Error())
	}

	var uts unix.Utsname
	if err := unix.Uname(&uts); err != nil {
		miss("uname", err)
	} else {
		e.Hostname = unix.ByteSliceToString(uts.Nodename[:])
		e.KernelRelease = unix.ByteSliceToString(uts.Release[:])
		e.KernelVersion = unix.ByteSliceToString(uts.Version[:])
		e.Machine = unix.ByteSliceToString(uts.Machine[:])
	}
	if c, err := proc.ReadCmdline(); err != nil {
		miss("cmdline", err)
	} else {
		e.Cmdline = c
		e.VsyscallBoot, _ = proc.BootParam(c, "vsyscall")
	}
	if mode, m, err := vsyscall.CurrentMode(); err != nil {
		miss("vsyscall mode", err)
	} else {
		e.VsyscallMode = string(mode)
		if mode != vsyscall.None {
			e.VsyscallMapsLine = m.String()
		}
	}
	const cs = "/sys/devices/system/clocksource/clocksource0/"
	if s, err := readLine(cs + "current_clocksource"); err != nil {
		miss("clocksource", err)
	} else {
		e.Clocksource = s
	}
	if s, err := readLine(cs + "available_clocksource"); err == nil {
		e.AvailableClocksources = strings.Fields(s)
	}
	if ci, err := proc.ReadCPUInfo(); err != nil {
		miss("cpuinfo", err)
	} else {
		e.CPUModel, e.CPUVendor = ci.ModelName, ci.VendorID
		for _, f := range TimingFlags {
			e.CPUFlags[f] = ci.HasFlag(f)
		}
	}
	const vulnDir = "/sys/devices/system/cpu/vulnerabilities"
	if ents, err := os.ReadDir(vulnDir); err == nil {
		e.Vulnerabilities = map[string]string{}
		for _, ent := range ents {
			if s, err := readLine(filepath.Join(vulnDir, ent.Name())); err == nil {
				e.Vulnerabilities[ent.Name()] = s
			}
		}
	}
	for _, s := range []struct {
		path string
		dst  *int
	}{
		{"/proc/sys/kernel/randomize_va_space", &e.RandomizeVASpace},
		{"/proc/sys/vm/mmap_rnd_bits", &e.MmapRndBits},
		{"/proc/sys/vm/mmap_rnd_compat_bits", &e.MmapRndCompatBits},
	} {
		v, err := readInt(s.path)
		if err != nil {
			miss(filepath.Base(s.path), err)
			*s.dst = -1
			continue
		}
		*s.dst = v
	}
	return e
}

// FlagList returns the names of the CPU flags that are set, sorted.
func (e Env) FlagList() []string {
	var out []string
	for f, on := range e.CPUFlags {
		if on {
			out = append(out, f)
		}
	}
	sort.Strings(out)
	return out
}

func readLine(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

func readInt(path string) (int, error) {
	s, err := readLine(path)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(s)
}
