package main

import (
	"errors"
	"io"
)

func init() {
	register(&command{name: "bootmodes", summary: "boot kernels under QEMU in each vsyscall= mode and compare", run: runBootmodes})
}

// runBootmodes is a placeholder until its issue lands.
func runBootmodes(args []string, stdout, stderr io.Writer) error {
	return errors.New("bootmodes: not implemented yet")
}
