package plots

import (
	"bytes"
	"image/png"
	"math"
	"testing"

	"github.com/vbench-dev/vbench/runfile"
)

// decode renders f and checks the PNG has f's size and is not blank.
func decode(t *testing.T, f *Figure) {
	t.Helper()
	b, err := f.PNG()
	if err != nil {
		t.Fatalf("%s: %v", f.Name, err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", f.Name, err)
	}
	w, h := f.Pixels()
	if img.Bounds().Dx() != w || img.Bounds().Dy() != h {
		t.Errorf("%s: %v, want %dx%d", f.Name, img.Bounds(), w, h)
	}
	dark := 0
	for y := 0; y < h; y += 3 {
		for x := 0; x < w; x += 3 {
			if r, g, b, _ := img.At(x, y).RGBA(); r+g+b < 3*0xc000 {
				dark++
			}
		}
	}
	if dark == 0 {
		t.Errorf("%s: nothing drawn", f.Name)
	}
}

// Empty, nil and degenerate inputs give a figure that says so, never a
// panic or a missing image.
func TestEmptyInputs(t *testing.T) {
	oneValue := &runfile.ASLR{Samples: 10, Regions: []runfile.Region{{Name: "vdso", Present: 10, Distinct: 1,
		Min: 0x7fff0000, Max: 0x7fff0000, BitFreq: make([]float64, AddrBits)}}}
	zeroLat := &runfile.Bench{Cells: []runfile.Cell{{Function: "time", Path: "vdso",
		Summary: &runfile.Summary{Median: 0, Lo: 0, Hi: 0}, Latency: &runfile.Latency{N: 3, Quantiles: []float64{0, 0, 0}}}}}
	for _, f := range []*Figure{
		Cost(nil, ""), Cost(&runfile.Bench{}, ""), Cost(zeroLat, "zero costs"),
		Latency(nil, ""), Latency(&runfile.Bench{}, ""), Latency(zeroLat, ""),
		LatencyCDF(nil, ""), LatencyCDF(zeroLat, ""),
		BitStrip(nil, ""), BitStrip(oneValue, ""),
		VDSOHistogram(nil, ""), VDSOHistogram(oneValue, ""),
		Effective(nil, runfile.Env{}, ""), Effective(oneValue, runfile.Env{RandomizeVASpace: 2, MmapRndBits: 28, KernelRelease: "6.18.0"}, ""),
		Compare(nil, nil), Compare([]*runfile.Run{{}, {}}, []string{"a", "b"}),
	} {
		decode(t, f)
	}
}

func TestQuantile(t *testing.T) {
	// Element i is the (i+0.5)/n quantile of 0..99.
	qs := make([]float64, 100)
	for i := range qs {
		qs[i] = float64(i)
	}
	for _, tt := range []struct{ q, want float64 }{{0.5, 49.5}, {0.005, 0}, {0.995, 99}, {0, 0}, {1, 99}, {0.25, 24.5}} {
		if got := quantile(qs, tt.q); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("quantile(%v) = %v, want %v", tt.q, got, tt.want)
		}
	}
	if !math.IsNaN(quantile(nil, 0.5)) {
		t.Error("quantile of nothing should be NaN")
	}
}

func TestLogRangeStaysPositive(t *testing.T) {
	for _, tt := range [][2]float64{{0, 0}, {-5, 10}, {2.2, 7000}, {math.NaN(), 3}} {
		lo, hi := logRange(tt[0], tt[1], 4)
		if !(lo > 0 && hi >= lo*100) {
			t.Errorf("logRange(%v) = %v, %v", tt, lo, hi)
		}
	}
}

func TestHexTicks(t *testing.T) {
	ts := hexTicks{}.Ticks(float64(0x7f0000000000), float64(0x7fffffffffff))
	labelled := 0
	for _, tk := range ts {
		if tk.Label != "" {
			labelled++
			if tk.Label[:2] != "0x" {
				t.Errorf("label %q is not hex", tk.Label)
			}
		}
	}
	if labelled < 3 || labelled > 9 {
		t.Errorf("%d labelled ticks, want 3 to 9", labelled)
	}
}
