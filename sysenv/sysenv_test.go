package sysenv

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vbench-dev/vbench/proc"
	"github.com/vbench-dev/vbench/runfile"
)

// fixture is the machine captured in testdata/vm-6.18-xonly: its proc and
// sys trees, uname(2) as the fixture's proc/sys/kernel files give it, and
// the VM's two CPUs.
func fixture(t *testing.T, dir string) Machine {
	t.Helper()
	root := filepath.Join("testdata", dir)
	p := proc.FS{Root: filepath.Join(root, "proc")}
	return Machine{
		Proc: p,
		Sys:  filepath.Join(root, "sys"),
		Uname: func(u *unix.Utsname) error {
			for _, f := range []struct {
				sysctl string
				dst    []byte
			}{
				{"kernel.hostname", u.Nodename[:]},
				{"kernel.osrelease", u.Release[:]},
				{"kernel.version", u.Version[:]},
				{"kernel.arch", u.Machine[:]},
			} {
				s, err := p.Sysctl(f.sysctl)
				if err != nil {
					return err
				}
				copy(f.dst, s)
			}
			return nil
		},
		NumCPU: func() int { return 2 },
	}
}

func TestCollectFixture(t *testing.T) {
	e := fixture(t, "vm-6.18-xonly").Collect()
	if len(e.Missing) > 0 {
		t.Errorf("missing: %v", e.Missing)
	}
	want := runfile.Env{
		Hostname:              "vm",
		KernelRelease:         "6.18.44-fc-v1045",
		KernelVersion:         "#1 SMP PREEMPT_DYNAMIC @0",
		Machine:               "x86_64",
		VsyscallMode:          "xonly",
		VsyscallMapsLine:      "ffffffffff600000-ffffffffff601000 --xp [vsyscall]",
		Clocksource:           "kvm-clock",
		AvailableClocksources: []string{"kvm-clock"},
		CPUModel:              "AMD EPYC",
		CPUVendor:             "AuthenticAMD",
		NumCPU:                2,
		CPUFlags: map[string]bool{"constant_tsc": true, "nonstop_tsc": true, "rdtscp": false, "tsc_reliable": true,
			"tsc_known_freq": true, "pti": true, "hypervisor": true},
		RandomizeVASpace:  runfile.Int(2),
		MmapRndBits:       runfile.Int(28),
		MmapRndCompatBits: runfile.Int(8),
	}
	got := e
	// Facts of the build, not of the fixture, and the long texts checked
	// apart below.
	got.GoVersion, got.VbenchVersion, got.VbenchRelease, got.Cmdline, got.Vulnerabilities = "", "", "", "", nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Collect on the fixture:\n got %+v\nwant %+v", got, want)
	}
	if !strings.HasPrefix(e.Cmdline, "mitigations=auto") || !strings.Contains(e.Cmdline, "pti=on") || e.VsyscallBoot != "" {
		t.Errorf("cmdline %q, vsyscall= %q (the fixture has none)", e.Cmdline, e.VsyscallBoot)
	}
	ents, err := os.ReadDir("testdata/vm-6.18-xonly/sys/devices/system/cpu/vulnerabilities")
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Vulnerabilities) != len(ents) || e.Vulnerabilities["meltdown"] != "Mitigation: PTI" {
		t.Errorf("%d vulnerabilities of %d files; meltdown %q", len(e.Vulnerabilities), len(ents), e.Vulnerabilities["meltdown"])
	}
	if e.GoVersion == "" || e.VbenchVersion == "" {
		t.Errorf("go %q vbench %q", e.GoVersion, e.VbenchVersion)
	}
}

// TestCollectARM64Fixture reads an arm64 machine (testdata/qemu-arm64-6.1:
// Debian's 6.1 arm64 kernel under QEMU's virt machine, CPU "max"): the
// vsyscall mode is absent without any [vsyscall] line being looked for,
// the flags are arm64's, read from the Features line, none of x86-64's is
// listed, and the CPU is named by its MIDR fields.
func TestCollectARM64Fixture(t *testing.T) {
	e := fixture(t, "qemu-arm64-6.1").Collect()
	if len(e.Missing) > 0 {
		t.Errorf("missing: %v", e.Missing)
	}
	if e.Machine != "aarch64" || e.VsyscallMode != "absent" || e.VsyscallMapsLine != "" {
		t.Errorf("machine %q vsyscall %q (%q)", e.Machine, e.VsyscallMode, e.VsyscallMapsLine)
	}
	// QEMU's max CPU has every one of these but ecv (QEMU 7.2).
	want := map[string]bool{"evtstrm": true, "ecv": false, "sb": true, "ssbs": true, "paca": true, "bti": true}
	if !reflect.DeepEqual(e.CPUFlags, want) {
		t.Errorf("flags %v, want %v", e.CPUFlags, want)
	}
	if e.CPUVendor != "0x00 (software (an emulator, e.g. QEMU's max CPU))" || e.CPUModel != "part 0x051 r0p0" {
		t.Errorf("vendor %q model %q", e.CPUVendor, e.CPUModel)
	}
	if e.Clocksource != "arch_sys_counter" || runfile.Or(e.MmapRndBits, -1) != 18 || e.Vulnerabilities["meltdown"] != "Not affected" {
		t.Errorf("clocksource %q mmap_rnd_bits %v meltdown %q", e.Clocksource, e.MmapRndBits, e.Vulnerabilities["meltdown"])
	}
}

func TestFlagsFor(t *testing.T) {
	if !slices.Equal(FlagsFor("x86_64"), TimingFlags) || !slices.Equal(FlagsFor("aarch64"), ARM64Flags) || FlagsFor("riscv64") != nil {
		t.Errorf("x86_64 %v, aarch64 %v, riscv64 %v", FlagsFor("x86_64"), FlagsFor("aarch64"), FlagsFor("riscv64"))
	}
	c, err := proc.ParseCPUInfo(strings.NewReader("processor\t: 0\nFeatures\t: fp sb\nCPU implementer\t: 0x41\nCPU variant\t: 0x3\nCPU part\t: 0xd0c\nCPU revision\t: 1\n\nprocessor\t: 1\nFeatures\t: fp\nCPU implementer\t: 0x51\n"))
	if err != nil || armVendor(c) != "0x41 (Arm)" || armModel(c) != "part 0xd0c r3p1" || !c.HasFlag("sb") {
		t.Errorf("first block: vendor %q model %q features %v, %v", armVendor(c), armModel(c), c.Features, err)
	}
}

// TestCollectEmptyMachine: a tree with nothing in it (no /proc or /sys
// mounted) and a failing uname still give an Env, every unreadable fact named in Missing and
// the sysctls unknown (absent from the JSON).
func TestCollectEmptyMachine(t *testing.T) {
	m := fixture(t, "vm-6.18-xonly")
	empty := t.TempDir()
	m.Proc, m.Sys = proc.FS{Root: empty}, empty
	m.Uname = func(*unix.Utsname) error { return unix.ENOSYS }
	e := m.Collect()
	whats := []string{"uname", "cmdline", "clocksource", "cpuinfo", "randomize_va_space", "mmap_rnd_bits", "mmap_rnd_compat_bits"}
	if runtime.GOARCH == "amd64" { // no uname: the page is looked for where vbench runs
		whats = append(whats, "vsyscall mode")
	}
	for _, what := range whats {
		found := false
		for _, m := range e.Missing {
			found = found || strings.HasPrefix(m, what+": ")
		}
		if !found {
			t.Errorf("%s not named in Missing %q", what, e.Missing)
		}
	}
	// Unknown, not -1: absent in the run file, and shown as unknown with
	// the reason.
	if e.RandomizeVASpace != nil || e.MmapRndBits != nil || e.MmapRndCompatBits != nil {
		t.Errorf("sysctls %v %v %v, want unknown (nil)", e.RandomizeVASpace, e.MmapRndBits, e.MmapRndCompatBits)
	}
	if s := e.Shown("vm.mmap_rnd_bits", e.MmapRndBits); !strings.HasPrefix(s, "unknown (") {
		t.Errorf("shown as %q, want unknown with the reason", s)
	}
	if b, err := json.Marshal(e); err != nil || bytes.Contains(b, []byte(`"mmap_rnd_bits":`)) || bytes.Contains(b, []byte(`"randomize_va_space":`)) {
		t.Errorf("unknown sysctls are in the JSON: %s, %v", b, err)
	}
	if (e.VsyscallMode != "" && e.VsyscallMode != "absent") || e.Vulnerabilities != nil || len(e.CPUFlags) != 0 {
		t.Errorf("facts invented from nothing: %+v", e)
	}
}

func TestCollectLive(t *testing.T) {
	e := Collect()
	if len(e.Missing) > 0 {
		t.Logf("missing: %v", e.Missing)
	}
	if e.KernelRelease == "" || FlagsFor(e.Machine) == nil {
		t.Errorf("kernel %q machine %q", e.KernelRelease, e.Machine)
	}
	switch e.VsyscallMode {
	case "absent":
		if e.Machine == "x86_64" || e.VsyscallMapsLine != "" {
			t.Errorf("mode absent on %s with maps line %q", e.Machine, e.VsyscallMapsLine)
		}
	case "emulate", "xonly":
		if !strings.HasPrefix(e.VsyscallMapsLine, "ffffffffff600000-ffffffffff601000") {
			t.Errorf("mode %s with maps line %q", e.VsyscallMode, e.VsyscallMapsLine)
		}
	case "none":
		if e.VsyscallMapsLine != "" {
			t.Errorf("mode none with maps line %q", e.VsyscallMapsLine)
		}
	default:
		t.Errorf("vsyscall mode %q", e.VsyscallMode)
	}
	for _, f := range FlagsFor(e.Machine) {
		if _, ok := e.CPUFlags[f]; !ok {
			t.Errorf("flag %s not recorded", f)
		}
	}
	if v, ok := runfile.Known(e.RandomizeVASpace); ok && v > 2 {
		t.Errorf("randomize_va_space = %d", v)
	}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	var back runfile.Env
	if err := json.Unmarshal(b, &back); err != nil || back.KernelRelease != e.KernelRelease {
		t.Errorf("JSON round trip: %v", err)
	}
}
