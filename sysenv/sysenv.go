// Package sysenv collects the facts about a machine that a timing or ASLR
// result depends on: kernel, boot arguments, vsyscall mode, clocksource, CPU
// flags, speculative-execution mitigations and the randomization sysctls.
// It fills a runfile.Env; the schema itself belongs to package runfile.
//
// Which CPU flags are recorded, how the CPU is named and whether a
// vsyscall page is looked for depend on the machine's architecture as
// uname(2) gives it (machines.go): x86-64 and arm64 are known; on arm64 the
// vsyscall mode is "absent" and the flags are hwcaps from the Features
// line.
//
// Every result file vbench writes carries one Env, so that two runs can be
// compared knowing what differed between them. Collect never fails as a
// whole: a fact it cannot read is left empty and named in Env.Missing.
//
// What it reads comes from a Machine: the proc and sys file systems under
// their roots (Live: /proc and /sys), plus uname(2) and the CPU count, so
// that the same code runs on the live machine and on a fixture tree in
// testdata/.
package sysenv

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/vbench-dev/vbench/internal/release"
	"github.com/vbench-dev/vbench/probes/vsyscall"
	"github.com/vbench-dev/vbench/proc"
	"github.com/vbench-dev/vbench/runfile"
)

// Version is vbench's version as a run file records it (Env.VbenchVersion):
// the release (internal/release.Version, v0.3.0), then "+" and the first
// 12 hex digits of the commit where the build recorded one (".dirty" when
// the tree had changes): v0.3.0+c42f615a1b2c. A build that recorded no
// commit (-buildvcs=false, as this project's machines set in their go env,
// a source tree that is not a checkout, a git worktree) is the release
// alone, unless -ldflags -X set release.Commit.
func Version() string { return ReadBuild().Version }

// Build describes the running binary (package release).
type Build = release.Build

// ReadBuild describes the running binary.
func ReadBuild() Build { return release.Read() }

// Machine says where Collect reads a machine's facts.
type Machine struct {
	// Proc is the proc file system: cmdline, cpuinfo, self/maps and the
	// sysctls under sys/.
	Proc proc.FS
	// Sys is the root of the sysfs tree ("/sys"): the clocksource under
	// devices/system/clocksource and devices/system/cpu/vulnerabilities.
	Sys string
	// Uname fills the host name, kernel release and version and machine.
	Uname func(*unix.Utsname) error
	// NumCPU is the number of CPUs the process may use.
	NumCPU func() int
}

// Live is the running machine.
var Live = Machine{Proc: proc.Live, Sys: "/sys", Uname: unix.Uname, NumCPU: runtime.NumCPU}

// Collect reads the live machine.
func Collect() runfile.Env { return Live.Collect() }

// Collect reads the machine m describes.
func (m Machine) Collect() runfile.Env {
	e := runfile.Env{
		NumCPU:        m.NumCPU(),
		GoVersion:     runtime.Version(),
		VbenchVersion: Version(),
		VbenchRelease: release.Version,
		CPUFlags:      map[string]bool{},
	}
	miss := func(what string, err error) {
		e.Missing = append(e.Missing, what+": "+err.Error())
	}

	var uts unix.Utsname
	if err := m.Uname(&uts); err != nil {
		miss("uname", err)
	} else {
		e.Hostname = unix.ByteSliceToString(uts.Nodename[:])
		e.KernelRelease = unix.ByteSliceToString(uts.Release[:])
		e.KernelVersion = unix.ByteSliceToString(uts.Version[:])
		e.Machine = unix.ByteSliceToString(uts.Machine[:])
	}
	if c, err := m.Proc.Cmdline(); err != nil {
		miss("cmdline", err)
	} else {
		e.Cmdline = c
		e.VsyscallBoot, _ = proc.BootParam(c, "vsyscall")
	}
	if !isX86(e.Machine) {
		// No page to look for: only x86-64 has one.
		e.VsyscallMode = string(vsyscall.Absent)
	} else if mode, vs, err := m.vsyscallMode(); err != nil {
		miss("vsyscall mode", err)
	} else {
		e.VsyscallMode = string(mode)
		if mode != vsyscall.None {
			e.VsyscallMapsLine = vs.String()
		}
	}
	cs := filepath.Join(m.Sys, "devices/system/clocksource/clocksource0")
	if s, err := readLine(filepath.Join(cs, "current_clocksource")); err != nil {
		miss("clocksource", err)
	} else {
		e.Clocksource = s
	}
	if s, err := readLine(filepath.Join(cs, "available_clocksource")); err == nil {
		e.AvailableClocksources = strings.Fields(s)
	}
	if ci, err := m.Proc.CPUInfo(); err != nil {
		miss("cpuinfo", err)
	} else {
		e.CPUModel, e.CPUVendor = ci.ModelName, ci.VendorID
		if isARM64(e.Machine) {
			e.CPUModel, e.CPUVendor = armModel(ci), armVendor(ci)
		}
		for _, f := range FlagsFor(e.Machine) {
			e.CPUFlags[f] = ci.HasFlag(f)
		}
	}
	vulnDir := filepath.Join(m.Sys, "devices/system/cpu/vulnerabilities")
	if ents, err := os.ReadDir(vulnDir); err == nil {
		e.Vulnerabilities = map[string]string{}
		for _, ent := range ents {
			if s, err := readLine(filepath.Join(vulnDir, ent.Name())); err == nil {
				e.Vulnerabilities[ent.Name()] = s
			}
		}
	}
	for _, s := range []struct {
		sysctl string
		dst    **int
	}{
		{"kernel.randomize_va_space", &e.RandomizeVASpace},
		{"vm.mmap_rnd_bits", &e.MmapRndBits},
		{"vm.mmap_rnd_compat_bits", &e.MmapRndCompatBits},
	} {
		v, err := m.Proc.SysctlInt(s.sysctl)
		if err != nil {
			// Named by the file, as before: "mmap_rnd_bits: ...".
			_, file, _ := strings.Cut(s.sysctl, ".")
			miss(file, err)
			*s.dst = nil // unknown: absent in the run file
			continue
		}
		*s.dst = runfile.Int(v)
	}
	return e
}

// vsyscallMode reads the mode off self/maps of m's proc tree, as
// vsyscall.CurrentMode does off the live one.
func (m Machine) vsyscallMode() (vsyscall.Mode, proc.Mapping, error) {
	ms, err := m.Proc.Maps(0)
	if err != nil {
		return "", proc.Mapping{}, err
	}
	return vsyscall.ModeFromMaps(ms)
}

func readLine(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}
