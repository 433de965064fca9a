package analysis

import (
	"math/bits"

	"github.com/vbench-dev/vbench/runfile"
)

// Regions are the regions a sample holds, in column and table order; the
// sampler (package aslr, sample.go) says how it reads each base:
//
//	vdso         start of [vdso] (= AT_SYSINFO_EHDR)
//	vvar         start of [vvar]
//	vvar_vclock  start of [vvar_vclock] (Linux 6.13+)
//	stack        start of the [stack] mapping (page granular)
//	sp           the initial stack pointer (adds arch_align_stack's offset)
//	exe          lowest mapping of the executable's file
//	mmap         the first thing the kernel put in the mmap region
//	heap         start_brk
var Regions = []string{"vdso", "vvar", "vvar_vclock", "stack", "sp", "exe", "mmap", "heap"}

// Region indexes into Regions and Sample.Base.
const (
	Vdso = iota
	Vvar
	VvarVclock
	Stack
	SP
	Exe
	Mmap
	Heap
	NRegions
)

// Sample is the layout of one spawn as the analysis reads it.
type Sample struct {
	Base [NRegions]uint64
	// Present has bit r set when region r existed in the spawn.
	Present uint16
	// Vsyscall is the [vsyscall] page's address, VsyscallPerms its
	// permissions; "" when it was not mapped.
	Vsyscall      uint64
	VsyscallPerms string
}

// Set records region r at v.
func (s *Sample) Set(r int, v uint64) { s.Base[r], s.Present = v, s.Present|1<<r }

// Has reports whether region r is present.
func (s *Sample) Has(r int) bool { return s.Present&(1<<r) != 0 }

// AllRegions is the column mask of a sampling run: every region a column.
const AllRegions = 1<<NRegions - 1

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

// Columns holds every sample, one column per region and a presence mask
// per sample, and follows the [vsyscall] page. Estimation copies one
// column at a time into a scratch column and sorts it.
type Columns struct {
	n       int
	have    uint16 // regions that are columns at all (a CSV may hold some)
	col     [NRegions]column
	present [][]uint16
	vs      vsyscallAcc
}

// NewColumns makes columns for the regions in the mask have (AllRegions
// for a sampling run); capacity is a hint no longer needed (the columns
// grow by chunks), kept for its callers.
func NewColumns(capacity int, have uint16) *Columns { return &Columns{have: have} }

// Len is the number of samples added.
func (c *Columns) Len() int { return c.n }

// mask is sample i's presence mask.
func (c *Columns) mask(i int) uint16 { return c.present[i>>chunkShift][i&(chunkLen-1)] }

// get is region r's value in sample i (meaningful when present).
func (c *Columns) get(r, i int) uint64 { return c.col[r].get(c, i) }

func (k *column) get(c *Columns, i int) uint64 {
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

// AppendPresent appends region r's present values to dst.
func (c *Columns) AppendPresent(r int, dst []uint64) []uint64 {
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
func (c *Columns) appendDiffs(a, b int, bias uint64, dst []uint64) []uint64 {
	both := uint16(1)<<a | uint16(1)<<b
	for i := range c.n {
		if c.mask(i)&both == both {
			dst = append(dst, c.get(b, i)-c.get(a, i)+bias)
		}
	}
	return dst
}

// Add appends one sample.
func (c *Columns) Add(s *Sample) {
	mask := s.Present & c.have
	c.vs.add(s)
	i := c.n
	if i&(chunkLen-1) == 0 {
		c.present = append(c.present, make([]uint16, 0, chunkLen))
	}
	c.present[len(c.present)-1] = append(c.present[len(c.present)-1], mask)
	c.n++ // before the columns: widen rewrites sample i too
	for r := range NRegions {
		if c.have&(1<<r) == 0 {
			continue
		}
		c.put(r, i, s, mask)
	}
}

// put stores sample i's value of region r: in place if the column's kind
// holds it, else after widening the column.
func (c *Columns) put(r, i int, s *Sample, mask uint16) {
	k := &c.col[r]
	v, present := s.Base[r], mask&(1<<r) != 0
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
		if ap == present && (!present || s.Base[k.alias]+k.off == v) {
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
func (c *Columns) choose(r, i int, s *Sample, mask uint16) {
	k := &c.col[r]
	if i == 0 {
		for a := range r {
			if c.have&(1<<a) != 0 && mask&(1<<a) != 0 && c.col[a].kind != colAlias && c.col[a].kind != colEmpty {
				*k = column{kind: colAlias, alias: a, off: s.Base[r] - s.Base[a]}
				return
			}
		}
	}
	v := s.Base[r]
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
func (c *Columns) widen(r, i int, v uint64, present bool) {
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

// Snapshot is a view of the samples so far that stays valid while more
// are added (from one goroutine; the view may be read from another):
// chunks are only appended to, and widen allocates new ones.
func (c *Columns) Snapshot() *Columns {
	s := &Columns{n: c.n, have: c.have, present: append([][]uint16(nil), c.present...), vs: c.vs.copy()}
	for r := range c.col {
		k := c.col[r]
		k.u32 = append([][]int32(nil), k.u32...)
		k.u64 = append([][]uint64(nil), k.u64...)
		s.col[r] = k
	}
	return s
}

// StoredBytes is the memory the columns hold.
func (c *Columns) StoredBytes() int64 {
	b := int64(len(c.present)) * chunkLen * 2
	for r := range c.col {
		b += int64(len(c.col[r].u32))*chunkLen*4 + int64(len(c.col[r].u64))*chunkLen*8
	}
	return b
}

// Memory per sample, for a run to decide up front whether it fits: the
// columns at their widest kind, the estimation's scratch (a sorted copy of
// one column and the radix sort's other half, 8 + 8 bytes, and its counts,
// 4), and nothing per sample in flight (the sampler streams).
const (
	maskBytes    = 2
	scratchBytes = 8 + 8 + 4
)

// BytesPerSample is the memory a sample takes at most, columns and
// estimation scratch: with narrow, every column 32-bit deltas at worst
// (bases on fixed lattices within 2^31 steps of the first, as vbench's own
// target's are), else 64-bit values.
func BytesPerSample(narrow bool) int64 {
	per := int64(8)
	if narrow {
		per = 4
	}
	return NRegions*per + maskBytes + scratchBytes
}

// EstimateRegions estimates every region of c, without the pairs (what
// sampling until narrow checks on a Snapshot).
func EstimateRegions(c *Columns) []runfile.Region {
	scratch := make([]uint64, 0, c.n)
	buf := make([]uint64, c.n)
	counts := make([]int32, 0, c.n)
	var regs []runfile.Region
	for r := range NRegions {
		if c.have&(1<<r) == 0 {
			continue
		}
		vals := c.AppendPresent(r, scratch[:0])
		regs = append(regs, estimate(Regions[r], distOf(vals, counts, buf)))
	}
	return regs
}

// Analyze fills res.Regions, res.Pairs and res.Vsyscall from the samples.
//
// Regions that move together (present in the same samples, one offset
// between them in every one, as the vDSO, vvar, the executable and the
// mmap base do since Linux 6.9) have the same values but for that offset:
// one column is sorted, and the others' sorted values are that column
// shifted (class, below), which orders them alike unless a value wraps
// around 2^64 (then the column is sorted). Pairs likewise: the
// differences of (x, y) and of (x', y'), x' moving with x and y' with y,
// differ by one offset. Each estimate is then computed from the values
// themselves, exactly as if sorted anew; at 6.18's layout 13 columns are
// sorted instead of 36.
func Analyze(c *Columns, res *runfile.ASLR) {
	scratch := make([]uint64, 0, c.n)
	buf := make([]uint64, c.n) // the radix sort's other half
	counts := make([]int32, 0, c.n)
	rep, off := c.classes()

	// Regions, class by class.
	var regs [NRegions]*runfile.Region
	for r0 := range NRegions {
		if c.have&(1<<r0) == 0 || rep[r0] != r0 {
			continue
		}
		d := distOf(c.AppendPresent(r0, scratch[:0]), counts, buf)
		g := estimate(Regions[r0], d)
		regs[r0] = &g
		at := off[r0]
		for r := r0 + 1; r < NRegions; r++ {
			if c.have&(1<<r) == 0 || rep[r] != r0 {
				continue
			}
			if !shift(d.vals, off[r]-at) {
				d = c.sortedRegion(r, scratch, counts, buf)
			}
			at = off[r]
			g := estimate(Regions[r], d)
			regs[r] = &g
		}
	}
	for r := range NRegions {
		if regs[r] != nil {
			res.Regions = append(res.Regions, *regs[r])
		}
	}

	// Pairs, grouped by the classes of their two regions.
	var pairs [NRegions][NRegions]*runfile.Pair
	for x := range NRegions {
		for y := x + 1; y < NRegions; y++ {
			if c.have&(1<<x) == 0 || c.have&(1<<y) == 0 || pairs[x][y] != nil {
				continue
			}
			d := c.sortedDiffs(x, y, scratch, counts, buf)
			p := pairOf(x, y, d, res.Regions)
			pairs[x][y] = &p
			at := off[y] - off[x]
			for x2 := x; x2 < NRegions; x2++ {
				for y2 := x2 + 1; y2 < NRegions; y2++ {
					if pairs[x2][y2] != nil || rep[x2] != rep[x] || rep[y2] != rep[y] || c.have&(1<<x2) == 0 || c.have&(1<<y2) == 0 {
						continue
					}
					if !shift(d.vals, off[y2]-off[x2]-at) {
						d = c.sortedDiffs(x2, y2, scratch, counts, buf)
					}
					at = off[y2] - off[x2]
					p := pairOf(x2, y2, d, res.Regions)
					pairs[x2][y2] = &p
				}
			}
		}
	}
	for x := range NRegions {
		for y := x + 1; y < NRegions; y++ {
			if p := pairs[x][y]; p != nil && p.DistinctDiffs > 0 {
				res.Pairs = append(res.Pairs, *p)
			}
		}
	}
	res.Vsyscall = c.vs.result(c.n)
}

// classes finds the regions that move together: rep[r] is the first
// region r moves with (itself if none), off[r] = base[r] - base[rep[r]] in
// every sample. Moving together means present in the same samples, at
// least one, with one offset in all of them.
func (c *Columns) classes() (rep [NRegions]int, off [NRegions]uint64) {
	for r := range NRegions {
		rep[r] = r
		if c.have&(1<<r) == 0 {
			continue
		}
		if k := c.col[r]; k.kind == colAlias { // present with it, one offset: known already
			rep[r], off[r] = rep[k.alias], off[k.alias]+k.off
			continue
		}
	next:
		for r0 := range r {
			if rep[r0] != r0 || c.have&(1<<r0) == 0 {
				continue
			}
			both, first := false, uint64(0)
			for i := range c.n {
				m := c.mask(i)
				pr, p0 := m&(1<<r) != 0, m&(1<<r0) != 0
				if pr != p0 {
					continue next
				}
				if !pr {
					continue
				}
				d := c.get(r, i) - c.get(r0, i)
				if !both {
					both, first = true, d
				} else if d != first {
					continue next
				}
			}
			if both {
				rep[r], off[r] = r0, first
				break
			}
		}
	}
	return rep, off
}

// shift adds delta (mod 2^64) to sorted values, and reports whether they
// are still sorted: false when one wrapped around 2^64 (the values are
// then unchanged, to be sorted anew).
func shift(vals []uint64, delta uint64) bool {
	if delta == 0 || len(vals) == 0 {
		return true
	}
	lo, hi := vals[0], vals[len(vals)-1]
	if lo+delta < lo != (hi+delta < hi) { // some wrap, some do not
		return false
	}
	for i := range vals {
		vals[i] += delta
	}
	return true
}

// sortedRegion is region r's values sorted, in scratch.
func (c *Columns) sortedRegion(r int, scratch []uint64, counts []int32, buf []uint64) dist {
	return distOf(c.AppendPresent(r, scratch[:0]), counts, buf)
}

// sortedDiffs is b - a + diffBias, over the samples with both, sorted in
// scratch.
func (c *Columns) sortedDiffs(a, b int, scratch []uint64, counts []int32, buf []uint64) dist {
	return distOf(c.appendDiffs(a, b, diffBias, scratch[:0]), counts, buf)
}

// vsyscallAcc follows the [vsyscall] page across samples.
type vsyscallAcc struct {
	mapped int
	addrs  map[uint64]bool
	perms  string
}

func (v *vsyscallAcc) add(s *Sample) {
	if s.VsyscallPerms == "" {
		return
	}
	if v.addrs == nil {
		v.addrs = map[uint64]bool{}
	}
	v.mapped++
	v.addrs[s.Vsyscall] = true
	v.perms = s.VsyscallPerms
}

func (v *vsyscallAcc) copy() vsyscallAcc {
	c := *v
	if v.addrs != nil {
		c.addrs = make(map[uint64]bool, len(v.addrs))
		for a := range v.addrs {
			c.addrs[a] = true
		}
	}
	return c
}

func (v *vsyscallAcc) result(n int) *runfile.Vsyscall {
	r := &runfile.Vsyscall{Mapped: v.mapped, Perms: v.perms, Fixed: len(v.addrs) <= 1 && (v.mapped == 0 || v.mapped == n)}
	for a := range v.addrs {
		r.Addr = a
	}
	if len(v.addrs) > 1 {
		r.Entropy = -1 // never seen on Linux: the page is fixed by the ABI
	}
	return r
}

func regionByName(res *runfile.ASLR, name string) *runfile.Region {
	for i := range res.Regions {
		if res.Regions[i].Name == name {
			return &res.Regions[i]
		}
	}
	return nil
}

func pairByName(res *runfile.ASLR, a, b string) *runfile.Pair {
	for i := range res.Pairs {
		p := &res.Pairs[i]
		if (p.A == a && p.B == b) || (p.A == b && p.B == a) {
			return p
		}
	}
	return nil
}

// Sample is sample i as it was added (its [vsyscall] page aside).
func (c *Columns) Sample(i int) Sample {
	s := Sample{Present: c.mask(i)}
	for r := range NRegions {
		if s.Has(r) {
			s.Base[r] = c.get(r, i)
		}
	}
	return s
}
