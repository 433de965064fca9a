package main

import (
	"bytes"
	"os"
	"strings"
	"syscall"
)

// rseqTunable is glibc's switch for its own rseq registration (glibc 2.35+,
// manual "Tunables": glibc.pthread.rseq=0 "disables restartable sequences
// registration"). A vbench built with cgo (the default of `go run` where a
// C compiler exists: pflag imports net, whose resolver then links libc)
// starts its threads with pthread_create, and glibc registers a struct rseq
// for each of them; the kernel allows one area per thread (kernel/rseq.c
// answers a second registration with EINVAL), so vbench's rseq door would
// be unavailable. A static build (CGO_ENABLED=0) has no glibc and never
// gets here.
const rseqTunable = "glibc.pthread.rseq=0"

// glibcRseqEnv returns the environment to re-execute vbench with, so that
// glibc leaves rseq to vbench, or nil when there is nothing to do: no glibc
// in this process, glibc already told, or VBENCH_KEEP_GLIBC_RSEQ set (to
// measure with glibc's registration in place, which makes the rseq cells
// unavailable with that reason).
func glibcRseqEnv(environ []string, maps []byte) []string {
	if !bytes.Contains(maps, []byte("/libc.so")) && !bytes.Contains(maps, []byte("/libc-")) {
		return nil
	}
	at := -1
	for i, kv := range environ {
		switch {
		case strings.HasPrefix(kv, "VBENCH_KEEP_GLIBC_RSEQ="):
			return nil
		case strings.HasPrefix(kv, "GLIBC_TUNABLES="):
			if strings.Contains(kv, "glibc.pthread.rseq=") {
				return nil // set already, to whatever the user chose
			}
			at = i
		}
	}
	env := append([]string(nil), environ...)
	if at < 0 {
		return append(env, "GLIBC_TUNABLES="+rseqTunable)
	}
	env[at] += ":" + rseqTunable
	return env
}

// leaveRseqToVbench re-executes vbench with glibc's rseq registration off
// where glibcRseqEnv says so. If the exec fails, vbench goes on as it is.
func leaveRseqToVbench() {
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return
	}
	if env := glibcRseqEnv(os.Environ(), maps); env != nil {
		syscall.Exec("/proc/self/exe", os.Args, env) // returns only on failure
	}
}
