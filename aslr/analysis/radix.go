package analysis

import "slices"

// sortUint64 sorts v ascending: a least-significant-digit radix sort on
// 16-bit digits, O(N) for the 64-bit keys (at most 4 passes over the
// data, fewer when a digit is the same in every key, as the high bits of
// addresses are), against O(N log N) comparisons: at 10 million bases a
// comparison sort took most of the estimation time. buf is the other half
// of the sort, at least len(v) long, or nil to allocate one. Short slices
// take slices.Sort.
func sortUint64(v, buf []uint64) {
	if len(v) < 1<<12 {
		slices.Sort(v)
		return
	}
	if len(buf) < len(v) {
		buf = make([]uint64, len(v))
	}
	buf = buf[:len(v)]
	var count [4][1 << 16]int
	for _, x := range v {
		count[0][x&0xffff]++
		count[1][x>>16&0xffff]++
		count[2][x>>32&0xffff]++
		count[3][x>>48]++
	}
	src, dst := v, buf
	for d := range 4 {
		c := &count[d]
		if c[(v[0]>>(16*d))&0xffff] == len(v) {
			continue // every key has this digit: nothing moves
		}
		sum := 0
		for i := range c {
			c[i], sum = sum, sum+c[i]
		}
		shift := uint(16 * d)
		for _, x := range src {
			k := x >> shift & 0xffff
			dst[c[k]] = x
			c[k]++
		}
		src, dst = dst, src
	}
	if &src[0] != &v[0] {
		copy(v, src)
	}
}

func sortInts(v []int) { slices.Sort(v) }
