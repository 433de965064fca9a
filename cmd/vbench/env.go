package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/vbench-dev/vbench/report"
	"github.com/vbench-dev/vbench/runfile"
	"github.com/vbench-dev/vbench/sysenv"
)

func init() {
	register(&command{name: "env", summary: "print the environment block every result carries", run: runEnv})
	register(&command{name: "version", summary: "print vbench's version and the commit it was built from", run: runVersion})
}

const envExamples = `  vbench env
  vbench env --json env.json
  vbench env --json - | jq .env.vsyscall_mode
`

func runEnv(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("env", "vbench env [--json FILE]", envExamples, stdout)
	jsonOut := jsonFlag(fs, "the environment block only: a run file with no results")
	version := fs.Bool("version", false, "print vbench's version and exit (as 'vbench version')")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErrorf("env: unexpected argument %q", fs.Arg(0))
	}
	if *version {
		return runVersion(nil, stdout, stderr)
	}
	if err := checkOutFile("env", "--json", *jsonOut); err != nil {
		return err
	}
	e := sysenv.Collect()
	if *jsonOut == "" {
		if err := report.EnvText(stdout, &runfile.Run{Env: e}); err != nil {
			return failedf("writing standard output: %v", err)
		}
		return nil
	}
	// The same document as a run file, with the environment only: it
	// carries the schema version, and vbench report reads it.
	doc := runfile.New(e)
	doc.Finished = time.Now().UTC()
	if err := writeOut(*jsonOut, stdout, doc.Encode); err != nil {
		return failedf("env: --json %v", err)
	}
	return nil
}

// runVersion prints one line: the version a run file records, then the
// commit, whether the tree was modified, the toolchain and CGO_ENABLED,
// as far as the build recorded them.
func runVersion(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("version", "vbench version", "  vbench version\n", stdout)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErrorf("version: unexpected argument %q", fs.Arg(0))
	}
	b := sysenv.ReadBuild()
	var about []string
	if b.Revision != "" {
		c := "commit " + b.Revision
		if b.Time != "" {
			c += " (" + b.Time + ")"
		}
		if b.Modified {
			c += ", modified"
		}
		if b.FromLdflags {
			c += ", from -ldflags"
		}
		about = append(about, c)
	} else {
		about = append(about, "no commit recorded: built with -buildvcs=false or outside a git checkout")
	}
	about = append(about, b.Go)
	if b.CgoEnabled != "" {
		about = append(about, "CGO_ENABLED="+b.CgoEnabled)
	}
	fmt.Fprintf(stdout, "vbench %s (%s)\n", b.Version, strings.Join(about, ", "))
	return nil
}
