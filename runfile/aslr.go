package runfile

import (
	"encoding/json"
	"strconv"
	"time"
)

// ASLR is the randomization part of a run (`vbench aslr`).
type ASLR struct {
	Target      string        `json:"target"`
	Samples     int           `json:"samples"` // samples gathered
	Requested   int           `json:"requested"`
	NoRandomize bool          `json:"no_randomize"`
	Duration    time.Duration `json:"duration"`
	Rate        float64       `json:"rate"`              // samples per second
	Workers     int           `json:"workers,omitempty"` // spawning threads
	// Method is how each sample was read: MethodSelfReport (vbench's target
	// writes its own bases down a pipe) or MethodPtrace (stopped at exec,
	// /proc read). Absent in files from before self-reporting: "ptrace".
	Method string `json:"method,omitempty"`
	// Checked is the number of self-reported samples also read through
	// ptrace and /proc and found equal.
	Checked int `json:"checked,omitempty"`
	// Ceiling is the spawns per second of vbench's exit-only program with
	// the same threads, the mean of CeilingBefore and CeilingAfter, each
	// measured for half of CeilingDuration right before and right after
	// sampling; CeilingFraction is Rate / Ceiling. Absent when not measured.
	Ceiling         float64       `json:"ceiling,omitempty"`
	CeilingBefore   float64       `json:"ceiling_before,omitempty"`
	CeilingAfter    float64       `json:"ceiling_after,omitempty"`
	CeilingDuration time.Duration `json:"ceiling_duration,omitempty"`
	CeilingFraction float64       `json:"ceiling_fraction,omitempty"`
	// InheritedNoRandomize is true when vbench itself ran with the
	// ADDR_NO_RANDOMIZE personality (as under `setarch -R`): every spawn
	// inherited it, so nothing was randomized.
	InheritedNoRandomize bool `json:"inherited_no_randomize,omitempty"`
	// Interrupted is true when sampling was stopped early (Ctrl-C).
	Interrupted bool      `json:"interrupted,omitempty"`
	Regions     []Region  `json:"regions"`
	Pairs       []Pair    `json:"pairs"`
	Vsyscall    *Vsyscall `json:"vsyscall,omitempty"`
	// The sentences for the reader (conclusions, a pair's conclusion, a
	// rule's words) are not stored: renderers compute them from the data
	// (package aslr/analysis), and the ones older files hold are not read.
	ASLRSampling
}

// Region holds the estimators for one region's base address. Name is one
// of "vdso", "vvar", "vvar_vclock", "stack", "sp", "exe", "mmap", "heap"
// (package aslr documents what each base is; "sp" is the initial stack
// pointer).
type Region struct {
	Name    string `json:"name"`
	Present int    `json:"present"` // samples in which the region existed
	Min     uint64 `json:"min"`
	Max     uint64 `json:"max"`
	// Alignment is the largest power of two dividing every sample.
	Alignment uint64 `json:"alignment"`
	// Step is the lattice the values lie on: the greatest common divisor
	// of their distances from Min (0 with one value).
	Step        uint64 `json:"step,omitempty"`
	Distinct    int    `json:"distinct"`
	VaryingMask uint64 `json:"varying_mask"`
	VaryingBits int    `json:"varying_bits"`
	// QualityBits is paxtest's figure: varying bits minus bits set in
	// <=35% or >=65% of samples.
	QualityBits int `json:"quality_bits"`
	// Collisions is the number of equal pairs among the samples (the
	// birthday estimate's input).
	Collisions int `json:"collisions"`
	// Estimates holds one figure per estimator of package aslr/analysis's
	// registry (its name, the entropy it estimates, bits and 95%
	// interval). Files written before it hold one field per estimator,
	// read into this list (estimate.go).
	Estimates []Estimate `json:"estimates"`
	// Chi-square test of uniformity over the varying range.
	ChiSquare   float64 `json:"chi_square"`
	ChiSquareDF int     `json:"chi_square_df"`
	ChiSquareP  float64 `json:"chi_square_p"`
	// Effective is the figure for the reader, chosen by Rule, an estimate of
	// the entropy named by Entropy, in the 95% interval [EffectiveLo,
	// EffectiveHi]. The rule in words is rendered from these fields
	// (analysis.RuleWords); the sentence older files stored
	// (effective_rule) is not read.
	Effective   float64     `json:"effective_bits"`
	EffectiveLo float64     `json:"effective_lo"`
	EffectiveHi float64     `json:"effective_hi"`
	Rule        Rule        `json:"rule,omitempty"`    // one of Rules
	Entropy     EntropyKind `json:"entropy,omitempty"` // one of EntropyKinds
	// The kernel's maximum for this region (package aslr, KernelMax), when
	// known, and whether Effective exceeds it.
	KernelMaxBits   float64 `json:"kernel_max_bits,omitempty"`
	KernelMaxSource string  `json:"kernel_max_source,omitempty"`
	AboveKernelMax  bool    `json:"above_kernel_max,omitempty"`
	// BitFreq[i] is the fraction of samples with address bit i set, bits 0
	// to 47.
	BitFreq []float64 `json:"bit_freq"`
	// Histogram of the base address over [Min, Max] in equal bins.
	Histogram []int `json:"histogram,omitempty"`
}

// Pair relates two regions by the distinct differences of their bases.
type Pair struct {
	A             string `json:"a"`
	B             string `json:"b"`
	DistinctDiffs int    `json:"distinct_diffs"`
	// Offset is B - A when DistinctDiffs == 1.
	Offset int64 `json:"offset,omitempty"`
	// MinDiff and MaxDiff bound B - A over the samples. Run files before
	// the cap was lifted hold 4097 in DistinctDiffs for "more than 4096".
	MinDiff  int64   `json:"min_diff"`
	MaxDiff  int64   `json:"max_diff"`
	DiffBits float64 `json:"diff_bits"` // entropy of the difference (estimator as in Region.Effective)
	// OwnBits is B's entropy given A, H(B|A), estimated as the smaller of
	// H(B - A) and H(B) (OwnFrom: "difference" or "b"), in [OwnLo, OwnHi].
	OwnBits float64 `json:"own_bits"`
	OwnLo   float64 `json:"own_lo"`
	OwnHi   float64 `json:"own_hi"`
	OwnFrom string  `json:"own_from,omitempty"`
	// Related: B - A has provably fewer bits than A and than B (the upper
	// end of its interval is below both their lower ends): B follows A.
	Related bool `json:"related,omitempty"`
}

// Vsyscall records the fixed page as seen in the samples.
type Vsyscall struct {
	Mapped  int     `json:"mapped"` // samples with [vsyscall] mapped
	Addr    uint64  `json:"addr,omitempty"`
	Perms   string  `json:"perms,omitempty"`
	Fixed   bool    `json:"fixed"` // same address in every sample
	Entropy float64 `json:"entropy_bits"`
}

// Addresses as hex strings. An address is a JSON number, and readers that
// hold numbers as 64-bit floats (JavaScript, jq 1.6) round it above 2^53:
// jq 1.6 prints the vsyscall page 0xffffffffff600000 as
// 18446744073699066000. So each address is also written as a hex string
// beside its number (min_hex, max_hex, addr_hex), filled from the number
// by MarshalJSON whoever built the struct, so the two always agree. They
// are not fields of the structs: on read they are ignored (the numbers are
// what a run holds, and what Validate checks), and a run re-encoded from
// a file that lacks them, as older files do, gains them.

// HexAddr is an address as its hex string field holds it: "0x" and
// lower-case hex digits, no leading zeros ("0x0" for 0).
func HexAddr(a uint64) string { return "0x" + strconv.FormatUint(a, 16) }

// MarshalJSON writes the region with min_hex and max_hex beside min and
// max.
func (g Region) MarshalJSON() ([]byte, error) {
	type plain Region // the fields without this method
	return json.Marshal(struct {
		plain
		MinHex string `json:"min_hex"`
		MaxHex string `json:"max_hex"`
	}{plain(g), HexAddr(g.Min), HexAddr(g.Max)})
}

// MarshalJSON writes the page's record with addr_hex beside addr (both
// absent when the page was never seen).
func (v Vsyscall) MarshalJSON() ([]byte, error) {
	type plain Vsyscall
	s := struct {
		plain
		AddrHex string `json:"addr_hex,omitempty"`
	}{plain: plain(v)}
	if v.Addr != 0 {
		s.AddrHex = HexAddr(v.Addr)
	}
	return json.Marshal(s)
}
