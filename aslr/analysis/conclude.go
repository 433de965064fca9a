package analysis

import (
	"fmt"
	"strings"

	"github.com/vbench-dev/vbench/runfile"
)

// Conclusions are the sentences a reader wants, computed from the data (a
// run file of any age): renderers call this rather than show the stored
// Conclusions.
func Conclusions(res *runfile.ASLR) []string {
	var out []string
	if res == nil {
		return nil
	}
	vdso := regionByName(res, "vdso")
	n := res.Samples
	arm := annotatedArm64(res)
	if res.Interrupted {
		out = append(out, fmt.Sprintf("interrupted: %d of %d samples gathered; figures are for those", n, res.Requested))
	}
	if res.InheritedNoRandomize && !res.NoRandomize {
		out = append(out, "NOT RANDOMIZED: vbench ran with the ADDR_NO_RANDOMIZE personality (as under 'setarch -R') and every spawn inherited it: these figures measure no ASLR; run vbench outside setarch -R")
	}
	switch {
	case vdso == nil:
	case vdso.Present == 0:
		out = append(out, "no vDSO in any sample (vdso=0 on the kernel command line, or a kernel without one)")
	default:
		kind := ""
		if vdso.Entropy != "" {
			kind = " (" + EntropyWords(vdso.Entropy) + ")"
		}
		out = append(out, fmt.Sprintf("vDSO base: %.1f effective bits%s over %d samples (%d distinct, %d varying bits, range %#x-%#x) - %s",
			vdso.Effective, kind, n, vdso.Distinct, vdso.VaryingBits, vdso.Min, vdso.Max, RuleWords(*vdso)))
		if p := pairByName(res, "vdso", "mmap"); p != nil && p.DistinctDiffs == 1 && vdso.Distinct > 1 {
			where := "Linux 6.9+"
			if arm {
				where = "arm64: get_unmapped_area() in arch/arm64/kernel/vdso.c, in every version"
			}
			s := fmt.Sprintf("the vDSO moves with the mmap base (vDSO - mmap = %s in every sample): it is placed in the mmap region (%s) and adds no entropy beyond the mmap base", signedHex(-p.Offset), where)
			if q := pairByName(res, "exe", "mmap"); q != nil && q.DistinctDiffs == 1 && q.Offset == 0 {
				s += "; here the mmap base is the executable itself, a static PIE the kernel loads in the mmap region"
			}
			out = append(out, s)
		}
		// Linux <= 6.8 (vdso_addr()): the vDSO sits a small random distance
		// above the stack. The pair is (vdso, stack): B - A = stack - vdso.
		if p := pairByName(res, "vdso", "stack"); p != nil && p.DistinctDiffs > 1 && aboveStack(p) {
			where := fmt.Sprintf("%s to %s above the start of [stack]", byteSize(uint64(-p.MaxDiff)), byteSize(uint64(-p.MinDiff)))
			if q := pairByName(res, "vdso", "sp"); q != nil && q.MaxDiff < 0 {
				where += fmt.Sprintf(", %s to %s above the initial stack pointer", byteSize(uint64(-q.MaxDiff)), byteSize(uint64(-q.MinDiff)))
			}
			out = append(out, fmt.Sprintf("the vDSO sits just above the stack (vdso_addr(), Linux <= 6.8): %s; %d distinct offsets from [stack], %.1f bits beyond the stack's own",
				where, p.DistinctDiffs, p.DiffBits))
		}
		if p := pairByName(res, "vdso", "vvar"); p != nil && p.DistinctDiffs == 1 {
			out = append(out, fmt.Sprintf("[vvar] is at a fixed offset from the vDSO (vvar - vdso = %s)", signedHex(p.Offset)))
		}
	}
	out = append(out, groups(res)...)
	for _, r := range res.Regions {
		if r.AboveKernelMax {
			out = append(out, "ABOVE THE KERNEL MAXIMUM: "+AboveWords(r, Max{r.KernelMaxBits, r.KernelMaxSource, true}))
		}
	}
	if res.NoRandomize {
		all := true
		for _, r := range res.Regions {
			if r.Present > 0 && r.Distinct > 1 {
				all = false
				out = append(out, fmt.Sprintf("control run: %s still varies (%d distinct) under ADDR_NO_RANDOMIZE", r.Name, r.Distinct))
			}
		}
		if all {
			var at []string
			for _, r := range res.Regions {
				if r.Present > 0 {
					at = append(at, fmt.Sprintf("%s %#x", r.Name, r.Min))
				}
			}
			out = append(out, "control run (ADDR_NO_RANDOMIZE): every region has one value in every sample, as expected: "+strings.Join(at, ", "))
		}
	}
	if v := res.Vsyscall; v != nil {
		switch {
		case v.Mapped == 0 && arm:
			out = append(out, "[vsyscall]: not mapped in any sample (arm64 has no vsyscall page): 0 bits, nothing to find")
		case v.Mapped == 0:
			out = append(out, "[vsyscall]: not mapped in any sample (vsyscall=none): 0 bits, nothing to find")
		case v.Mapped == n && v.Fixed:
			out = append(out, fmt.Sprintf("[vsyscall]: fixed at %#x (%s) in every sample: 0 bits of entropy", v.Addr, v.Perms))
		default:
			out = append(out, fmt.Sprintf("[vsyscall]: mapped in %d of %d samples", v.Mapped, n))
		}
	}
	return out
}

// aboveStack: the vDSO above the stack by less than vdso_addr()'s reach
// (the next 2 MiB boundary, plus the vDSO's own size), in every sample.
func aboveStack(p *runfile.Pair) bool {
	return p.MaxDiff < 0 && p.MinDiff > -(4<<20) && (p.Related || p.OwnFrom == "")
}

// groups names the sets of randomized regions that move together: one
// offset between each two in every sample, so the set is one secret.
// Then the regions that follow another with a few bits of their own.
func groups(res *runfile.ASLR) []string {
	idx := map[string]int{}
	for i, r := range res.Regions {
		idx[r.Name] = i
	}
	parent := make([]int, len(res.Regions))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		if parent[i] != i {
			parent[i] = find(parent[i])
		}
		return parent[i]
	}
	moving := func(name string) bool {
		i, ok := idx[name]
		return ok && res.Regions[i].Present > 0 && res.Regions[i].Distinct > 1
	}
	for _, p := range res.Pairs {
		if p.DistinctDiffs == 1 && moving(p.A) && moving(p.B) {
			parent[find(idx[p.A])] = find(idx[p.B])
		}
	}
	members := map[int][]string{}
	var roots []int
	for i, r := range res.Regions {
		if !moving(r.Name) {
			continue
		}
		root := find(i)
		if len(members[root]) == 0 {
			roots = append(roots, root)
		}
		members[root] = append(members[root], r.Name)
	}
	var out []string
	for _, root := range roots {
		if m := members[root]; len(m) > 1 {
			first := res.Regions[idx[m[0]]]
			out = append(out, fmt.Sprintf("%s move together (a fixed offset between each two in every sample): one secret of %.1f bits, not %d",
				strings.Join(m, ", "), first.Effective, len(m)))
		}
	}
	seen := map[[2]int]bool{} // one sentence per two groups
	for _, p := range res.Pairs {
		if !p.Related || p.DistinctDiffs <= 1 {
			continue
		}
		ga, gb := find(idx[p.A]), find(idx[p.B])
		if ga != gb && !seen[[2]int{ga, gb}] {
			seen[[2]int{ga, gb}], seen[[2]int{gb, ga}] = true, true
			out = append(out, PairWords(p, res.Regions))
		}
	}
	return out
}
