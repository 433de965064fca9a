package runfile

import "time"

// ASLR is the randomization part of a run (`vbench aslr`).
type ASLR struct {
	Target      string        `json:"target"`
	Samples     int           `json:"samples"` // samples gathered
	Requested   int           `json:"requested"`
	NoRandomize bool          `json:"no_randomize"`
	Duration    time.Duration `json:"duration"`
	Rate        float64       `json:"rate"`              // samples per second
	Workers     int           `json:"workers,omitempty"` // spawning threads
	// Interrupted is true when sampling was stopped early (Ctrl-C).
	Interrupted bool      `json:"interrupted,omitempty"`
	Regions     []Region  `json:"regions"`
	Pairs       []Pair    `json:"pairs"`
	Vsyscall    *Vsyscall `json:"vsyscall,omitempty"`
	// Conclusions are sentences for the reader, e.g. "the vDSO moves with
	// the mmap base: it adds no entropy of its own".
	Conclusions []string `json:"conclusions,omitempty"`
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
	Alignment   uint64 `json:"alignment"`
	Distinct    int    `json:"distinct"`
	VaryingMask uint64 `json:"varying_mask"`
	VaryingBits int    `json:"varying_bits"`
	// QualityBits is paxtest's figure: varying bits minus bits set in
	// <=35% or >=65% of samples.
	QualityBits int `json:"quality_bits"`
	// BitEntropySum is the sum over bits of the binary entropy of each bit.
	BitEntropySum float64 `json:"bit_entropy_sum"`
	// RangeBits is log2((max-min)/alignment + 1).
	RangeBits float64 `json:"range_bits"`
	// Collision estimate from the number of equal pairs (birthday bound).
	Collisions    int     `json:"collisions"`
	CollisionBits float64 `json:"collision_bits"` // -1 (infinite) when Collisions == 0
	CollisionLo   float64 `json:"collision_lo"`
	CollisionHi   float64 `json:"collision_hi"` // +Inf is written as -1
	// Shannon is the plug-in entropy; it cannot exceed ShannonCeiling =
	// log2(samples).
	Shannon        float64 `json:"shannon"`
	ShannonCeiling float64 `json:"shannon_ceiling"`
	MinEntropy     float64 `json:"min_entropy"`
	// Chi-square test of uniformity over the varying range.
	ChiSquare   float64 `json:"chi_square"`
	ChiSquareDF int     `json:"chi_square_df"`
	ChiSquareP  float64 `json:"chi_square_p"`
	// Effective is the figure for the reader, chosen by EffectiveRule.
	Effective     float64 `json:"effective_bits"`
	EffectiveRule string  `json:"effective_rule"`
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
	// MinDiff and MaxDiff bound B - A over the samples. DistinctDiffs is
	// capped: a value above 4096 means "more than 4096".
	MinDiff    int64   `json:"min_diff"`
	MaxDiff    int64   `json:"max_diff"`
	DiffBits   float64 `json:"diff_bits"` // entropy of the difference (estimator as in Region.Effective)
	Conclusion string  `json:"conclusion"`
}

// Vsyscall records the fixed page as seen in the samples.
type Vsyscall struct {
	Mapped  int     `json:"mapped"` // samples with [vsyscall] mapped
	Addr    uint64  `json:"addr,omitempty"`
	Perms   string  `json:"perms,omitempty"`
	Fixed   bool    `json:"fixed"` // same address in every sample
	Entropy float64 `json:"entropy_bits"`
}
