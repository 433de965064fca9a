package sysenv

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
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
		RandomizeVASpace:  2,
		MmapRndBits:       28,
		MmapRndCompatBits: 8,
	}
	got := e
	// Facts of the build, not of the fixture, and the long texts checked
	// apart below.
	got.GoVersion, got.VbenchVersion, got.Cmdline, got.Vulnerabilities = "", "", "", nil
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

// TestCollectEmptyMachine: a tree with nothing in it (no /proc or /sys
// mounted) and a failing uname still give an Env, every unreadable fact named in Missing and
// the sysctls -1.
func TestCollectEmptyMachine(t *testing.T) {
	m := fixture(t, "vm-6.18-xonly")
	empty := t.TempDir()
	m.Proc, m.Sys = proc.FS{Root: empty}, empty
	m.Uname = func(*unix.Utsname) error { return unix.ENOSYS }
	e := m.Collect()
	for _, what := range []string{"uname", "cmdline", "vsyscall mode", "clocksource", "cpuinfo", "randomize_va_space", "mmap_rnd_bits", "mmap_rnd_compat_bits"} {
		found := false
		for _, m := range e.Missing {
			found = found || strings.HasPrefix(m, what+": ")
		}
		if !found {
			t.Errorf("%s not named in Missing %q", what, e.Missing)
		}
	}
	if e.RandomizeVASpace != -1 || e.MmapRndBits != -1 || e.MmapRndCompatBits != -1 {
		t.Errorf("sysctls %d %d %d, want -1", e.RandomizeVASpace, e.MmapRndBits, e.MmapRndCompatBits)
	}
	if e.VsyscallMode != "" || e.Vulnerabilities != nil || len(e.CPUFlags) != 0 {
		t.Errorf("facts invented from nothing: %+v", e)
	}
}

func TestCollectLive(t *testing.T) {
	e := Collect()
	if len(e.Missing) > 0 {
		t.Logf("missing: %v", e.Missing)
	}
	if e.KernelRelease == "" || e.Machine != "x86_64" {
		t.Errorf("kernel %q machine %q", e.KernelRelease, e.Machine)
	}
	switch e.VsyscallMode {
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
	for _, f := range TimingFlags {
		if _, ok := e.CPUFlags[f]; !ok {
			t.Errorf("flag %s not recorded", f)
		}
	}
	if e.RandomizeVASpace < 0 || e.RandomizeVASpace > 2 {
		t.Errorf("randomize_va_space = %d", e.RandomizeVASpace)
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
