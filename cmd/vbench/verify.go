package main

import (
	"errors"
	"io"
)

func init() {
	register(&command{name: "verify", summary: "check that every path returns the same time", run: runVerify})
}

// runVerify is a placeholder until its issue lands.
func runVerify(args []string, stdout, stderr io.Writer) error {
	return errors.New("verify: not implemented yet")
}
