package main

import (
	"fmt"
	"io"
	"os"

	"github.com/vbench-dev/vbench/internal/atomicfile"
)

// partialSuffix names a file being streamed to: PATH.partial holds what
// was written so far, and is renamed to PATH once complete.
const partialSuffix = ".partial"

// writeStream writes a file that grows as a run goes on (the samples
// CSV), so that a run killed midway (the OOM killer, SIGKILL) leaves what
// it had written, readable (`vbench aslr --from-csv` takes a cut-short
// last line): fill writes straight into PATH.partial, which is renamed
// to PATH when fill returns nil. On an error PATH.partial is kept and the
// error says so; PATH is never half written. "-" is standard output, and
// an existing FIFO or device is written through (atomicfile.Write).
func writeStream(path string, stdout io.Writer, fill func(io.Writer) error) error {
	if path == "-" {
		return fill(stdout)
	}
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		return atomicfile.Write(path, fill)
	}
	partial := path + partialSuffix
	f, err := os.OpenFile(partial, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if err := fill(f); err != nil {
		f.Close()
		return fmt.Errorf("%w (the samples written so far are in %s)", err, partial)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("%s: %w", partial, err)
	}
	return os.Rename(partial, path)
}
