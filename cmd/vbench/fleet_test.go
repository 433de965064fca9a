package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/vbench-dev/vbench/internal/fleetgen"
)

// TestCompareFleet: from report.FleetMin runs on, compare shows the fleet
// view in 120 columns; --csv writes the full matrix; --fleet=false the
// column per run.
func TestCompareFleet(t *testing.T) {
	paths := fleetgen.MustWrite(t, t.TempDir(), "../..", 12, 5)
	stdout, stderr, code := runCLI(t, append([]string{"compare"}, paths...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.HasPrefix(stdout, "fleet: 12 runs") {
		t.Errorf("no fleet view:\n%.300s", stdout)
	}
	for i, l := range strings.Split(stdout, "\n") {
		if utf8.RuneCountInString(l) > 120 {
			t.Errorf("line %d: %d columns", i+1, utf8.RuneCountInString(l))
		}
	}
	csvPath := filepath.Join(t.TempDir(), "m.csv")
	if _, stderr, code := runCLI(t, append([]string{"compare", "--csv", csvPath}, paths...)...); code != 0 {
		t.Fatalf("--csv: exit %d: %s", code, stderr)
	}
	f, err := os.Open(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil || len(recs) != 13 || len(recs[0]) < 60 {
		t.Errorf("matrix: %d records (want 13), %v", len(recs), err)
	}
	stdout, _, code = runCLI(t, append([]string{"compare", "--fleet=false"}, paths...)...)
	if code != 0 || strings.HasPrefix(stdout, "fleet:") {
		t.Errorf("--fleet=false: exit %d, fleet view shown", code)
	}
	wantUsageError(t, []string{"compare", "--csv", csvPath, paths[0], paths[1]}, "--csv is the fleet view's matrix")
	wantUsageError(t, append([]string{"compare", "--out", t.TempDir()}, paths...), "--out with the fleet view")
	wantUsageError(t, append(append([]string{"compare"}, paths...), "no-such.json"), "no-such.json")
}

// TestReportFleet: report of a fleet draws one figure per kind, not one
// set per run.
func TestReportFleet(t *testing.T) {
	paths := fleetgen.MustWrite(t, t.TempDir(), "../..", 10, 6)
	out := filepath.Join(t.TempDir(), "rep")
	_, stderr, code := runCLI(t, append([]string{"report", "--out", out}, paths...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	pngs, _ := filepath.Glob(filepath.Join(out, "*.png"))
	if len(pngs) != 2 {
		t.Errorf("%d PNGs (%v), want fleet-cost.png and fleet-aslr.png", len(pngs), pngs)
	}
	md, err := os.ReadFile(filepath.Join(out, "report.md"))
	if err != nil || !strings.Contains(string(md), "a fleet of 10 runs") || !strings.Contains(string(md), "](fleet-cost.png)") {
		t.Errorf("report.md: %v\n%.300s", err, md)
	}
}
