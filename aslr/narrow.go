package aslr

import (
	"math"

	"github.com/vbench-dev/vbench/aslr/analysis"
	"github.com/vbench-dev/vbench/runfile"
)

// Sampling until narrow (Config.Samples 0): the aggregator checks, at
// narrowFirst samples and every doubling after that, whether every
// region's effective figure is measured: a collision or min-entropy
// estimate (or a constant) whose 95% interval is at most NarrowBits wide.
// The check runs on a snapshot of the columns in a goroutine of its own
// while sampling goes on; when it says yes, sampling stops. An interval of
// the collision estimate narrows as 1/n (equal pairs grow as n^2 and their
// relative error as 1/sqrt(pairs)), which gives each region's Needed.

// narrowFirst is the first check.
const narrowFirst = 20_000

type narrowResult struct {
	status []runfile.NarrowRegion
	all    bool
}

// checkNarrow estimates every region of a snapshot.
func checkNarrow(c *analysis.Columns) narrowResult {
	st := narrowStatus(&runfile.ASLR{Regions: analysis.EstimateRegions(c)})
	return narrowResult{status: st, all: allNarrow(st)}
}

// narrowStatus is each region's standing.
func narrowStatus(res *runfile.ASLR) []runfile.NarrowRegion {
	var out []runfile.NarrowRegion
	for _, r := range res.Regions {
		n := runfile.NarrowRegion{Name: r.Name, Width: r.EffectiveHi - r.EffectiveLo}
		switch {
		case r.Present == 0 || r.Rule == runfile.RuleAbsent:
			n.Status = "absent"
		case r.Rule == runfile.RuleConstant:
			n.Status = "constant"
		case r.Rule == runfile.RuleBirthday || r.Rule == runfile.RuleMin:
			n.Status = "estimate"
			if n.Width > NarrowBits {
				n.Status = "wide"
				n.Needed = int(math.Ceil(float64(r.Present) * n.Width / NarrowBits))
			}
		default:
			n.Status = "bound"
			// Equal pairs expected at m samples: m^2/2 * 2^-H, with H at
			// most the bound; about 800 give an interval 0.2 bits wide
			// (collisionBits: 2 * 1.96 / (sqrt(k) ln 2)).
			if h := r.Effective; h > 0 && h < 60 {
				n.Needed = int(math.Ceil(math.Sqrt(2 * 800 * math.Exp2(h))))
			}
		}
		out = append(out, n)
	}
	return out
}

// allNarrow says every region was measured.
func allNarrow(st []runfile.NarrowRegion) bool {
	for _, n := range st {
		if n.Status == "wide" || n.Status == "bound" {
			return false
		}
	}
	return len(st) > 0
}
