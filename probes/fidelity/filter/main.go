// Command filter writes the BPF program of one of vbench's seccomp
// contexts as the kernel takes it, an array of struct sock_filter
// (include/uapi/linux/filter.h: u16 code, u8 jt, u8 jf, u32 k, in the
// machine's byte order), so that the C loop of probes/fidelity/loop.c can
// install the very filter a vbench context child installs (loop.c -f):
//
//	go run ./probes/fidelity/filter seccomp-argcheck > /tmp/argcheck.bpf
//	/tmp/fidelity -f /tmp/argcheck.bpf 1 10 20
//
// It is for the fidelity check of results/fidelity/contexts.sh, not part
// of vbench itself.
package main

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"

	"github.com/vbench-dev/vbench/probes"
	"github.com/vbench-dev/vbench/runfile"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "filter:", err)
		os.Exit(2)
	}
}

func run(args []string, w io.Writer) error {
	if len(args) != 1 {
		return fmt.Errorf("usage: filter %s|%s > FILE", runfile.ContextSeccompAllowlist, runfile.ContextSeccompArgcheck)
	}
	raw, err := probes.SeccompFilter(runfile.Context(args[0]))
	if err != nil {
		return err
	}
	b := make([]byte, 0, 8*len(raw))
	for _, r := range raw {
		b = binary.NativeEndian.AppendUint16(b, r.Op)
		b = append(b, r.Jt, r.Jf)
		b = binary.NativeEndian.AppendUint32(b, r.K)
	}
	_, err = w.Write(b)
	return err
}
