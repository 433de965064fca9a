package analysis

import (
	"fmt"
	"slices"

	"github.com/vbench-dev/vbench/runfile"
)

// An Estimator is one row of the registry: what it is called, the entropy
// it estimates, and how it turns a region's Stats into a figure and its
// 95% interval. The run file's list of estimates, the region table's
// columns and legend, validation and the comparison's kinds all follow
// from the rows, so a new estimator is one file calling Register (from
// an init function) and its test.
type Estimator struct {
	// Name is the estimate's name in run files ("collision"): letters,
	// digits and - only, never reused for another figure.
	Name string
	// Kind is the entropy it estimates or bounds.
	Kind runfile.EntropyKind
	// Order places it in the registry: computation, table columns and
	// figures go by it. An estimator may read (Stats.Prior) those before it.
	Order int
	// Label names it in a list of estimators ("birthday", "Shannon").
	Label string
	// Head is its column's heading in the region table; Legend the
	// clause that explains the column, "head: what it is".
	Head, Legend string
	// Narrow is its column's place among the estimators in the narrow
	// table (a terminal's default), 0 for the wide table only.
	Narrow int
	// Estimate computes the figure: Bits, Lo and Hi (the registry fills
	// Name and Kind). -1 stands for infinity in Bits and Hi; an estimator
	// that claims no interval returns Lo 0 and Hi -1.
	Estimate func(s *Stats) runfile.Estimate
	// Cell writes the figure in its table column; nil: "bits [lo, hi]"
	// ("bits [lo, inf]" with no upper end, "-" where the region lacks it).
	Cell func(e runfile.Estimate, g *runfile.Region) string
}

var registry []Estimator

// Register adds an estimator; it panics on a name already taken or an
// estimator without a kind or function (programming errors, found by the
// first test that runs).
func Register(e Estimator) {
	switch {
	case e.Name == "" || e.Estimate == nil || !e.Kind.Known():
		panic(fmt.Sprintf("analysis: estimator %q needs a name, a known kind and a function", e.Name))
	case slices.ContainsFunc(registry, func(x Estimator) bool { return x.Name == e.Name }):
		panic("analysis: estimator " + e.Name + " registered twice")
	}
	registry = append(registry, e)
	slices.SortStableFunc(registry, func(a, b Estimator) int { return a.Order - b.Order })
}

// Estimators are the registered estimators in Order.
func Estimators() []Estimator { return registry }

// Lookup finds an estimator by name.
func Lookup(name string) (Estimator, bool) {
	for _, e := range registry {
		if e.Name == name {
			return e, true
		}
	}
	return Estimator{}, false
}

// CellOf is estimator e's table cell for region g: "-" when g has no
// such estimate (a run file from before the estimator existed).
func CellOf(e Estimator, g *runfile.Region) string {
	x, ok := g.Estimate(e.Name)
	switch {
	case !ok:
		return "-"
	case e.Cell != nil:
		return e.Cell(x, g)
	case x.Hi < 0:
		return fmt.Sprintf("%.2f [%.1f, inf]", x.Bits, x.Lo)
	}
	return fmt.Sprintf("%.2f [%.1f, %.1f]", x.Bits, x.Lo, x.Hi)
}
