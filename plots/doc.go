// Package plots draws vbench's PNG figures with gonum/plot: the cost of a
// call per function and path, the per-call latency distribution, the ASLR
// bit strip, the vDSO base histogram, effective bits against the kernel's
// maximum, and the comparison of runs.
//
// Every function takes data from package runfile and returns a Figure,
// which renders to PNG at a fixed size (Width x Height pixels at DPI).
// Nothing here measures anything.
//
// Log axes: gonum/plot panics on a log axis that reaches zero or below (its
// bar charts start at 0, and LogTicks refuses non-positive ranges), and its
// maintainers leave it to callers to keep log axes positive. So costs are
// drawn as points with whiskers, never bars, and every value put on a log
// axis goes through pos(), which clamps it to MinLog.
package plots
