package verify

import (
	"errors"

	"github.com/vbench-dev/vbench/internal/field"
	"github.com/vbench-dev/vbench/probes"
	"github.com/vbench-dev/vbench/runfile"
)

// ErrBadConfig is wrapped by the error for a field of Config out of
// bounds.
var ErrBadConfig = errors.New("bad verify configuration")

// Validate reports a CPU Run cannot pin to, as a *field.Error naming CPU
// (wrapping probes.ErrBadCPU for a CPU this process may not run on).
func (cfg Config) Validate() error {
	if cfg.CPU < -1 {
		return field.Errorf(ErrBadConfig, "CPU", cfg.CPU, "give a CPU number, or -1 for the one vbench starts on")
	}
	for _, c := range cfg.Contexts {
		if !c.Known() {
			return field.Errorf(ErrBadConfig, "Contexts", c, "not a context (valid: %s)", runfile.Join(runfile.Contexts, ", "))
		}
	}
	return probes.CheckCPU(cfg.CPU)
}
