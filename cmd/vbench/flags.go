package main

// The flags every command spells the same way, defined once here so that
// they also mean the same everywhere:
//
//	--json FILE    the run file (package runfile) to FILE, '-' for standard
//	               output (what the command prints then goes to stderr)
//	--label NAME   names the run a command makes (run, bench, aslr);
//	--label a,b,c  names the runs a command reads (report, compare)
//	--cpu N        the CPU to pin to, -1 for the one vbench starts on,
//	               checked before any work by the configuration's Validate
//	               (configError says its errors in flags' words)
//	--quick        a shorter, rougher run (run, verify); --brief is a
//	               hidden alias of it
//	--out DIR      where files go (see outRule)
//	--quiet        no progress bar and no informational lines on stderr
//	               (run, bench, aslr, bootmodes); errors and warnings still

import (
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/spf13/pflag"

	"github.com/vbench-dev/vbench/internal/atomicfile"
	"github.com/vbench-dev/vbench/internal/console"
	"github.com/vbench-dev/vbench/internal/field"
	"github.com/vbench-dev/vbench/openmetrics"
	"github.com/vbench-dev/vbench/runfile"
)

// resultsDir is where commands put what they write unless told otherwise.
const resultsDir = "results"

// outRule is the rule for --out, stated in the help of every command that
// writes files.
const outRule = `Files: what a command writes without being told where goes in a new
directory under results/ in the working directory (run: results/HOST-
KERNEL-vsyscall-MODE-TIME/, report: results/report-TIME/, bootmodes:
results/bootmodes-TIME/); --out says where instead. bench, verify, aslr, env
and compare write files only when asked (--json, --benchfmt,
--samples-csv, --out).
`

// timestamp is the TIME of a results directory's name, in UTC.
func timestamp(t time.Time) string { return t.UTC().Format("20060102T150405Z") }

// defaultOut is results/NAME-TIME: a new directory for one command's
// output.
func defaultOut(name string, now time.Time) string {
	return filepath.Join(resultsDir, name+"-"+timestamp(now))
}

// jsonFlag defines --json FILE; what says what the run file holds.
func jsonFlag(fs *pflag.FlagSet, what string) *string {
	return fs.String("json", "", "write the run ("+what+") as JSON to `FILE` ('-': standard output, and the rest of the output to standard error)")
}

// labelFlag defines --label for a command that makes one run.
func labelFlag(fs *pflag.FlagSet) *string {
	return fs.String("label", "", "`NAME` of this run in reports and comparisons (default: vsyscall mode, kernel and host)")
}

// labelsFlag defines --label for a command that reads several runs.
func labelsFlag(fs *pflag.FlagSet) *[]string {
	return fs.StringSlice("label", nil, "names for the runs, comma-separated, in order (default: vsyscall mode, kernel and host)")
}

// cpuFlag defines --cpu; the configuration it goes into checks it
// (Validate).
func cpuFlag(fs *pflag.FlagSet, what string) *int {
	return fs.Int("cpu", -1, "CPU to pin "+what+" to (-1: the one it starts on)")
}

// quickFlag defines --quick, with --brief as a hidden alias (verify's old
// name for it).
func quickFlag(fs *pflag.FlagSet, usage string) *bool {
	q := fs.Bool("quick", false, usage)
	aliases(fs, map[string]string{"brief": "quick"})
	return q
}

// aliases makes each old flag name parse as the new one: the old name is
// not listed in --help.
func aliases(fs *pflag.FlagSet, oldToNew map[string]string) {
	prev := fs.GetNormalizeFunc()
	fs.SetNormalizeFunc(func(f *pflag.FlagSet, name string) pflag.NormalizedName {
		if n, ok := oldToNew[name]; ok {
			name = n
		}
		return prev(f, name)
	})
}

// quietFlag defines --quiet; infoWriter applies it.
func quietFlag(fs *pflag.FlagSet) *bool {
	return fs.Bool("quiet", false, "no progress bar and no informational lines on standard error (errors and warnings still)")
}

// infoWriter is where a command draws its progress bars and writes its
// informational lines: stderr, or nowhere under --quiet (progress.New on
// io.Discard, not a terminal, gives a silent bar).
func infoWriter(stderr io.Writer, quiet bool) io.Writer {
	if quiet {
		return io.Discard
	}
	return stderr
}

// checkOutFile checks, before any work, that an output file named by flag
// can be written: its directory exists and is writable. "" (not asked
// for) and "-" (standard output) pass.
func checkOutFile(cmd, flag, path string) error {
	if path == "" || path == "-" {
		return nil
	}
	if err := atomicfile.Check(path); err != nil {
		return usageErrorf("%s: %s %v", cmd, flag, err)
	}
	return nil
}

// toStdout reports whether any of the output paths is standard output:
// the command's own output then goes to standard error.
func toStdout(paths ...string) bool {
	for _, p := range paths {
		if p == "-" {
			return true
		}
	}
	return false
}

// textOut is where a command prints its tables: stdout, or stderr when one
// of the output files it was given is "-" (standard output).
func textOut(stdout, stderr io.Writer, paths ...string) io.Writer {
	if toStdout(paths...) {
		return stderr
	}
	return stdout
}

// writeOut writes an output file atomically, or to stdout for "-".
func writeOut(path string, stdout io.Writer, fill func(io.Writer) error) error {
	if path == "-" {
		// Data, not console text: unchanged whatever the locale.
		return fill(console.Raw(stdout))
	}
	return atomicfile.Write(path, fill)
}

// deprecated says on stderr that an old flag was used, and what to use.
func deprecated(fs *pflag.FlagSet, stderr io.Writer, old, use string) {
	if fs.Changed(old) {
		fmt.Fprintf(stderr, "vbench: %s: --%s is deprecated: use %s\n", fs.Name(), old, use)
	}
}

// metricsFlag defines --openmetrics FILE for a command that makes a run
// (run, bench, aslr); check it with checkMetricsFile, write it with
// writeMetrics.
func metricsFlag(fs *pflag.FlagSet) *string {
	return fs.String("openmetrics", "", "write the run's figures as Prometheus text metrics to `FILE` (atomically, for node_exporter's textfile collector: name it *.prom)")
}

// checkMetricsFile checks --openmetrics before any work. Standard output
// is refused: the run's metrics are for a file a collector reads ('vbench
// export --openmetrics -' prints them).
func checkMetricsFile(cmd, path string) error {
	if path == "-" {
		return usageErrorf("%s: --openmetrics -: give a file (vbench export RUN.json --openmetrics - prints them)", cmd)
	}
	return checkOutFile(cmd, "--openmetrics", path)
}

// writeMetrics writes run's metrics to path atomically, if asked.
func writeMetrics(cmd, path string, run *runfile.Run) error {
	if path == "" {
		return nil
	}
	if err := openmetrics.WriteFile(path, []*runfile.Run{run}, nil); err != nil {
		return failedf("%s: --openmetrics %v", cmd, err)
	}
	return nil
}

// configFlags maps the fields of the configurations the commands fill
// (field.Error.Field: probes.BenchConfig, verify.Config, aslr.Config, and
// through study.Config's paths to them, "Bench.Count") to the flags that
// set them. A field no flag sets (LatencyCalls) keeps its Go name.
var configFlags = map[string]string{
	"Count": "--count", "Benchtime": "--benchtime", "RetryNoisy": "--retry-noisy", "CPU": "--cpu",
	"Functions": "--functions", "Paths": "--paths", "Clocks": "--clocks", "Contexts": "--contexts",
	"Samples": "--samples", "Workers": "--workers", "Ceiling": "--ceiling", "Target": "--target",
	"Method": "--method", "Budget": "--budget",
}

// configError is a configuration's Validate error as bad input for cmd,
// its field said as the flag that set it: "bench: --count 0: want 1 to
// 10000 samples per cell".
func configError(cmd string, err error) error {
	return usageErrorf("%s: %v", cmd, field.Rename(err, configFlags))
}
