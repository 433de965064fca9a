package study

import (
	"errors"
	"testing"
	"time"

	"github.com/vbench-dev/vbench/aslr"
	"github.com/vbench-dev/vbench/internal/field"
	"github.com/vbench-dev/vbench/probes"
	"github.com/vbench-dev/vbench/runfile"
)

// TestConfigValidate: a bad field of the study or of a part that runs is
// an error naming its path from Config; a part that does not run is not
// checked.
func TestConfigValidate(t *testing.T) {
	good := func() Config {
		return Config{Bench: probes.DefaultBenchConfig(), ASLR: aslr.Config{Samples: 10}}
	}
	if err := good().Validate(); err != nil {
		t.Fatalf("a good config: %v", err)
	}
	for _, c := range []struct {
		mutate func(*Config)
		field  string
		kind   error
	}{
		{func(c *Config) { c.Parts = []runfile.Part{"frobnicate"} }, "Parts", ErrBadConfig},
		{func(c *Config) { c.BenchBudget = -time.Second }, "BenchBudget", ErrBadConfig},
		{func(c *Config) { c.ASLRBudget = -time.Second }, "ASLRBudget", ErrBadConfig},
		{func(c *Config) { c.Bench.Count = 0 }, "Bench.Count", probes.ErrBadConfig},
		{func(c *Config) { c.Bench.CPU = 1 << 20 }, "Bench.CPU", probes.ErrBadCPU},
		{func(c *Config) { c.ASLR.Samples = aslr.MaxSamples + 1 }, "ASLR.Samples", aslr.ErrConfig},
	} {
		cfg := good()
		c.mutate(&cfg)
		err := cfg.Validate()
		var fe *field.Error
		if !errors.As(err, &fe) || fe.Field != c.field || !errors.Is(err, c.kind) {
			t.Errorf("%s: %v, want an error naming %s", c.field, err, c.field)
		}
	}
	// Parts that do not run are not checked.
	cfg := good()
	cfg.Parts = []runfile.Part{runfile.PartASLR}
	cfg.Bench.Count = 0
	if err := cfg.Validate(); err != nil {
		t.Errorf("bench not run, bad count: %v", err)
	}
	cfg = good()
	cfg.Parts = []runfile.Part{runfile.PartBench}
	cfg.ASLR.Samples = aslr.MaxSamples + 1
	if err := cfg.Validate(); err != nil {
		t.Errorf("aslr not run, bad samples: %v", err)
	}
	cfg = good()
	cfg.ASLR.Samples = 0 // sampling until narrow
	if err := cfg.Validate(); err != nil {
		t.Errorf("aslr until narrow: %v", err)
	}
}
