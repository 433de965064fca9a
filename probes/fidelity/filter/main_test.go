package main

import (
	"bytes"
	"encoding/binary"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/bpf"

	"github.com/vbench-dev/vbench/probes"
	"github.com/vbench-dev/vbench/runfile"
)

// TestWritesTheContextsFilter reads back what the command writes as
// struct sock_filter records and checks that it is, instruction for
// instruction, the program the context child installs, and that the
// argcheck filter is longer than the allowlist (it tests arguments).
func TestWritesTheContextsFilter(t *testing.T) {
	lens := map[runfile.Context]int{}
	for _, ctx := range []runfile.Context{runfile.ContextSeccompAllowlist, runfile.ContextSeccompArgcheck} {
		var out bytes.Buffer
		if err := run([]string{string(ctx)}, &out); err != nil {
			t.Fatalf("%s: %v", ctx, err)
		}
		b := out.Bytes()
		if len(b)%8 != 0 {
			t.Fatalf("%s: %d bytes, not a whole number of 8-byte sock_filter records", ctx, len(b))
		}
		var got []bpf.RawInstruction
		for ; len(b) > 0; b = b[8:] {
			got = append(got, bpf.RawInstruction{Op: binary.NativeEndian.Uint16(b), Jt: b[2], Jf: b[3], K: binary.NativeEndian.Uint32(b[4:])})
		}
		want, err := probes.SeccompFilter(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: the file's %d instructions differ from the context's %d", ctx, len(got), len(want))
		}
		if _, ok := bpf.Disassemble(got); !ok {
			t.Errorf("%s: the file does not disassemble as classic BPF", ctx)
		}
		lens[ctx] = len(got)
	}
	if lens[runfile.ContextSeccompArgcheck] <= lens[runfile.ContextSeccompAllowlist] {
		t.Errorf("argcheck has %d instructions, the allowlist %d: the argument checks are missing",
			lens[runfile.ContextSeccompArgcheck], lens[runfile.ContextSeccompAllowlist])
	}
}

func TestRejectsOtherContexts(t *testing.T) {
	for _, args := range [][]string{nil, {"timens"}, {"plain"}, {"seccomp-allowlist", "x"}} {
		var out bytes.Buffer
		err := run(args, &out)
		if err == nil || out.Len() != 0 {
			t.Errorf("run(%q): err %v, %d bytes written; want an error and nothing written", args, err, out.Len())
		} else if strings.Contains(err.Error(), "\n") {
			t.Errorf("run(%q): error %q is more than one line", args, err)
		}
	}
}
