package aslr

import "github.com/vbench-dev/vbench/aslr/analysis"

// FixedBytes is what a run takes whatever its sample count: the Go
// runtime, buffers, pipes, the estimators' tables (a 1,000-sample run
// peaks at about 20 MB RSS).
const FixedBytes = 32 << 20

// BytesPerSample is the memory a sample of method takes at most (columns
// and estimation scratch, analysis.BytesPerSample; FixedBytes aside):
// vbench's own target (MethodChain, MethodSelfReport) has its bases on
// fixed lattices within 2^31 steps, 32-bit deltas at worst; a --target
// (MethodPtrace, or "" for an unknown method) may need 64-bit columns.
func BytesPerSample(method string) int64 {
	return analysis.BytesPerSample(method == MethodChain || method == MethodSelfReport)
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
