package probes

import (
	"errors"
	"time"

	"github.com/vbench-dev/vbench/internal/field"
)

// Bounds of BenchConfig: beyond them a run would not fit in memory (every
// sample is kept, with its counts) or in an afternoon.
const (
	MaxCount      = 10000
	MaxBenchtime  = 10 * time.Second
	MaxRetryNoisy = time.Hour
)

// ErrBadConfig is wrapped by the error for a field of BenchConfig out of
// bounds.
var ErrBadConfig = errors.New("bad bench configuration")

// WithDefaults returns cfg with its zero Count, Benchtime, LatencyCalls and
// LatencyTime set to DefaultBenchConfig's.
func (cfg BenchConfig) WithDefaults() BenchConfig {
	def := DefaultBenchConfig()
	if cfg.Count == 0 {
		cfg.Count = def.Count
	}
	if cfg.Benchtime == 0 {
		cfg.Benchtime = def.Benchtime
	}
	if cfg.LatencyCalls == 0 {
		cfg.LatencyCalls = def.LatencyCalls
	}
	if cfg.LatencyTime == 0 {
		cfg.LatencyTime = def.LatencyTime
	}
	return cfg
}

// Validate reports the first field of cfg that Bench cannot run with, as a
// *field.Error naming it ("Count 0: want 1 to 10000 samples per cell"):
// counts and durations out of bounds (zero ones included: WithDefaults
// fills them), a CPU this process may not run on (wrapping ErrBadCPU), an
// unknown function, path or clock (wrapping ErrUnknownName). Other errors
// wrap ErrBadConfig.
func (cfg BenchConfig) Validate() error {
	bad := func(name string, v any, format string, a ...any) error {
		return field.Errorf(ErrBadConfig, name, v, format, a...)
	}
	switch {
	case cfg.Count < 1 || cfg.Count > MaxCount:
		return bad("Count", cfg.Count, "want 1 to %d samples per cell", MaxCount)
	case cfg.Benchtime <= 0 || cfg.Benchtime > MaxBenchtime:
		return bad("Benchtime", cfg.Benchtime, "want a positive duration of at most %v per sample", MaxBenchtime)
	case cfg.RetryNoisy < 0 || cfg.RetryNoisy > MaxRetryNoisy:
		return bad("RetryNoisy", cfg.RetryNoisy, "want 0 (off) to %v", MaxRetryNoisy)
	case cfg.LatencyCalls < 1:
		return bad("LatencyCalls", cfg.LatencyCalls, "want at least 1 call")
	case cfg.LatencyTime <= 0:
		return bad("LatencyTime", cfg.LatencyTime, "want a positive duration")
	}
	if cfg.CPU < -1 {
		return bad("CPU", cfg.CPU, "give a CPU number, or -1 for the one vbench starts on")
	}
	if err := CheckCPU(cfg.CPU); err != nil {
		return err
	}
	_, err := cfg.NormalizeNames()
	return err
}
