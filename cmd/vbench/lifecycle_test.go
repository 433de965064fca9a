package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vbench-dev/vbench/runfile"
)

func TestLifecycleBadInput(t *testing.T) {
	wantUsageError(t, []string{"lifecycle", "--max-points", "0"}, "--max-points")
	wantUsageError(t, []string{"lifecycle", "extra"}, `unexpected argument "extra"`)
}

// The command prints the verdict table and writes a run file holding the
// same checks; no check fails on a sound kernel (a skip says why).
func TestLifecycleCommand(t *testing.T) {
	p := filepath.Join(t.TempDir(), "l.json")
	stdout, stderr, code := runCLI(t, "lifecycle", "--json", p)
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := runfile.Decode(f, p)
	if err != nil {
		t.Fatal(err)
	}
	if r.Lifecycle == nil || len(r.Lifecycle.Checks) == 0 {
		t.Fatalf("no lifecycle checks in the run file")
	}
	for _, c := range r.Lifecycle.Checks {
		if !strings.Contains(stdout, c.Name) {
			t.Errorf("check %q in the file but not in the table:\n%s", c.Name, stdout)
		}
	}
	if !strings.Contains(stdout, "checks:") {
		t.Errorf("no summary line:\n%s", stdout)
	}
}
