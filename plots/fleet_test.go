package plots

import (
	"bytes"
	"math"
	"testing"
)

// TestFleetFigures: a box per row and a dot per group median are drawn
// and render as PNG; rows without values make an empty figure that says
// why.
func TestFleetFigures(t *testing.T) {
	rows := []FleetRow{
		{Name: "clock_gettime MONOTONIC vdso", Values: []float64{25, 26, 27, 1200, math.NaN()}, GroupMedians: []float64{26, 1200}},
		{Name: "time vdso", Values: []float64{2, 2.1, 2.2}, GroupMedians: []float64{2.1, math.NaN()}},
	}
	f := FleetCost(rows, 5, []string{"G1 (3 runs)", "G2 (1 run)"})
	if f.Empty != "" || f.Points != 2+3 {
		t.Fatalf("empty %q, %d points: want 2 boxes and 3 group medians", f.Empty, f.Points)
	}
	var b bytes.Buffer
	if err := f.WritePNG(&b); err != nil || b.Len() == 0 {
		t.Fatalf("PNG: %v", err)
	}
	if e := FleetASLR([]FleetRow{{Name: "vdso", Values: []float64{math.NaN()}}}, 1, nil); e.Empty == "" {
		t.Error("a fleet without ASLR values drew a figure")
	}
}
