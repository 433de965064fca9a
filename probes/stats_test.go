package probes

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// The 200-point distribution a latency cell keeps is read straight from
// the sorted values; it must be the library's nearest-rank quantile at each
// point, for any size.
func TestQuantilesRule(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 2, 7, 199, 200, 201, 5000} {
		v := make([]float64, n)
		for i := range v {
			v[i] = math.Floor(rng.ExpFloat64() * 30)
		}
		sorted := slices.Clone(v)
		slices.Sort(sorted)
		k := min(latencyCells, n)
		got := quantiles(sorted, latencyCells)
		if len(got) != k {
			t.Fatalf("n=%d: %d points, want %d", n, len(got), k)
		}
		for i, g := range got {
			if want := quantile(v, (float64(i)+0.5)/float64(k)); g != want {
				t.Fatalf("n=%d: point %d = %v, library says %v", n, i, g, want)
			}
		}
	}
	if !math.IsNaN(quantile(nil, 0.5)) {
		t.Error("quantile of nothing is not NaN")
	}
	if m := medianTicks([]uint64{9, 1, 5, 3}); m != 4 {
		t.Errorf("medianTicks = %v, want 4", m)
	}
	if p := quantile([]float64{5, 1, 4, 2, 3}, 0.99); p != 5 {
		t.Errorf("p99 of 1..5 = %v, want 5 (nearest rank)", p)
	}
}
