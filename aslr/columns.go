package aslr

import (
	"math/bits"
)

// Compact sample columns. A run keeps every sample (the estimators sort
// whole columns), so at ten million samples the layout of a column is
// most of vbench's memory. Each region's column is one of:
//
//   - an alias: the region is another region plus a constant in every
//     sample so far (vvar and vvar_vclock are the vDSO plus a fixed offset;
//     for vbench's target mmap is exe, and on 6.9+ kernels exe is the vDSO
//     plus a constant): nothing is stored;
//   - 32-bit deltas: (value - first value) >> shift, shift 12 for page
//     aligned regions and 4 for the 16-byte aligned sp, which holds any
//     region whose values lie within 2^31 steps of the first (sp's 30
//     bits, the mmap region's 28 bits of pages);
//   - full 64-bit values, for anything else.
//
// A column starts as the most compact that fits its first sample and
// widens, rewritten from what it holds, when a sample does not fit: an
// alias broken, a value off the lattice or out of range. Values are kept
// in chunks of chunkLen, so growing never copies a column and leaves no
// garbage for the collector (a doubling slice would hold up to three
// times the column at its last copy). With vbench's target on 6.18: four
// stored columns, 18 bytes a sample with the presence mask, against 66 as
// eight plain uint64 columns.

const (
	chunkShift = 16
	chunkLen   = 1 << chunkShift
)

type colKind uint8

const (
	colEmpty colKind = iota // no present value yet
	colAlias
	colU32
	colU64
)

// column is one region's values; absent values are stored as anything
// (their presence bit is clear and nothing reads them).
type column struct {
	kind  colKind
	alias int    // colAlias: the region it follows
	off   uint64 // colAlias: value - the alias's value
	first uint64 // colU32: the first present value
	shift uint
	u32   [][]int32
	u64   [][]uint64
}

// columns holds every sample, one column per region and a presence mask
// per sample.
type columns struct {
	n       int
	have    uint16 // regions that are columns at all (a CSV may hold some)
	col     [nRegions]column
	present [][]uint16
}

func newColumns(have uint16) *columns { return &columns{have: have} }

// mask is sample i's presence mask.
func (c *columns) mask(i int) uint16 { return c.present[i>>chunkShift][i&(chunkLen-1)] }

// get is region r's value in sample i (meaningful when present).
func (c *columns) get(r, i int) uint64 { return c.col[r].get(c, i) }

func (k *column) get(c *columns, i int) uint64 {
	switch k.kind {
	case colAlias:
		return c.col[k.alias].get(c, i) + k.off
	case colU32:
		return k.first + uint64(int64(k.u32[i>>chunkShift][i&(chunkLen-1)])<<k.shift)
	case colU64:
		return k.u64[i>>chunkShift][i&(chunkLen-1)]
	}
	return 0
}

// appendPresent appends region r's present values to dst.
func (c *columns) appendPresent(r int, dst []uint64) []uint64 {
	bit := uint16(1) << r
	for i := range c.n {
		if c.mask(i)&bit != 0 {
			dst = append(dst, c.get(r, i))
		}
	}
	return dst
}

// appendDiffs appends get(b) - get(a) + bias for every sample where both
// are present.
func (c *columns) appendDiffs(a, b int, bias uint64, dst []uint64) []uint64 {
	both := uint16(1)<<a | uint16(1)<<b
	for i := range c.n {
		if c.mask(i)&both == both {
			dst = append(dst, c.get(b, i)-c.get(a, i)+bias)
		}
	}
	return dst
}

func (c *columns) add(s *sample) {
	var mask uint16
	for r := range nRegions {
		if c.have&(1<<r) != 0 && s.present[r] {
			mask |= 1 << r
		}
	}
	i := c.n
	if i&(chunkLen-1) == 0 {
		c.present = append(c.present, make([]uint16, 0, chunkLen))
	}
	c.present[len(c.present)-1] = append(c.present[len(c.present)-1], mask)
	c.n++ // before the columns: widen rewrites sample i too
	for r := range nRegions {
		if c.have&(1<<r) == 0 {
			continue
		}
		c.put(r, i, s, mask)
	}
}

// put stores sample i's value of region r: in place if the column's kind
// holds it, else after widening the column.
func (c *columns) put(r, i int, s *sample, mask uint16) {
	k := &c.col[r]
	v, present := s.base[r], mask&(1<<r) != 0
	switch k.kind {
	case colEmpty:
		if !present {
			k.push32(i, 0)
			return
		}
		c.choose(r, i, s, mask)
	case colAlias:
		// Absent together: nothing to check; present together and equal
		// to the alias plus the offset: nothing to store.
		ap := mask&(1<<k.alias) != 0
		if ap == present && (!present || s.base[k.alias]+k.off == v) {
			return
		}
		c.widen(r, i, v, present)
	case colU32:
		if !present {
			k.push32(i, 0)
			return
		}
		if d, ok := k.delta(v); ok {
			k.push32(i, d)
			return
		}
		c.widen(r, i, v, present)
	case colU64:
		k.push64(i, v)
	}
}

// choose picks the kind of a column at its first present value, sample i:
// an alias of an earlier stored region present alike, else 32-bit deltas.
// Samples before i had the region absent.
func (c *columns) choose(r, i int, s *sample, mask uint16) {
	k := &c.col[r]
	if i == 0 {
		for a := range r {
			if c.have&(1<<a) != 0 && mask&(1<<a) != 0 && c.col[a].kind != colAlias && c.col[a].kind != colEmpty {
				*k = column{kind: colAlias, alias: a, off: s.base[r] - s.base[a]}
				return
			}
		}
	}
	v := s.base[r]
	shift := uint(0)
	switch tz := bits.TrailingZeros64(v); {
	case tz >= 12:
		shift = 12
	case tz >= 4:
		shift = 4
	}
	old := k.u32 // zeros for the absent samples before i
	*k = column{kind: colU32, first: v, shift: shift, u32: old}
	k.push32(i, 0)
}

// delta encodes v in a colU32 column, if it fits.
func (k *column) delta(v uint64) (int32, bool) {
	d := v - k.first
	if d&(1<<k.shift-1) != 0 {
		return 0, false
	}
	q := int64(d) >> k.shift
	if q != int64(int32(q)) {
		return 0, false
	}
	return int32(q), true
}

// widen rewrites column r, which cannot hold v (present or not) at sample
// i: into 32-bit deltas with the smallest shift its values need if they
// fit, else 64-bit values. New chunks are allocated: a snapshot of the old
// column stays valid.
func (c *columns) widen(r, i int, v uint64, present bool) {
	old := c.col[r]
	val := func(j int) (uint64, bool) {
		if j == i {
			return v, present
		}
		return old.get(c, j), c.mask(j)&(1<<r) != 0
	}
	// The lattice and range of the present values.
	var first uint64
	found := false
	shift := uint(12)
	lo, hi := int64(0), int64(0)
	for j := 0; j <= i; j++ {
		x, p := val(j)
		if !p {
			continue
		}
		if !found {
			first, found = x, true
		}
		d := int64(x - first)
		if tz := uint(bits.TrailingZeros64(uint64(d))); d != 0 && tz < shift {
			shift = tz
		}
		lo, hi = min(lo, d), max(hi, d)
	}
	if shift != 12 && shift > 4 {
		shift = 4
	}
	nk := column{kind: colU32, first: first, shift: shift}
	if lo>>shift < -1<<31 || hi>>shift >= 1<<31 {
		nk = column{kind: colU64}
	}
	for j := 0; j <= i; j++ {
		x, p := val(j)
		switch {
		case nk.kind == colU64:
			nk.push64(j, x)
		case !p:
			nk.push32(j, 0)
		default:
			d, _ := nk.delta(x)
			nk.push32(j, d)
		}
	}
	c.col[r] = nk
}

func (k *column) push32(i int, d int32) {
	if i&(chunkLen-1) == 0 {
		k.u32 = append(k.u32, make([]int32, 0, chunkLen))
	}
	k.u32[i>>chunkShift] = append(k.u32[i>>chunkShift], d)
}

func (k *column) push64(i int, v uint64) {
	if i&(chunkLen-1) == 0 {
		k.u64 = append(k.u64, make([]uint64, 0, chunkLen))
	}
	k.u64[i>>chunkShift] = append(k.u64[i>>chunkShift], v)
}

// snapshot is a view of the first n samples that stays valid while more
// are added: chunks are only appended to, and widen allocates new ones.
func (c *columns) snapshot() *columns {
	s := &columns{n: c.n, have: c.have, present: append([][]uint16(nil), c.present...)}
	for r := range c.col {
		k := c.col[r]
		k.u32 = append([][]int32(nil), k.u32...)
		k.u64 = append([][]uint64(nil), k.u64...)
		s.col[r] = k
	}
	return s
}

// storedBytes is the memory the columns hold.
func (c *columns) storedBytes() int64 {
	b := int64(len(c.present)) * chunkLen * 2
	for r := range c.col {
		b += int64(len(c.col[r].u32))*chunkLen*4 + int64(len(c.col[r].u64))*chunkLen*8
	}
	return b
}

// Memory per sample, for a run to decide up front whether it fits
// (BytesPerSample): the columns at their widest kind for the method, the
// estimation's scratch (a sorted copy of one column, 8 bytes, and its
// counts, 4), and what the sampler holds per sample in flight (none: it
// streams).
const (
	maskBytes    = 2
	scratchBytes = 8 + 4
	// FixedBytes is what a run takes whatever its sample count: the Go
	// runtime, buffers, pipes, the estimators' tables (measured: a
	// 1,000-sample run peaks at about 20 MB RSS).
	FixedBytes = 32 << 20
)

// BytesPerSample is the memory a sample of method takes at most, columns
// and estimation scratch (FixedBytes aside): vbench's own target
// (MethodChain, MethodSelfReport) has its bases on fixed lattices within
// 2^31 steps, 32-bit deltas at worst; a --target (MethodPtrace) may need
// 64-bit columns.
func BytesPerSample(method string) int64 {
	per := int64(4)
	if method == MethodPtrace || method == "" {
		per = 8
	}
	return nRegions*per + maskBytes + scratchBytes
}

// MemoryFor is the memory a run of n samples of method takes at most.
func MemoryFor(method string, n int) int64 {
	return FixedBytes + int64(n)*BytesPerSample(method)
}

// MaxSamplesFor is the largest sample count of method that fits in limit
// bytes (0 if none does).
func MaxSamplesFor(method string, limit int64) int {
	if limit <= FixedBytes {
		return 0
	}
	return int((limit - FixedBytes) / BytesPerSample(method))
}
