package plots

import (
	"fmt"
	"math"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// FleetRow is one row of a fleet figure: a cell or a region, and one value
// per run that has it (NaN values are left out).
type FleetRow struct {
	Name   string
	Values []float64
}

// FleetCost draws, for each headline cell, the distribution of the runs'
// medians (ns per call) as a box plot on a log scale: the box spans the
// quartiles, the line in it the median, whiskers and points the rest.
// One figure for a whole fleet, however many runs.
func FleetCost(rows []FleetRow, runs, groups int) *Figure {
	f := &Figure{Name: "fleet-cost.png", Width: 11, Height: 7}
	title := fmt.Sprintf("Cost of one call across a fleet of %d runs in %d groups: each run's median, per cell", runs, groups)
	return fleetBoxes(f, rows, title, "ns per call (log scale)", true, "no timing results in these runs")
}

// FleetASLR draws, for each region, the distribution of the runs'
// effective ASLR bits as a box plot.
func FleetASLR(rows []FleetRow, runs int) *Figure {
	f := &Figure{Name: "fleet-aslr.png", Width: 11, Height: 5}
	title := fmt.Sprintf("Effective ASLR entropy across a fleet of %d runs, per region", runs)
	return fleetBoxes(f, rows, title, "effective bits", false, "no ASLR results in these runs")
}

func fleetBoxes(f *Figure, rows []FleetRow, title, xlabel string, log bool, empty string) *Figure {
	var names []string
	var kept [][]float64
	for _, r := range rows {
		var vs []float64
		for _, v := range r.Values {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				if log {
					v = pos(v)
				}
				vs = append(vs, v)
			}
		}
		if len(vs) > 0 {
			names = append(names, r.Name)
			kept = append(kept, vs)
		}
	}
	if len(kept) == 0 {
		return f.empty(empty)
	}
	p := newPlot(title, xlabel, "")
	p.Title.TextStyle.Font.Size = 13
	if log {
		logX(p)
	}
	p.Add(gridLines{})
	lo, hi := math.Inf(1), math.Inf(-1)
	for k, vs := range kept {
		b, err := plotter.NewBoxPlot(vg.Points(12), rowY(k, len(kept)), plotter.Values(vs))
		if err != nil {
			continue
		}
		b.Horizontal = true
		b.FillColor = runColours[0]
		p.Add(b)
		f.Points++
		for _, v := range vs {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	if log {
		p.X.Min, p.X.Max = logRange(lo, hi)
	} else {
		p.X.Min, p.X.Max = math.Max(0, lo-1), hi+1
	}
	nominalRows(f, p, names)
	f.Plots = append(f.Plots, p)
	return f
}
