package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/vbench-dev/vbench/plots"
	"github.com/vbench-dev/vbench/report"
)

func init() {
	register(&command{name: "compare", summary: "compare runs, e.g. across vsyscall= boot modes", run: runCompare})
}

const compareExamples = `  vbench compare results/*/run.json
  vbench compare emulate.json xonly.json none.json --label emulate,xonly,none --out modes

Each cell's median of the first run is the base; the other runs show the
ratio of their median to it and the Mann-Whitney U test's p-value, or "~"
when the difference is not significant at alpha 0.05 (as benchstat does).
`

func runCompare(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("compare", "vbench compare RUN.json RUN.json... [--label a,b,c] [--out DIR]", compareExamples, stdout)
	labels := fs.StringSlice("label", nil, "names for the runs, comma-separated, in order (default: vsyscall mode, kernel and host)")
	out := fs.String("out", ".", "directory to write compare.png into (\"\": no figure)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() < 2 {
		return usageErrorf("compare: name at least two run files (see 'vbench compare --help')")
	}
	runs, err := readRuns(fs.Args())
	if err != nil {
		return err
	}
	if len(*labels) > len(runs) {
		return usageErrorf("compare: %d labels for %d runs", len(*labels), len(runs))
	}
	c := report.Compare(runs, *labels)
	if err := c.WriteText(stdout); err != nil {
		return err
	}
	if *out != "" {
		if err := os.MkdirAll(*out, 0o755); err != nil {
			return failedf("compare: %v", err)
		}
		f := plots.Compare(runs, c.Labels)
		path := filepath.Join(*out, f.Name)
		if err := f.Save(path); err != nil {
			return failedf("compare: %v", err)
		}
		fmt.Fprintf(stdout, "\nfigure: %s\n", path)
	}
	return nil
}
