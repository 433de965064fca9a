package plots

import (
	"fmt"
	"math"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// FleetRow is one row of a fleet figure: a cell or a region, and one value
// per run that has it (NaN values are left out). GroupMedians, if set, are
// the medians of the groups' runs (NaN where a group lacks the row),
// indexed like the Groups given to the figure.
type FleetRow struct {
	Name         string
	Values       []float64
	GroupMedians []float64
}

// maxFleetGroups is how many groups a fleet figure marks by colour (the
// first ones given: the caller puts the largest first).
const maxFleetGroups = 8

// FleetCost draws, for each headline cell, the distribution of the runs'
// medians (ns per call) as a box plot on a log scale: the box spans the
// quartiles, the line in it the median, whiskers and points the rest.
// One figure for a whole fleet, however many runs.
//
// Each group's median is marked on the row in the group's colour (up to
// maxFleetGroups groups, named in the legend by groups).
func FleetCost(rows []FleetRow, runs int, groups []string) *Figure {
	f := &Figure{Name: "fleet-cost.png", Width: 11, Height: 7}
	title := fmt.Sprintf("Cost of one call across a fleet of %d runs in %d groups: each run's median, per cell; dots: group medians", runs, len(groups))
	return fleetBoxes(f, rows, groups, title, "ns per call (log scale)", true, "no timing results in these runs")
}

// FleetASLR draws, for each region, the distribution of the runs'
// effective ASLR bits as a box plot.
func FleetASLR(rows []FleetRow, runs int, groups []string) *Figure {
	f := &Figure{Name: "fleet-aslr.png", Width: 11, Height: 5}
	title := fmt.Sprintf("Effective ASLR entropy across a fleet of %d runs, per region; dots: group medians", runs)
	return fleetBoxes(f, rows, groups, title, "effective bits", false, "no ASLR results in these runs")
}

func fleetBoxes(f *Figure, rows []FleetRow, groups []string, title, xlabel string, log bool, empty string) *Figure {
	var names []string
	var kept [][]float64
	var keptRows []FleetRow
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
			keptRows = append(keptRows, r)
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
	// The groups' medians, each group in its colour, spread a little
	// around the row so that equal medians stay visible.
	var legend []legendItem
	ng := min(len(groups), maxFleetGroups)
	for g := 0; g < ng; g++ {
		var xy plotter.XYs
		for k, r := range keptRows {
			if g < len(r.GroupMedians) && !math.IsNaN(r.GroupMedians[g]) {
				v := r.GroupMedians[g]
				if log {
					v = pos(v)
				}
				off := 0.0
				if ng > 1 {
					off = 0.3 - 0.6*float64(g)/float64(ng-1)
				}
				xy = append(xy, plotter.XY{X: v, Y: rowY(k, len(kept)) + off})
			}
		}
		if len(xy) == 0 {
			continue
		}
		sc, err := plotter.NewScatter(xy)
		if err != nil {
			continue
		}
		sc.GlyphStyle.Color = runColours[(g+1)%len(runColours)]
		sc.GlyphStyle.Shape = draw.CircleGlyph{}
		sc.GlyphStyle.Radius = vg.Points(3)
		p.Add(sc)
		f.Points += len(xy)
		legend = append(legend, legendItem{groups[g], sc})
	}
	if log {
		p.X.Min, p.X.Max = logRange(lo, hi)
	} else {
		p.X.Min, p.X.Max = math.Max(0, lo-1), hi+1
	}
	nominalRows(f, p, names)
	if len(legend) > 0 {
		f.withLegend(legend, p)
	} else {
		f.Plots = append(f.Plots, p)
	}
	return f
}
