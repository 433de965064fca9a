package aslr

import (
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vbench-dev/vbench/internal/field"
)

// Bounds of Config, the one place `vbench aslr`, `vbench run` and a guest
// take them from.
const (
	// MaxSamples bounds Samples: memory grows by about 100 bytes a sample
	// (102 MB measured at 1,000,000), so ten million stays near 1 GB.
	MaxSamples = 10_000_000
	// MaxWorkers bounds Workers: more spawning threads than this only
	// contend (two were already slower than one on the project's VM).
	MaxWorkers = 64
	// MaxCeiling bounds Ceiling, the time spent measuring the spawn
	// ceiling.
	MaxCeiling = time.Minute
	// MaxBudget bounds Budget, the time sampling until narrow may take.
	MaxBudget = time.Hour
)

// Validate reports the first field of cfg that Study cannot run with, as a
// *field.Error naming it ("Samples 0: want 1 to 10000000"), wrapping
// ErrConfig, or ErrTarget for a Target that is missing, not a regular file
// or not executable.
func (cfg Config) Validate() error {
	bad := func(name string, v any, format string, a ...any) error {
		return field.Errorf(ErrConfig, name, v, format, a...)
	}
	switch {
	case cfg.Samples < 0 || cfg.Samples > MaxSamples:
		return bad("Samples", cfg.Samples, "want 1 to %d, or 0 to sample until every region is measured", MaxSamples)
	case cfg.Budget < 0 || cfg.Budget > MaxBudget:
		return bad("Budget", cfg.Budget, "want 0 (DefaultBudget) to %v", MaxBudget)
	case cfg.MaxSamples < 0 || cfg.MaxSamples > MaxSamples:
		return bad("MaxSamples", cfg.MaxSamples, "want 0 (DefaultMaxSamples) to %d", MaxSamples)
	case cfg.Workers < 0 || cfg.Workers > MaxWorkers:
		return bad("Workers", cfg.Workers, "want 0 (automatic) to %d", MaxWorkers)
	case cfg.Ceiling < 0 || cfg.Ceiling > MaxCeiling:
		return bad("Ceiling", cfg.Ceiling, "want 0 (do not measure) to %v", MaxCeiling)
	}
	if _, err := cfg.method(); err != nil {
		return field.Errorf(ErrConfig, "Method", cfg.Method, "%v", err)
	}
	if cfg.Target != "" {
		return checkTarget(cfg.Target)
	}
	return nil
}

// checkTarget reports a target program that cannot be spawned: missing,
// not a regular file, not executable.
func checkTarget(path string) error {
	bad := func(format string, a ...any) error {
		return field.Errorf(ErrTarget, "Target", path, format, a...)
	}
	st, err := os.Stat(path)
	switch {
	case err != nil:
		return bad("%v", unwrapPath(err))
	case !st.Mode().IsRegular():
		return bad("not a regular file")
	case unix.Access(path, unix.X_OK) != nil:
		return bad("not executable")
	}
	return nil
}

// unwrapPath is err without the path a *os.PathError repeats.
func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}
