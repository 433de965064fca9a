// Package aslr samples the base addresses of a process's regions across many
// spawns and estimates their randomization entropy.
package aslr

import (
	"context"
	"errors"
	"io"

	"github.com/vbench-dev/vbench/runfile"
)

// Config controls a sampling run.
type Config struct {
	Samples     int
	Target      string    // "": vbench's own tiny target
	NoRandomize bool      // personality ADDR_NO_RANDOMIZE, the control run
	CSV         io.Writer // if not nil, raw samples are streamed here
}

// Study samples and estimates. progress, if not nil, is called with samples
// done and the total. On ctx cancellation it returns what was gathered.
func Study(ctx context.Context, cfg Config, progress func(done, total int)) (*runfile.ASLR, error) {
	return nil, errors.New("aslr: not implemented yet")
}
