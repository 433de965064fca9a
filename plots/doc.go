// Package plots draws vbench's figures with gonum/plot: the cost of a
// call per function and path, the per-call latency distribution (boxes
// and CDF panels), the ASLR bit strip, the vDSO base histogram, effective
// bits against the kernel's maximum, and the comparison of runs.
//
// Every function takes data from package runfile and returns a Figure,
// which renders to PNG (vgimg, at DPI) or SVG (vgsvg) at a fixed size in
// inches. A figure with nothing to draw says why in Figure.Empty and is
// never rendered (ErrEmpty): a report writes that sentence instead of
// showing a placeholder. Figure.Points counts what a figure draws, so that
// tests can tell a figure of the data from an empty frame. Legends sit in
// a strip under the data, never over it. Nothing here measures anything.
//
// Log axes: gonum/plot panics on a log axis that reaches zero or below (its
// bar charts start at 0, and LogTicks refuses non-positive ranges), and its
// maintainers leave it to callers to keep log axes positive. So costs are
// drawn as points with whiskers, never bars, and every value put on a log
// axis goes through pos(), which clamps it to MinLog. Axes fit the data
// (logRange): a quarter beyond it, whole decades only when fewer than two
// powers of ten would be labelled.
//
// Single-call latencies are read with the TSC, which on some machines
// advances in steps of many ns (runfile.Bench.TSCStepNs): a call read as 0
// or 1 step took anything from 0 to 2 steps. The latency figures shade the
// axis below one step and mark a cell whose p75 is at most one step rather
// than draw a box of numbers the timer cannot resolve.
package plots
