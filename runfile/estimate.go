package runfile

import "encoding/json"

// Estimate is one estimator's figure for a region: the estimator's Name
// (package aslr/analysis's registry), the Kind of entropy it estimates,
// the figure in Bits and its 95% interval [Lo, Hi]. -1 stands for
// infinity in Bits and Hi (JSON has none): a collision estimate with no
// equal pair, an interval with no upper end. An estimator that claims no
// interval writes [0, -1].
type Estimate struct {
	Name string      `json:"name"`
	Kind EntropyKind `json:"kind"`
	Bits float64     `json:"bits"`
	Lo   float64     `json:"low"`
	Hi   float64     `json:"high"`
}

// Estimate returns the region's estimate by the estimator name.
func (g *Region) Estimate(name string) (Estimate, bool) {
	for _, e := range g.Estimates {
		if e.Name == name {
			return e, true
		}
	}
	return Estimate{}, false
}

// legacyRegion holds the per-estimator fields of run files written before
// regions held a list of estimates (schema 1, until vbench v0.3.0): one
// field per figure, and the rule's sentence as written.
type legacyRegion struct {
	BitEntropySum  *float64 `json:"bit_entropy_sum"`
	RangeBits      *float64 `json:"range_bits"`
	CollisionBits  *float64 `json:"collision_bits"`
	CollisionLo    float64  `json:"collision_lo"`
	CollisionHi    float64  `json:"collision_hi"`
	Shannon        *float64 `json:"shannon"`
	ShannonCeiling float64  `json:"shannon_ceiling"`
	MinEntropy     *float64 `json:"min_entropy"`
	MinEntropyLo   float64  `json:"min_entropy_lo"`
	MinEntropyHi   float64  `json:"min_entropy_hi"`
}

// UnmarshalJSON reads a region of either layout: with "estimates", or with
// the legacy per-estimator fields, which become estimates named as
// package aslr/analysis names them (bitsum, range, collision, shannon,
// min). The legacy files hold no interval for the range, the bit sum or
// the plug-in Shannon figure, so those come as [Bits, -1], [0, -1] and
// [0, -1]: nothing claimed beyond what was recorded; a min-entropy without
// bounds (files from before a rule was recorded) as [0, -1] too. The
// stored sentences (effective_rule) are not read: renderers compute them.
func (g *Region) UnmarshalJSON(b []byte) error {
	type plain Region // the fields without this method
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*g = Region(p)
	if g.Estimates != nil {
		return nil
	}
	var old legacyRegion
	if err := json.Unmarshal(b, &old); err != nil {
		return err
	}
	add := func(name string, kind EntropyKind, bits *float64, lo, hi float64) {
		if bits != nil {
			g.Estimates = append(g.Estimates, Estimate{Name: name, Kind: kind, Bits: *bits, Lo: lo, Hi: hi})
		}
	}
	if old.BitEntropySum != nil {
		add("bitsum", EntropyUpperBound, old.BitEntropySum, 0, -1)
	}
	if old.RangeBits != nil {
		add("range", EntropyUpperBound, old.RangeBits, *old.RangeBits, -1)
	}
	add("collision", EntropyCollision, old.CollisionBits, old.CollisionLo, old.CollisionHi)
	add("shannon", EntropyShannon, old.Shannon, 0, -1)
	if g.Rule == "" || old.MinEntropyHi < old.MinEntropyLo {
		add("min", EntropyMin, old.MinEntropy, 0, -1)
	} else {
		add("min", EntropyMin, old.MinEntropy, old.MinEntropyLo, old.MinEntropyHi)
	}
	return nil
}
