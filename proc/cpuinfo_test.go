package proc

import (
	"os"
	"strings"
	"testing"
)

// cpuinfoFixture parses testdata/NAME.
func cpuinfoFixture(t *testing.T, name string) CPUInfo {
	t.Helper()
	f, err := os.Open("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := ParseCPUInfo(f)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestParseCPUInfoFixture(t *testing.T) {
	c := cpuinfoFixture(t, "cpuinfo-epyc.txt")
	if c.VendorID != "AuthenticAMD" || c.ModelName != "AMD EPYC" {
		t.Errorf("vendor %q model %q", c.VendorID, c.ModelName)
	}
	for flag, want := range map[string]bool{"constant_tsc": true, "nonstop_tsc": true, "pti": true, "rdtscp": false, "hypervisor": true} {
		if got := c.HasFlag(flag); got != want {
			t.Errorf("HasFlag(%q) = %v, want %v", flag, got, want)
		}
	}
	if len(c.Bugs) == 0 || c.Bugs[0] != "cpu_meltdown" {
		t.Errorf("bugs = %v", c.Bugs)
	}
}

func TestParseCPUInfoFirstBlockOnly(t *testing.T) {
	text := "processor\t: 0\nmodel name\t: A\nflags\t\t: fpu tsc\n\nprocessor\t: 1\nmodel name\t: B\nflags\t\t: fpu\n"
	c, err := ParseCPUInfo(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	if c.ModelName != "A" || !c.HasFlag("tsc") {
		t.Errorf("got %+v, want the first block", c)
	}
}

// TestParseCPUInfoArm64: an arm64 guest's cpuinfo (QEMU's max CPU, Linux
// 6.1) gives the MIDR_EL1 fields and the hwcaps of the first block.
func TestParseCPUInfoArm64(t *testing.T) {
	c := cpuinfoFixture(t, "cpuinfo-qemu-arm64-6.1.txt")
	if c.Implementer != "0x00" || c.Variant != "0x0" || c.Part != "0x051" || c.Revision != "0" || c.ModelName != "" {
		t.Errorf("MIDR fields %+v", c)
	}
	if !c.HasFlag("sb") || !c.HasFlag("asimd") || c.HasFlag("rdtscp") {
		t.Errorf("features %v", c.Features)
	}
}
