package main

import (
	"errors"
	"io"
)

func init() {
	register(&command{name: "run", summary: "run the whole study and write a report", run: runRun})
}

// runRun is a placeholder until its issue lands.
func runRun(args []string, stdout, stderr io.Writer) error {
	return errors.New("run: not implemented yet")
}
