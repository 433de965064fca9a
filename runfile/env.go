package runfile

import "sort"

// Env is the environment block of a result file: the facts about the
// machine a timing or ASLR result depends on. Package sysenv fills it from
// a machine; this package only defines, writes and reads it. Field names
// are part of the schema (SCHEMA.md): add, never rename.
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
	// "none" (see probes/vsyscall); "absent" where the architecture has no
	// vsyscall page (arm64).
	VsyscallMode string `json:"vsyscall_mode"`
	// VsyscallMapsLine is the [vsyscall] line of /proc/self/maps, if any.
	VsyscallMapsLine string `json:"vsyscall_maps_line,omitempty"`

	Clocksource           string   `json:"clocksource"`
	AvailableClocksources []string `json:"available_clocksources"`

	CPUModel  string `json:"cpu_model"`
	CPUVendor string `json:"cpu_vendor"`
	NumCPU    int    `json:"num_cpu"`
	// CPUFlags holds the flags that matter to timing, each present or not
	// (sysenv.TimingFlags lists them).
	CPUFlags map[string]bool `json:"cpu_flags"`
	// Vulnerabilities maps each file of /sys/devices/system/cpu/vulnerabilities
	// to its one-line content.
	Vulnerabilities map[string]string `json:"vulnerabilities,omitempty"`

	// The randomization sysctls; nil (absent in the file) when unreadable,
	// with why in Missing (unknown.go). Files written before held -1.
	RandomizeVASpace  *int `json:"randomize_va_space,omitempty"`
	MmapRndBits       *int `json:"mmap_rnd_bits,omitempty"`
	MmapRndCompatBits *int `json:"mmap_rnd_compat_bits,omitempty"`

	GoVersion     string `json:"go_version"`
	VbenchVersion string `json:"vbench_version"`
	// VbenchRelease is the release of the vbench that wrote the file
	// (v0.3.0), as CHANGELOG.md names it; empty in files written before
	// v0.3.0.
	VbenchRelease string `json:"vbench_release,omitempty"`
	// Guest is set when the run happened inside vbench's own QEMU boot
	// (see bootlab); Accel is "kvm" or "tcg" there.
	Guest bool   `json:"guest,omitempty"`
	Accel string `json:"accel,omitempty"`

	// Missing names the facts that could not be read, with why.
	Missing []string `json:"missing,omitempty"`
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
