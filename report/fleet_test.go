package report

import (
	"bytes"
	"encoding/csv"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/vbench-dev/vbench/internal/fleetgen"
	"github.com/vbench-dev/vbench/runfile"
)

// fleetOf writes a synthetic fleet of n runs and reads it into a Fleet,
// returning the runs too.
func fleetOf(t *testing.T, n int) (*Fleet, []*runfile.Run) {
	t.Helper()
	paths := fleetgen.MustWrite(t, t.TempDir(), "..", n, 3)
	f := NewFleet()
	var runs []*runfile.Run
	for _, p := range paths {
		r, err := runfile.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		f.Add(r, "", p)
		runs = append(runs, r)
	}
	return f, runs
}

// TestFleetText: the fleet view fits in 120 columns, lists exactly the
// runs whose clock reads fell back (the xen hosts), finds the synthetic
// outliers (every 50th run, its samples doubled) and names the run with
// the fewest vDSO bits.
func TestFleetText(t *testing.T) {
	f, runs := fleetOf(t, 120)
	var b bytes.Buffer
	if err := f.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for i, line := range strings.Split(out, "\n") {
		if n := utf8.RuneCountInString(line); n > FleetWidth {
			t.Errorf("line %d is %d columns: %q", i+1, n, line)
		}
	}
	var xen []string
	minVDSO, minLabel := 1e9, ""
	for _, r := range runs {
		if r.Env.Clocksource == "xen" {
			xen = append(xen, r.Label)
		}
		for _, g := range r.ASLR.Regions {
			if g.Name == "vdso" && g.Effective < minVDSO {
				minVDSO, minLabel = g.Effective, r.Label
			}
		}
	}
	if len(xen) == 0 {
		t.Fatal("no xen host in the fleet")
	}
	flat := strings.Join(strings.Fields(out), " ")
	for _, l := range xen {
		if !strings.Contains(flat, l+",") && !strings.Contains(flat, l+" ") {
			t.Errorf("xen host %s not listed among the fallbacks", l)
		}
	}
	if !strings.Contains(flat, "vDSO fell back to the syscall in "+strconv.Itoa(len(xen))+" of 120 runs") {
		t.Errorf("want %d fallback runs in:\n%s", len(xen), out)
	}
	var outl []string
	for _, o := range f.Outliers() {
		outl = append(outl, f.Runs[o.Run].Label)
	}
	for _, want := range []string{"host-0049", "host-0099"} {
		if !strings.Contains(strings.Join(outl, " "), want) {
			t.Errorf("outliers %v lack %s (its samples were doubled)", outl, want)
		}
	}
	if len(outl) > 4 {
		t.Errorf("outliers %v: want only the doubled runs", outl)
	}
	if !strings.Contains(out, "vdso ") || !strings.Contains(out, minLabel) {
		t.Errorf("lowest vdso run %s (%.1f bits) not named", minLabel, minVDSO)
	}
}

// TestFleetMatrix: the CSV has a row per run and a column per cell, and
// its medians are the run files'.
func TestFleetMatrix(t *testing.T) {
	f, runs := fleetOf(t, 30)
	var b bytes.Buffer
	if err := f.Matrix().CSV(&b); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 31 {
		t.Fatalf("%d records, want a header and 30 rows", len(recs))
	}
	col := -1
	for i, h := range recs[0] {
		if h == "ClockGettime/clock=MONOTONIC/path=vdso ns" {
			col = i
		}
	}
	if col < 0 {
		t.Fatalf("no clock_gettime MONOTONIC vdso column in %v", recs[0])
	}
	for i, r := range runs {
		c, ok := r.Bench.Find("clock_gettime", "MONOTONIC", "vdso")
		if !ok || c.Summary == nil {
			continue
		}
		if got, want := recs[i+1][col], csvNum(c.Summary.Median); got != want || recs[i+1][0] != r.Label {
			t.Errorf("row %d (%s): %s, want %s (%s)", i, recs[i+1][0], got, want, r.Label)
		}
	}
}

// TestFleetContexts: a cell measured in another context is a cell of its
// own, not one overwriting the plain one.
func TestFleetContexts(t *testing.T) {
	paths := fleetgen.MustWrite(t, t.TempDir(), "..", 2, 9)
	f := NewFleet()
	for _, p := range paths {
		r, err := runfile.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := r.Bench.Find("clock_gettime", "MONOTONIC", "vdso")
		tn := *c
		tn.Context = runfile.ContextTimens
		s := *c.Summary
		s.Median *= 1.25
		tn.Summary = &s
		r.Bench.Cells = append(r.Bench.Cells, tn)
		f.Add(r, "", p)
		plain, timens := f.cellIdx["ClockGettime/clock=MONOTONIC/path=vdso"], f.cellIdx["ClockGettime/clock=MONOTONIC/path=vdso/context=timens"]
		ri := len(f.Runs) - 1
		if f.median(ri, plain) != c.Summary.Median || f.median(ri, timens) != s.Median {
			t.Errorf("plain %v timens %v, want %v and %v", f.median(ri, plain), f.median(ri, timens), c.Summary.Median, s.Median)
		}
	}
}
