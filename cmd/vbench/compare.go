package main

import (
	"errors"
	"io"
)

func init() {
	register(&command{name: "compare", summary: "compare runs, e.g. across vsyscall= boot modes", run: runCompare})
}

// runCompare is a placeholder until its issue lands.
func runCompare(args []string, stdout, stderr io.Writer) error {
	return errors.New("compare: not implemented yet")
}
