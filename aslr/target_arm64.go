package aslr

import "debug/elf"

// arm64 has no built-in target yet: a run without --target says so
// (ErrNoBuiltin). Its machine code goes here, as target_amd64.go has it
// for x86-64.

const (
	targetMachine = elf.EM_AARCH64
	targetArch    = "arm64"
)

func exitCode() []byte   { return nil }
func reportCode() []byte { return nil }
