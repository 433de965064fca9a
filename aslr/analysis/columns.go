package analysis

import (
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

// Columns holds every sample, one column of bases per region and a
// presence mask per sample: 8 bytes per region and 2 per sample (66 bytes
// a sample, 66 MB at a million), against a map entry of tens of bytes per
// distinct value per region and pair. Estimation sorts one column at a
// time into a scratch column. It also follows the [vsyscall] page.
type Columns struct {
	n       int
	have    uint16 // regions that are columns at all (a CSV may hold some)
	base    [NRegions][]uint64
	present []uint16
	vs      vsyscallAcc
}

// NewColumns makes room for capacity samples of the regions in the mask
// have (AllRegions for a sampling run).
func NewColumns(capacity int, have uint16) *Columns {
	c := &Columns{have: have, present: make([]uint16, 0, capacity)}
	for r := range c.base {
		if have&(1<<r) != 0 {
			c.base[r] = make([]uint64, 0, capacity)
		}
	}
	return c
}

// Len is the number of samples added.
func (c *Columns) Len() int { return c.n }

// Add appends one sample.
func (c *Columns) Add(s *Sample) {
	for r := range NRegions {
		if c.have&(1<<r) != 0 {
			c.base[r] = append(c.base[r], s.Base[r])
		}
	}
	c.present = append(c.present, s.Present&c.have)
	c.n++
	c.vs.add(s)
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
// themselves, exactly as if sorted anew; at 6.18's layout 12 columns are
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
		vals := scratch[:0]
		for i := range c.n {
			if c.present[i]&(1<<r0) != 0 {
				vals = append(vals, c.base[r0][i])
			}
		}
		d := distOf(vals, counts, buf)
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
	next:
		for r0 := range r {
			if rep[r0] != r0 || c.have&(1<<r0) == 0 {
				continue
			}
			both, first := false, uint64(0)
			for i := range c.n {
				m := c.present[i]
				pr, p0 := m&(1<<r) != 0, m&(1<<r0) != 0
				if pr != p0 {
					continue next
				}
				if !pr {
					continue
				}
				d := c.base[r][i] - c.base[r0][i]
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
	vals := scratch[:0]
	for i := range c.n {
		if c.present[i]&(1<<r) != 0 {
			vals = append(vals, c.base[r][i])
		}
	}
	return distOf(vals, counts, buf)
}

// sortedDiffs is b - a + diffBias, over the samples with both, sorted in
// scratch.
func (c *Columns) sortedDiffs(a, b int, scratch []uint64, counts []int32, buf []uint64) dist {
	diffs := scratch[:0]
	both := uint16(1<<a | 1<<b)
	for i := range c.n {
		if c.present[i]&both == both {
			diffs = append(diffs, c.base[b][i]-c.base[a][i]+diffBias)
		}
	}
	return distOf(diffs, counts, buf)
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
