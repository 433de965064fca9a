package main

import (
	"io"

	"github.com/vbench-dev/vbench/openmetrics"
)

func init() {
	register(&command{name: "export", summary: "export run files as Prometheus text metrics (OpenMetrics families)", run: runExport})
}

const exportExamples = `  vbench export results/*/run.json --openmetrics /var/lib/prometheus/node-exporter/vbench.prom
  vbench export run.json --openmetrics -          print them
  vbench export run.json --openmetrics - | promtool check metrics

The file is written whole and renamed into place, in the same directory,
as node_exporter's textfile collector requires (it reads *.prom; the
temporary file's name does not end in .prom). With several runs every
series carries a run label (--label, else the run's default label). The
families, all gauges in base units: vbench_info (release, version,
kernel, clocksource, vsyscall mode, CPU model, virtualization, PTI),
vbench_run_timestamp_seconds, vbench_call_seconds, vbench_call_samples,
vbench_syscalls_per_call and vbench_vdso_fell_back (labels function,
clock, path, context), vbench_verify_failed_checks, vbench_verify_checks,
vbench_aslr_effective_entropy with _low and _high (labels region and
entropy), vbench_aslr_kernel_max_entropy and vbench_aslr_samples.
`

func runExport(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("export", "vbench export RUN.json... --openmetrics FILE [--label a,b,c]", exportExamples, stdout)
	out := fs.String("openmetrics", "", "write the metrics to `FILE` ('-': standard output)")
	labels := labelsFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageErrorf("export: name at least one run file (see 'vbench export --help')")
	}
	if *out == "" {
		return usageErrorf("export: say where the metrics go: --openmetrics FILE (see 'vbench export --help')")
	}
	if len(*labels) > fs.NArg() {
		return usageErrorf("export: %d labels for %d runs", len(*labels), fs.NArg())
	}
	if err := checkOutFile("export", "--openmetrics", *out); err != nil {
		return err
	}
	// One file at a time: only the metrics are kept.
	b := openmetrics.NewBuilder(fs.NArg() > 1)
	for i, p := range fs.Args() {
		runs, err := readRuns([]string{p})
		if err != nil {
			return err
		}
		l := ""
		if i < len(*labels) {
			l = (*labels)[i]
		}
		b.Add(runs[0], l)
	}
	fams := b.Families()
	if err := writeOut(*out, stdout, func(w io.Writer) error { return openmetrics.Write(w, fams) }); err != nil {
		return failedf("export: --openmetrics %v", err)
	}
	return nil
}
