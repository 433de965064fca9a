package aslr

import (
	"context"
	"strings"
	"testing"

	"github.com/vbench-dev/vbench/aslr/analysis"
	"github.com/vbench-dev/vbench/runfile"
)

// The exec chain samples what fresh spawns sample: region by region, the
// two-sample tests do not tell them apart on this machine. And the test
// has teeth: a chain sample biased as a buggy sampler might be, keeping
// an image only by the parity of a bit, is told apart in the regions that
// bit is in.
func TestChainSamplesWhatSpawnsSample(t *testing.T) {
	if testing.Short() {
		t.Skip("samples 2 x 20,000")
	}
	const n = 20_000
	cmp, runs, err := CompareMethods(context.Background(), Config{Samples: n}, MethodChain, MethodSelfReport, nil)
	if err != nil {
		t.Fatal(err)
	}
	noChildren(t, "after comparing methods")
	if len(runs) != 2 || runs[0].Samples != n || runs[1].Samples != n || runs[0].Method != MethodChain || runs[1].Method != MethodSelfReport {
		t.Fatalf("runs: %+v", runs)
	}
	tested := 0
	for _, c := range cmp {
		if !c.Same {
			t.Errorf("%s: chain and spawns differ: range chi2 %.1f (%d df, p %.3g), low bits %.1f (%d df, p %.3g)",
				c.Region, c.RangeX2, c.RangeDF, c.RangeP, c.LowX2, c.LowDF, c.LowP)
		}
		if c.RangeDF > 0 {
			tested++
		}
	}
	// vdso, vvar, stack, sp, exe, mmap, heap at least (vvar_vclock is 6.13+).
	if tested < 7 {
		t.Errorf("only %d regions tested: %+v", tested, cmp)
	}
	t.Log(strings.Join(ComparisonLines(cmp), "\n"))

	// The same chain samples, biased.
	for _, bias := range []struct {
		name   string
		keep   func(s *analysis.Sample) bool
		differ []string
	}{
		// Every other image skipped by the parity of the vDSO's page
		// index: the low bits test sees it in every region that moves
		// with the vDSO.
		{"vdso page parity", func(s *analysis.Sample) bool { return s.Base[analysis.Vdso]>>12&1 == 0 }, []string{"vdso", "exe", "mmap"}},
		// By a high bit of the stack: the range test sees it.
		{"stack bit 30", func(s *analysis.Sample) bool { return s.Base[analysis.Stack]>>30&1 == 0 }, []string{"stack", "sp"}},
	} {
		var chain, spawn *analysis.Columns
		c := Config{Samples: n, Ceiling: 0}
		c.Method, c.keep = MethodChain, &chain
		if _, err := Study(context.Background(), c, nil); err != nil {
			t.Fatal(err)
		}
		c.Method, c.keep = MethodSelfReport, &spawn
		if _, err := Study(context.Background(), c, nil); err != nil {
			t.Fatal(err)
		}
		biased := analysis.NewColumns(0, analysis.AllRegions)
		for i := range chain.Len() {
			s := chain.Sample(i)
			if bias.keep(&s) {
				biased.Add(&s)
			}
		}
		got := compareColumns(MethodChain, MethodSelfReport, []*analysis.Columns{biased}, []*analysis.Columns{spawn})
		for _, want := range bias.differ {
			if c := comparisonOf(got, want); c == nil || c.Same {
				t.Errorf("%s: %s not told apart: %+v", bias.name, want, c)
			}
		}
	}
}

func comparisonOf(cmp []runfile.MethodComparison, region string) *runfile.MethodComparison {
	for i := range cmp {
		if cmp[i].Region == region {
			return &cmp[i]
		}
	}
	return nil
}
