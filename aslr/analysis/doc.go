// Package analysis estimates ASLR entropy from sampled region bases: the
// estimators, each region's kernel maximum, the relations between pairs
// of regions, the conclusions in words and the samples CSV. It imports
// only runfile (and gonum's distributions): the sampler (package aslr)
// feeds it Columns, and renderers (report, plots) read what it computed
// and the words it renders from a run file of any age, without importing
// the sampler.
//
// Estimation (estimate.go, pairs.go): per region, a sorted column gives
// the estimators and an "effective bits" figure that names the entropy it
// estimates (collision, min-entropy, or an upper bound), its 95% interval
// and the rule that chose it (Region.Rule); per pair of regions, the
// distinct differences, B's entropy given A, and what they mean in words.
// kernel.go knows each region's maximum per kernel version and
// architecture (x86-64, arm64 with 4 KiB pages); csv.go writes and reads
// the raw samples (FromCSV re-estimates from a file).
package analysis
