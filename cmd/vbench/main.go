// Command vbench measures what it costs to read the time on Linux (x86-64
// and arm64) through each door the kernel offers (the syscall instruction,
// the legacy vsyscall page on x86-64, the vDSO) and how well the vDSO is
// hidden by address-space randomization. See the README for the study and
// its report.
//
// main is thin: it calls run, which parses the subcommand and its flags and
// returns an error; main prints that error on one line and picks the exit
// status. Each subcommand lives in its own file.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/spf13/pflag"

	"github.com/vbench-dev/vbench/internal/console"
	"github.com/vbench-dev/vbench/probes"
	"github.com/vbench-dev/vbench/probes/verify"
	"github.com/vbench-dev/vbench/report"
)

// command is one subcommand of vbench.
type command struct {
	name    string
	summary string
	run     func(args []string, stdout, stderr io.Writer) error
}

// commands is filled in by each subcommand's file (see register).
var commands = map[string]*command{}

func register(c *command) { commands[c.name] = c }

// Exit statuses.
const (
	exitOK      = 0
	exitFailed  = 1 // a check failed, or the work could not be done
	exitBadArgs = 2 // bad flags, names or input files
	// exitPartial: `vbench run` wrote its results, but a part of the study
	// (bench, verify, aslr) produced nothing; the message names it and why.
	exitPartial = 3
)

// exitError carries an exit status with its message.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageErrorf reports bad input: one line, exit status 2.
func usageErrorf(format string, a ...any) error {
	return &exitError{exitBadArgs, fmt.Errorf(format, a...)}
}

// failedf reports a check that failed: exit status 1.
func failedf(format string, a ...any) error {
	return &exitError{exitFailed, fmt.Errorf(format, a...)}
}

func main() {
	// A copy of vbench that a measurement started (probes.RunChildWith:
	// the vsyscall probes, the syscall-counting child, a child placed in a
	// context, which runs the checks there with verify.InContext) does its
	// job and exits here, before anything else runs.
	if code, child := probes.RunChildWith(verify.InContext); child {
		os.Exit(code)
	}
	if guestMain() {
		return // ran as /init inside a bootmodes guest
	}
	// In a build linked with glibc, glibc has registered rseq on every
	// thread; vbench re-executes itself once with glibc told not to, so
	// the rseq door can be measured (glibc.go).
	leaveRseqToVbench()
	// Prose wraps at the terminal's width (100 columns when standard
	// output is not a terminal); a locale without UTF-8 gets "+/-" for
	// "±" (package console).
	stdout, stderr := setConsole(os.Getenv, os.Stdout, os.Stderr)
	os.Exit(exitCode(runChecked(os.Args[1:], stdout, stderr), stderr))
}

// setConsole sets the width prose wraps at (stdout's terminal's, else
// 100 columns) and returns stdout and stderr writing only ASCII where the
// locale getenv names has no UTF-8 (package console).
func setConsole(getenv func(string) string, stdout, stderr io.Writer) (io.Writer, io.Writer) {
	utf := console.UTF8(getenv)
	report.SetConsole(console.Width(stdout), !utf)
	return console.NewWriter(stdout, utf), console.NewWriter(stderr, utf)
}

// runChecked is run, failing when its standard output could not be written
// (stdout on /dev/full, a closed pipe), whatever the command did: commands
// print with fmt.Fprintf, which drops write errors.
func runChecked(args []string, stdout, stderr io.Writer) error {
	cw := &checkedWriter{w: stdout}
	err := run(args, cw, stderr)
	if err == nil && cw.err != nil {
		err = failedf("writing standard output: %v", cw.err)
	}
	return err
}

// checkedWriter passes writes on and keeps the first error.
type checkedWriter struct {
	w   io.Writer
	err error
}

func (c *checkedWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	if err != nil && c.err == nil {
		c.err = err
	}
	return n, err
}

// Unwrap is the writer under c (console.Raw sees through it).
func (c *checkedWriter) Unwrap() io.Writer { return c.w }

// Fd lets the progress bar and others ask whether stdout is a terminal.
func (c *checkedWriter) Fd() uintptr {
	if f, ok := c.w.(interface{ Fd() uintptr }); ok {
		return f.Fd()
	}
	return ^uintptr(0)
}

// exitCode prints err (if any) as one line and returns the exit status.
func exitCode(err error, stderr io.Writer) int {
	if err == nil || errors.Is(err, pflag.ErrHelp) {
		return exitOK
	}
	fmt.Fprintf(stderr, "vbench: %v\n", err)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return exitFailed
}

// spawns are the commands that start threads and child processes, checked
// against RLIMIT_NPROC before they start (checkNPROC).
var spawns = map[string]bool{"run": true, "bench": true, "verify": true, "aslr": true, "bootmodes": true}

// helpAsked reports whether args ask for --help (no work is done).
func helpAsked(args []string) bool {
	for _, a := range args {
		if a == "-h" || a == "--help" {
			return true
		}
	}
	return false
}

// run is vbench without the process around it: tests call it directly.
func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		if err := checkNPROC("run"); err != nil {
			return err
		}
		return commands["run"].run(nil, stdout, stderr)
	}
	name := args[0]
	switch name {
	case "-h", "--help", "help":
		if len(args) > 1 && name == "help" {
			c, ok := commands[args[1]]
			if !ok {
				return usageErrorf("help: unknown command %q (valid: %s)", args[1], strings.Join(commandNames(), ", "))
			}
			return c.run([]string{"--help"}, stdout, stderr)
		}
		usage(stdout)
		return nil
	case "--version":
		return commands["version"].run(args[1:], stdout, stderr)
	}
	if strings.HasPrefix(name, "-") {
		// Flags without a subcommand belong to the main job.
		if !helpAsked(args) {
			if err := checkNPROC("run"); err != nil {
				return err
			}
		}
		return commands["run"].run(args, stdout, stderr)
	}
	c, ok := commands[name]
	if !ok {
		return usageErrorf("unknown command %q (valid: %s)", name, strings.Join(commandNames(), ", "))
	}
	if spawns[name] && !helpAsked(args[1:]) {
		if err := checkNPROC(name); err != nil {
			return err
		}
	}
	return c.run(args[1:], stdout, stderr)
}

func commandNames() []string {
	var names []string
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func usage(w io.Writer) {
	fmt.Fprint(w, `vbench: what does it cost to read the time on Linux (x86-64, arm64), through
which door, and how well hidden is that door?

Usage:
  vbench [run flags]        run the whole study and write a report (same as 'vbench run')
  vbench COMMAND [flags]

Commands:
`)
	for _, n := range commandNames() {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprint(w, `
Run 'vbench COMMAND --help' for a command's flags and examples.

Examples:
  vbench                                   the whole study, report under results/
  vbench bench --functions clock_gettime --clocks MONOTONIC,REALTIME
  vbench verify
  vbench aslr --samples 20000
  vbench compare results/*/run.json
`)
}

// newFlags returns a flag set for a subcommand whose --help prints the
// summary, the flags and the examples on stdout.
func newFlags(name, synopsis, examples string, stdout io.Writer) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SortFlags = false
	fs.SetOutput(io.Discard) // errors are returned, not printed twice
	fs.Usage = func() {
		c := commands[name]
		fmt.Fprintf(stdout, "vbench %s: %s\n\nUsage:\n  %s\n\nFlags:\n", name, c.summary, synopsis)
		fmt.Fprint(stdout, fs.FlagUsages())
		if examples != "" {
			fmt.Fprintf(stdout, "\nExamples:\n%s", examples)
		}
	}
	return fs
}

// parseFlags parses args; a parse error becomes a one-line usage error.
func parseFlags(fs *pflag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return err // pflag has printed fs.Usage
		}
		return usageErrorf("%s: %v (see 'vbench %s --help')", fs.Name(), err, fs.Name())
	}
	return nil
}
