package main

import (
	"errors"
	"io"
)

func init() {
	register(&command{name: "aslr", summary: "sample the vDSO base across spawns and measure its entropy", run: runAslr})
}

// runAslr is a placeholder until its issue lands.
func runAslr(args []string, stdout, stderr io.Writer) error {
	return errors.New("aslr: not implemented yet")
}
