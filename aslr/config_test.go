package aslr

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vbench-dev/vbench/internal/field"
)

// TestConfigValidate: each field out of bounds is an error naming it; the
// bounds themselves pass.
func TestConfigValidate(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain")
	if err := os.WriteFile(plain, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		cfg   Config
		field string
		kind  error
	}{
		{Config{Samples: -1}, "Samples", ErrConfig},
		{Config{Samples: 1, Budget: -time.Second}, "Budget", ErrConfig},
		{Config{Samples: 1, Method: "fork"}, "Method", ErrConfig},
		{Config{Samples: 1, Method: MethodChain, Target: "/bin/sh"}, "Method", ErrConfig},
		{Config{Samples: MaxSamples + 1}, "Samples", ErrConfig},
		{Config{Samples: 1, Workers: -1}, "Workers", ErrConfig},
		{Config{Samples: 1, Workers: MaxWorkers + 1}, "Workers", ErrConfig},
		{Config{Samples: 1, Ceiling: -time.Second}, "Ceiling", ErrConfig},
		{Config{Samples: 1, Ceiling: MaxCeiling + 1}, "Ceiling", ErrConfig},
		{Config{Samples: 1, Target: filepath.Join(dir, "none")}, "Target", ErrTarget},
		{Config{Samples: 1, Target: dir}, "Target", ErrTarget},
		{Config{Samples: 1, Target: plain}, "Target", ErrTarget},
	} {
		err := c.cfg.Validate()
		var fe *field.Error
		if !errors.As(err, &fe) || fe.Field != c.field || !errors.Is(err, c.kind) {
			t.Errorf("%+v: %v, want an error naming %s", c.cfg, err, c.field)
		}
	}
	if err := (Config{Samples: MaxSamples, Workers: MaxWorkers, Ceiling: MaxCeiling, Target: "/bin/sh"}).Validate(); err != nil {
		t.Errorf("the bounds themselves: %v", err)
	}
}
