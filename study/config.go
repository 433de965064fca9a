package study

import (
	"errors"

	"github.com/vbench-dev/vbench/internal/field"
	"github.com/vbench-dev/vbench/probes/verify"
	"github.com/vbench-dev/vbench/runfile"
)

// SkipASLR as ASLR.Samples skips the ASLR part.
const SkipASLR = -1

// ErrBadConfig is wrapped by the error for a field of Config itself out of
// bounds; the parts' own errors wrap their packages' sentinels.
var ErrBadConfig = errors.New("bad study configuration")

// Validate reports the first field of cfg the study cannot run with, as a
// *field.Error whose field is the path from Config ("Bench.Count",
// "ASLR.Samples", "Parts"): the configuration of each part that runs is
// validated by that part's package, as given (a zero Count is an error
// here, though probes.Bench would fill it in), and an ASLR part with
// Samples SkipASLR is a part that does not run (Samples 0 samples until
// every region is measured, within ASLRBudget).
func (cfg Config) Validate() error {
	for _, p := range cfg.Parts {
		if !p.Known() {
			return field.Errorf(ErrBadConfig, "Parts", nil, "unknown part %q (valid: %s)", p, runfile.Join(runfile.Parts, ", "))
		}
	}
	switch {
	case cfg.BenchBudget < 0:
		return field.Errorf(ErrBadConfig, "BenchBudget", cfg.BenchBudget, "want 0 (none) or a positive duration")
	case cfg.ASLRBudget < 0:
		return field.Errorf(ErrBadConfig, "ASLRBudget", cfg.ASLRBudget, "want 0 (none) or a positive duration")
	}
	if cfg.runs(runfile.PartBench) {
		if err := cfg.Bench.Validate(); err != nil {
			return field.In("Bench", err)
		}
	}
	if cfg.runs(runfile.PartVerify) {
		if err := (verify.Config{CPU: cfg.Bench.CPU}).Validate(); err != nil {
			return field.In("Bench", err) // verify runs on the bench's CPU
		}
	}
	if cfg.runs(runfile.PartASLR) && cfg.ASLR.Samples != SkipASLR {
		if err := cfg.ASLR.Validate(); err != nil {
			return field.In("ASLR", err)
		}
	}
	return nil
}
