package fleetgen

import (
	"testing"

	"github.com/vbench-dev/vbench/runfile"
)

// TestWrite writes a small fleet and reads it back: every file validates,
// labels are unique, and the xen hosts' clock reads fell back.
func TestWrite(t *testing.T) {
	if dir, n, err := WriteFromEnv("../.."); err != nil {
		t.Fatal(err)
	} else if n > 0 {
		t.Logf("wrote %d run files into %s", n, dir)
	}
	paths := MustWrite(t, t.TempDir(), "../..", 60, 7)
	labels := map[string]bool{}
	var xen, fell int
	for _, p := range paths {
		r, err := runfile.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if labels[r.Label] {
			t.Errorf("%s: label %q twice", p, r.Label)
		}
		labels[r.Label] = true
		if r.Env.Clocksource != "xen" {
			continue
		}
		xen++
		c, ok := r.Bench.Find("clock_gettime", "MONOTONIC", "vdso")
		if ok && c.PerCall != nil && c.PerCall.Syscalls != nil && *c.PerCall.Syscalls == 1 {
			fell++
		}
	}
	if xen == 0 || fell != xen {
		t.Errorf("%d xen hosts, %d with clock_gettime MONOTONIC fallen back: want all", xen, fell)
	}
}
