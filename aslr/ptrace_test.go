package aslr

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/vbench-dev/vbench/proc"
)

// TestPtraceDeniedBySeccomp: where a seccomp filter makes ptrace fail
// with EPERM (as some container runtimes do), the self-reporting methods
// sample as usual, their samples checked against /proc without ptrace
// (issue 24), and the ptrace method fails with one line that names ptrace
// and the filter, not a bare "operation not permitted". The filter is
// installed in a child test process, for all its threads, so that this
// process keeps ptrace.
func TestPtraceDeniedBySeccomp(t *testing.T) {
	if os.Getenv("VBENCH_PTRACE_HELPER") == "1" {
		if err := denyPtrace(); err != nil {
			fmt.Println("SETUP", err)
			return
		}
		for _, m := range []string{MethodChain, MethodSelfReport} {
			res, err := Study(context.Background(), Config{Samples: 300, Method: m}, nil)
			if err != nil {
				fmt.Printf("%s FAILED: %v\n", m, err)
				continue
			}
			fmt.Printf("%s SAMPLED %d checked %d skipped %q sp %q\n", m, res.Samples, res.Checked, res.CheckSkipped, res.SPCheckSkipped)
		}
		_, err := Study(context.Background(), Config{Samples: 3, Method: MethodPtrace}, nil)
		fmt.Printf("IS_PTRACE=%v\n%v\n", errors.Is(err, ErrPtrace), err)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestPtraceDeniedBySeccomp$", "-test.v")
	cmd.Env = append(os.Environ(), "VBENCH_PTRACE_HELPER=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "SETUP ") {
		t.Skipf("cannot install a seccomp filter here: %s", out)
	}
	for _, m := range []string{MethodChain, MethodSelfReport} {
		if !strings.Contains(string(out), m+` SAMPLED 300 checked `) || strings.Contains(string(out), m+" FAILED") || !strings.Contains(string(out), `skipped "" sp ""`) {
			t.Errorf("%s without ptrace: not sampled and checked:\n%s", m, out)
		}
	}
	if !strings.Contains(string(out), "IS_PTRACE=true") {
		t.Errorf("the error does not wrap ErrPtrace:\n%s", out)
	}
	for _, want := range []string{"PTRACE_TRACEME", "operation not permitted", "seccomp filter"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the error does not say %q:\n%s", want, out)
		}
	}
}

// denyPtrace installs, on every thread of this process, a seccomp filter
// that fails ptrace(2) with EPERM and allows everything else (the filter
// of the kernel's seccomp_bpf selftest, reduced to one syscall).
func denyPtrace() error {
	filter := []unix.SockFilter{
		{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 4}, // seccomp_data.arch
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, K: unix.AUDIT_ARCH_X86_64, Jt: 0, Jf: 3},
		{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 0}, // seccomp_data.nr
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, K: unix.SYS_PTRACE, Jt: 0, Jf: 1},
		{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)},
		{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ALLOW},
	}
	prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("PR_SET_NO_NEW_PRIVS: %w", err)
	}
	if _, _, errno := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_TSYNC,
		uintptr(unsafe.Pointer(&prog))); errno != 0 {
		return fmt.Errorf("seccomp: %w", errno)
	}
	return nil
}

// TestPtraceDeniedExplains: the explanation follows what the machine
// says: Yama's scope, a seccomp filter, CAP_SYS_PTRACE.
func TestPtraceDeniedExplains(t *testing.T) {
	const allCaps, noPtrace = "000001ffffffffff", "000001fffff7ffff" // bit 19 is CAP_SYS_PTRACE
	for _, tt := range []struct {
		name, scope, seccomp, capEff string
		want                         []string
	}{
		{"scope 3", "3", "0", allCaps, []string{"ptrace_scope is 3", "no process may trace"}},
		{"scope 2 without the capability", "2", "0", noPtrace, []string{"ptrace_scope is 2", "only CAP_SYS_PTRACE", "no CAP_SYS_PTRACE"}},
		{"seccomp, no Yama", "", "2", allCaps, []string{"no Yama", "seccomp filter"}},
		{"scope 1 in a container", "1", "2", noPtrace, []string{"ptrace_scope is 1", "seccomp filter", "no CAP_SYS_PTRACE"}},
	} {
		root := t.TempDir()
		if tt.scope != "" {
			dir := filepath.Join(root, "sys", "kernel", "yama")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "ptrace_scope"), []byte(tt.scope+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		status := filepath.Join(root, "status")
		text := "Name:\tvbench\nCapEff:\t" + tt.capEff + "\nSeccomp:\t" + tt.seccomp + "\n"
		if err := os.WriteFile(status, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		err := ptraceDenied(unix.EPERM, proc.FS{Root: root}, status)
		if !errors.Is(err, ErrPtrace) || !errors.Is(err, unix.EPERM) {
			t.Errorf("%s: %v wraps neither ErrPtrace nor EPERM", tt.name, err)
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q does not say %q", tt.name, err, w)
			}
		}
	}
}
