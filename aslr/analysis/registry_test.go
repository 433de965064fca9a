package analysis

import (
	"go/build"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/vbench-dev/vbench/runfile"
)

// Every registered estimator has what the run file, the tables and the
// comparison need, and a region's estimates are the registry's, in its
// order, named and of its kind.
func TestRegistry(t *testing.T) {
	ests := Estimators()
	if len(ests) < 5 {
		t.Fatalf("%d estimators", len(ests))
	}
	for i, e := range ests {
		if e.Head == "" || e.Legend == "" || e.Label == "" || strings.Trim(e.Name, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
			t.Errorf("estimator %d: %+v", i, e)
		}
		if i > 0 && ests[i-1].Order >= e.Order {
			t.Errorf("%s and %s: order %d, %d", ests[i-1].Name, e.Name, ests[i-1].Order, e.Order)
		}
	}
	rng := rand.New(rand.NewPCG(1, 1))
	r := drawRegion(rng, 3000, uniformOn(12, 1))
	if len(r.Estimates) != len(ests) {
		t.Fatalf("%d estimates, %d estimators", len(r.Estimates), len(ests))
	}
	for i, x := range r.Estimates {
		if x.Name != ests[i].Name || x.Kind != ests[i].Kind {
			t.Errorf("estimate %d: %s %s, want %s %s", i, x.Name, x.Kind, ests[i].Name, ests[i].Kind)
		}
		if x.Hi >= 0 && x.Lo > x.Hi {
			t.Errorf("%s: [%g, %g]", x.Name, x.Lo, x.Hi)
		}
	}
	for _, rule := range []runfile.Rule{runfile.RuleBirthday, runfile.RuleRange, runfile.RuleBitSum, runfile.RuleMin, runfile.RuleConstant} {
		if _, ok := Lookup(IntervalFrom(rule)); !ok {
			t.Errorf("rule %s takes its interval from %q, not in the registry", rule, IntervalFrom(rule))
		}
	}
	// A run written with the estimates validates.
	run := &runfile.Run{Schema: runfile.SchemaVersion, Tool: "vbench", ASLR: &runfile.ASLR{Samples: 3000, Regions: []runfile.Region{r}}}
	if err := run.Validate(); err != nil {
		t.Error(err)
	}
}

// The analysis imports runfile and the standard library, and gonum's
// distributions: no measuring package (not the sampler, not probes).
func TestImportsOnlyRunfile(t *testing.T) {
	p, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range p.Imports {
		switch {
		case imp == "github.com/vbench-dev/vbench/runfile", imp == "gonum.org/v1/gonum/stat/distuv":
		case strings.Contains(imp, "."):
			t.Errorf("aslr/analysis imports %s", imp)
		}
	}
}
