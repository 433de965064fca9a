package analysis

import (
	"math/rand/v2"
	"testing"
)

// Every value put in the compact columns comes back, whatever the kinds
// the columns go through: an alias broken late, a region absent at first,
// a first value more aligned than the rest, values out of 32-bit range,
// presence that differs between a region and its alias.
func TestCompactColumnsKeepEveryValue(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	const n = 3*chunkLen + 123
	c := NewColumns(0, AllRegions)
	want := make([]Sample, n)
	for i := range n {
		var s Sample
		m := 0x7f0000000000 + rng.Uint64N(1<<28)*4096
		s.Set(Vdso, m-0x2000)
		s.Set(Vvar, m-0x8000) // an alias of vdso throughout
		if i < 2*chunkLen {
			s.Set(VvarVclock, m-0x4000) // an alias, broken late
		} else {
			s.Set(VvarVclock, m+rng.Uint64N(16)*4096)
		}
		st := 0x7ffc00000000 + rng.Uint64N(1<<22)*4096
		if i > 5 {
			s.Set(Stack, st) // absent at first
		}
		sp := st + 0x1ee20 + rng.Uint64N(512)*16
		if i == 0 {
			sp = st + 0x20000 // page aligned first: shift 12, then 4
		}
		s.Set(SP, sp)
		if i%3 != 0 {
			s.Set(Exe, m) // present unlike its alias candidate
		}
		s.Set(Mmap, rng.Uint64()) // anything: 64-bit values
		if i == 1000 {
			s.Set(Heap, 0x555555554000+rng.Uint64N(1<<18)*4096+3) // off the page lattice once
		} else {
			s.Set(Heap, 0x555555554000+rng.Uint64N(1<<18)*4096)
		}
		want[i] = s
		c.Add(&s)
		if i == chunkLen+5 {
			snap := c.Snapshot()
			defer func() { checkColumns(t, snap, want[:snap.Len()]) }()
		}
	}
	checkColumns(t, c, want)
	if c.col[Vvar].kind != colAlias || c.col[Vdso].kind != colU32 || c.col[Stack].kind != colU32 || c.col[SP].kind != colU32 || c.col[Mmap].kind != colU64 {
		t.Errorf("kinds: vdso %d vvar %d stack %d sp %d mmap %d", c.col[Vdso].kind, c.col[Vvar].kind, c.col[Stack].kind, c.col[SP].kind, c.col[Mmap].kind)
	}
	if c.col[SP].shift != 4 || c.col[Vdso].shift != 12 {
		t.Errorf("shifts: sp %d, vdso %d", c.col[SP].shift, c.col[Vdso].shift)
	}
}

func checkColumns(t *testing.T, c *Columns, want []Sample) {
	t.Helper()
	if c.Len() != len(want) {
		t.Fatalf("%d samples, want %d", c.Len(), len(want))
	}
	for i, s := range want {
		if c.mask(i) != s.Present {
			t.Fatalf("sample %d: mask %#x, want %#x", i, c.mask(i), s.Present)
		}
		for r := range NRegions {
			if s.Has(r) && c.get(r, i) != s.Base[r] {
				t.Fatalf("sample %d, %s: %#x, want %#x (kind %d)", i, Regions[r], c.get(r, i), s.Base[r], c.col[r].kind)
			}
		}
	}
}
