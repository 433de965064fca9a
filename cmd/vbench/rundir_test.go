package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vbench-dev/vbench/runfile"
)

// Two runs started in the same second (as two examples of the help text
// can be) get two directories, not an "already exists" error, and neither
// replaces the other.
func TestRunDirSameSecond(t *testing.T) {
	run, err := runfile.ReadFile(filepath.Join("..", "..", "report", "testdata", "emulate.json"))
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	var dirs []string
	for i := 0; i < 3; i++ {
		dir, err := writeRunDir(out, run, nil)
		if err != nil {
			t.Fatalf("run %d: %v", i+1, err)
		}
		dirs = append(dirs, dir)
	}
	want := filepath.Join(out, runDirName(run))
	if dirs[0] != want || dirs[1] != want+"-2" || dirs[2] != want+"-3" {
		t.Fatalf("directories %q, want %s, then -2 and -3", dirs, want)
	}
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "run.json")); err != nil {
			t.Errorf("%s: %v", d, err)
		}
	}
	left, _ := filepath.Glob(filepath.Join(out, ".*"))
	for _, l := range left {
		if strings.Contains(l, ".tmp") {
			t.Errorf("temporary directory left behind: %s", l)
		}
	}
}
