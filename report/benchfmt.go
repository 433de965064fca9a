package report

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"time"

	"golang.org/x/perf/benchfmt"

	"github.com/vbench-dev/vbench/runfile"
)

// bench.txt: a run's samples in the Go benchmark format, which benchstat
// (golang.org/x/perf/cmd/benchstat) compares; `vbench bench --benchfmt`
// and every run's directory (bench.txt) are written by WriteBenchfmt.

// BenchfmtKeys are the only configuration keys bench.txt gives benchstat:
// those of `go test -bench` that say which program ran. benchstat splits
// results into a table per distinct set of file-level keys (its -table
// default is .config, all of them) and lays out the files of one table side
// by side (-col .file); a key that differs between two runs, such as the
// kernel, would put them in separate tables and compare nothing. So the
// environment that differs between runs is written as comment lines
// (benchEnvKeys), which the Go benchmark format ignores
// (golang.org/design/14313-benchmark-format: a line that is neither a
// benchmark result nor "key: value" with a lower-case key is skipped).
var BenchfmtKeys = []string{"goos", "goarch", "pkg"}

// benchEnvKeys are the environment lines of bench.txt, in order, each
// written as "# key: value".
var benchEnvKeys = []string{"cpu", "kernel", "vsyscall", "clocksource", "pinned-cpu", "go", "vbench", "label", "started"}

// WriteBenchfmt writes the run's samples in the Go benchmark format, one
// line per sample in ns/op: first the environment as "# key: value"
// comment lines (benchEnvKeys), then the configuration lines benchstat
// groups by (BenchfmtKeys), so that `benchstat results/*/bench.txt` puts
// runs from different kernels, modes and machines in one table, a column
// per file. Names are runfile.Cell.Name with the Benchmark prefix, e.g.
// BenchmarkClockGettime/clock=MONOTONIC/path=syscall. Unavailable cells
// have no samples and no lines.
func WriteBenchfmt(w io.Writer, run *runfile.Run) error {
	if run.Bench == nil {
		return errors.New("no bench results to write")
	}
	e := run.Env
	env := map[string]string{
		"cpu": e.CPUModel, "kernel": e.KernelRelease, "vsyscall": e.VsyscallMode, "clocksource": e.Clocksource,
		"pinned-cpu": fmt.Sprint(run.Bench.CPU), "go": e.GoVersion, "vbench": e.VbenchVersion, "label": run.Label,
		"started": run.Started.UTC().Format(time.RFC3339),
	}
	ew := &errWriter{w: w}
	ew.printf("# The environment of this vbench run, as comments: benchstat would put runs whose\n")
	ew.printf("# \"key: value\" lines differ into separate tables instead of side by side.\n")
	for _, k := range benchEnvKeys {
		// One line each, whatever the value holds: a label with a newline
		// must not start a line benchstat reads.
		if v := runfile.OneLine(env[k]); v != "" {
			ew.printf("# %s: %s\n", k, v)
		}
	}
	if ew.err != nil {
		return ew.err
	}
	var res benchfmt.Result
	conf := map[string]string{"goos": runtime.GOOS, "goarch": runtime.GOARCH, "pkg": "github.com/vbench-dev/vbench/probes"}
	for _, k := range BenchfmtKeys {
		res.Config = append(res.Config, benchfmt.Config{Key: k, Value: []byte(conf[k]), File: true})
	}
	bw := benchfmt.NewWriter(w)
	for _, c := range run.Bench.Cells {
		for _, s := range c.Samples {
			res.Name = benchfmt.Name(c.Name())
			res.Iters = int(c.Iters)
			res.Values = []benchfmt.Value{{Value: s, Unit: "ns/op"}}
			if err := bw.Write(&res); err != nil {
				return err
			}
		}
	}
	return nil
}
