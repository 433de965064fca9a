package sysenv

import (
	"encoding/json"
	"strings"
	"testing"
)

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
	var back Env
	if err := json.Unmarshal(b, &back); err != nil || back.KernelRelease != e.KernelRelease {
		t.Errorf("JSON round trip: %v", err)
	}
}
