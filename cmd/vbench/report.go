package main

import (
	"errors"
	"io"
)

func init() {
	register(&command{name: "report", summary: "render PNGs and report.md for existing runs", run: runReport})
}

// runReport is a placeholder until its issue lands.
func runReport(args []string, stdout, stderr io.Writer) error {
	return errors.New("report: not implemented yet")
}
