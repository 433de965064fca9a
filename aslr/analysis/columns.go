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
func Analyze(c *Columns, res *runfile.ASLR) {
	scratch := make([]uint64, 0, c.n)
	buf := make([]uint64, c.n) // the radix sort's other half
	counts := make([]int32, 0, c.n)
	for r := range NRegions {
		if c.have&(1<<r) == 0 {
			continue
		}
		vals := scratch[:0]
		for i := range c.n {
			if c.present[i]&(1<<r) != 0 {
				vals = append(vals, c.base[r][i])
			}
		}
		res.Regions = append(res.Regions, estimate(Regions[r], distOf(vals, counts, buf)))
	}
	for x := range NRegions {
		for y := x + 1; y < NRegions; y++ {
			if c.have&(1<<x) == 0 || c.have&(1<<y) == 0 {
				continue
			}
			var p runfile.Pair
			p, scratch = pairResult(x, y, c, res.Regions, scratch, buf, counts)
			if p.DistinctDiffs > 0 {
				res.Pairs = append(res.Pairs, p)
			}
		}
	}
	res.Vsyscall = c.vs.result(c.n)
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
