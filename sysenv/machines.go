package sysenv

import (
	"fmt"
	"runtime"
	"strings"

	"github.com/vbench-dev/vbench/proc"
)

// What differs per machine architecture: which CPU flags matter to timing,
// where /proc/cpuinfo keeps them and the CPU's name, and whether there is a
// vsyscall page at all. The architecture is the one uname(2) reports for
// the machine read (Env.Machine), not the one vbench was built for, so
// that a fixture of one architecture reads the same on any host.

// TimingFlags are the x86-64 CPU flags recorded in Env.CPUFlags: the TSC's
// properties, rdtscp (the second floor and the latency timer's end read),
// pti (page-table isolation: what a syscall costs) and hypervisor.
var TimingFlags = []string{"constant_tsc", "nonstop_tsc", "rdtscp", "tsc_reliable", "tsc_known_freq", "pti", "hypervisor"}

// ARM64Flags are the arm64 CPU features (the "Features" line of
// /proc/cpuinfo, hwcap names from arch/arm64/kernel/cpuinfo.c) recorded in
// Env.CPUFlags:
//   - evtstrm: the generic timer's event stream is on (it wakes WFE waits
//     every 100 us; the counter itself is always there);
//   - ecv: Enhanced Counter Virtualization (Armv8.6), with the
//     self-synchronizing counter reads and a 1 GHz counter rate;
//   - sb, ssbs: the speculation barrier and speculative-store-bypass-safe,
//     what speculation mitigations on kernel entry use;
//   - paca, bti: pointer authentication and branch target identification,
//     which a kernel built for them uses on every entry and exit.
//
// arm64 has no cpuinfo flag for page-table isolation (its KPTI shows in
// vulnerabilities/meltdown, recorded apart) nor for a hypervisor.
var ARM64Flags = []string{"evtstrm", "ecv", "sb", "ssbs", "paca", "bti"}

// isX86 reports whether uname's machine is x86-64; an empty machine (uname
// failed) is taken to be the machine vbench runs on.
func isX86(machine string) bool {
	if machine == "" {
		return runtime.GOARCH == "amd64"
	}
	return machine == "x86_64"
}

func isARM64(machine string) bool {
	if machine == "" {
		return runtime.GOARCH == "arm64"
	}
	return machine == "aarch64" || machine == "arm64"
}

// FlagsFor lists the CPU flags recorded for a machine as uname(2) names it
// ("x86_64", "aarch64"), in order: TimingFlags, ARM64Flags, or none for an
// architecture vbench does not know the flags of.
func FlagsFor(machine string) []string {
	switch {
	case isX86(machine):
		return TimingFlags
	case isARM64(machine):
		return ARM64Flags
	}
	return nil
}

// armImplementers names the MIDR_EL1 implementer codes of Arm's list
// (Arm ARM, "MIDR_EL1, Main ID Register") that Linux machines carry.
var armImplementers = map[string]string{
	"0x00": "software (an emulator, e.g. QEMU's max CPU)",
	"0x41": "Arm", "0x42": "Broadcom", "0x43": "Cavium", "0x46": "Fujitsu",
	"0x48": "HiSilicon", "0x4e": "NVIDIA", "0x50": "Applied Micro",
	"0x51": "Qualcomm", "0x61": "Apple", "0x6d": "Microsoft", "0xc0": "Ampere",
}

// armVendor is an arm64 CPU's implementer code and, when known, its name:
// "0x41 (Arm)".
func armVendor(c proc.CPUInfo) string {
	if n, ok := armImplementers[strings.ToLower(c.Implementer)]; ok {
		return c.Implementer + " (" + n + ")"
	}
	return c.Implementer
}

// model is the part number with Arm's rNpM variant and revision, e.g.
// "part 0xd0c r3p1"; "" when the block has no part.
func armModel(c proc.CPUInfo) string {
	if c.Part == "" {
		return ""
	}
	var v, r int
	fmt.Sscanf(c.Variant, "0x%x", &v)
	fmt.Sscanf(c.Revision, "%d", &r)
	return fmt.Sprintf("part %s r%dp%d", c.Part, v, r)
}
