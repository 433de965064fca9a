package probes

import (
	"context"
	"errors"
	"time"

	"github.com/vbench-dev/vbench/runfile"
)

// BenchConfig selects what Bench measures and how long.
type BenchConfig struct {
	Functions []string // nil: all
	Paths     []string // nil: all
	Clocks    []string // nil: all
	CPU       int      // -1: the CPU the caller starts on
	Count     int
	Benchtime time.Duration
	Latency   bool // also run the per-call (rdtscp) latency mode
}

// DefaultBenchConfig is what `vbench bench` does without flags.
func DefaultBenchConfig() BenchConfig {
	return BenchConfig{CPU: -1, Count: 10, Benchtime: 20 * time.Millisecond, Latency: true}
}

// Bench measures every selected cell. progress, if not nil, is called with
// cells done and the total.
func Bench(ctx context.Context, cfg BenchConfig, progress func(done, total int)) (*runfile.Bench, error) {
	return nil, errors.New("bench: not implemented yet")
}
