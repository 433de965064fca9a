package main

import (
	"errors"
	"io"
)

func init() {
	register(&command{name: "bench", summary: "time every clock call through every path", run: runBench})
}

// runBench is a placeholder until its issue lands.
func runBench(args []string, stdout, stderr io.Writer) error {
	return errors.New("bench: not implemented yet")
}
