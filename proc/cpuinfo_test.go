package proc

import (
	"os"
	"strings"
	"testing"
)

func TestParseCPUInfoFixture(t *testing.T) {
	f, err := os.Open("testdata/cpuinfo-epyc.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := ParseCPUInfo(f)
	if err != nil {
		t.Fatal(err)
	}
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
