package runfile

import "time"

// ASLRSampling holds how an ASLR run sampled, beyond ASLR's own fields:
// the exec-chain ceilings, sampling until narrow, the checks made without
// ptrace, and time the run spent stopped. It is embedded in ASLR, so its
// fields sit at the top level of the "aslr" object (runfile/SCHEMA.md,
// "ASLR sampling").
type ASLRSampling struct {
	// ChainCeiling is the rate at which the same number of workers run
	// vbench's no-op exec chain (a program that only executes itself
	// again), mean of before and after sampling; ChainFraction is Rate /
	// ChainCeiling. Ceiling (ASLR) is the vfork+execve rate of vbench's
	// own stub, no Go in the loop.
	ChainCeiling  float64 `json:"chain_ceiling,omitempty"`
	ChainFraction float64 `json:"chain_fraction,omitempty"`
	// Budget and NarrowBits are set when sampling ran until every region
	// was measured (an estimate whose 95% interval is at most NarrowBits
	// wide) or the budget ran out (BudgetSpent); NarrowReached says every
	// region was. Narrow holds each region's standing.
	Budget        time.Duration  `json:"budget,omitempty"`
	NarrowBits    float64        `json:"narrow_bits,omitempty"`
	NarrowReached bool           `json:"narrow_reached,omitempty"`
	BudgetSpent   bool           `json:"budget_spent,omitempty"`
	NarrowStatus  []NarrowRegion `json:"narrow,omitempty"`
	// CheckSkipped, if set, is why no self-reported sample could be checked
	// against /proc (a sandbox hiding it); SPCheckSkipped why the stack
	// pointer was not checked in the checked ones (/proc/PID/syscall).
	CheckSkipped   string `json:"check_skipped,omitempty"`
	SPCheckSkipped string `json:"sp_check_skipped,omitempty"`
	// Stalled is time during sampling in which no sample arrived for
	// longer than a stall (vbench stopped, e.g. SIGSTOP, or the machine
	// suspended); Rate excludes it. Continued counts the SIGCONTs vbench
	// received while sampling.
	Stalled   time.Duration `json:"stalled,omitempty"`
	Continued int           `json:"continued,omitempty"`
	// Comparison is the two-sample comparison of --method both: the chain
	// against fresh spawns, region by region.
	Comparison []MethodComparison `json:"comparison,omitempty"`
}

// NarrowRegion is one region's standing when sampling until narrow.
type NarrowRegion struct {
	Name string `json:"name"`
	// Status: "estimate" (narrow), "wide" (an estimate, interval wider than
	// NarrowBits), "bound" (too few equal pairs: an upper bound),
	// "constant", "absent".
	Status string  `json:"status"`
	Width  float64 `json:"width"`
	// Needed estimates the samples that would make it narrow (0: unknown
	// or reached).
	Needed int `json:"needed,omitempty"`
}

// MethodComparison compares one region's samples from two methods with
// two-sample chi-square tests: over equal bins of the pooled range, and
// over the low varying bits (the page index mod 16).
type MethodComparison struct {
	Region  string  `json:"region"`
	A       string  `json:"a"`
	B       string  `json:"b"`
	NA      int     `json:"n_a"`
	NB      int     `json:"n_b"`
	RangeX2 float64 `json:"range_chi_square"`
	RangeDF int     `json:"range_df"`
	RangeP  float64 `json:"range_p"`
	LowX2   float64 `json:"low_chi_square"`
	LowDF   int     `json:"low_df"`
	LowP    float64 `json:"low_p"`
	// Same: neither test rejects at the run's level (Bonferroni over the
	// regions and tests).
	Same bool `json:"same"`
}
