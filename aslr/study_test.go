package aslr

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vbench-dev/vbench/probes/vsyscall"
	"github.com/vbench-dev/vbench/proc"
)

// children lists the processes whose parent is this test process, zombies
// included.
func children(t *testing.T) []proc.Stat {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var out []proc.Stat
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := proc.ReadStat(pid)
		if err != nil {
			continue // gone meanwhile
		}
		if st.PPID == os.Getpid() {
			out = append(out, st)
		}
	}
	return out
}

func noChildren(t *testing.T, when string) {
	t.Helper()
	if cs := children(t); len(cs) > 0 {
		t.Errorf("%s: %d children left, e.g. pid %d (%s) state %c", when, len(cs), cs[0].PID, cs[0].Comm, cs[0].State)
	}
}

func TestTargetELF(t *testing.T) {
	for _, chain := range []bool{false, true} {
		targetELFOK(t, targetELF(chain))
	}
}

func targetELFOK(t *testing.T, img []byte) {
	f, err := elf.NewFile(bytes.NewReader(img))
	if err != nil {
		t.Fatal(err)
	}
	if f.Type != elf.ET_DYN || f.Machine != targetMachine || f.Class != elf.ELFCLASS64 || !isLoader(f) {
		t.Errorf("type %v machine %v class %v loader %v", f.Type, f.Machine, f.Class, isLoader(f))
	}
	if len(f.Progs) != 2 || f.Progs[0].Type != elf.PT_LOAD || f.Entry != codeOffset || f.Progs[0].Filesz <= f.Entry {
		t.Errorf("program headers %v, entry %#x", f.Progs, f.Entry)
	}
	// The program headers are where derive expects them: AT_PHDR - base.
	if f.Progs[0].Vaddr != 0 || f.Progs[0].Off != 0 {
		t.Errorf("first PT_LOAD at vaddr %#x offset %#x: AT_PHDR - %d would not be the base", f.Progs[0].Vaddr, f.Progs[0].Off, targetPhoff)
	}
}

// Both programs, run to completion, exit 0 at once; the reporting one
// writes one record to its standard output.
func TestTargetRuns(t *testing.T) {
	tg, err := openTarget("")
	if err != nil {
		t.Fatal(err)
	}
	defer tg.cleanup()
	out, err := runProgram(tg)
	if err != nil {
		t.Fatalf("running the built-in target: %v", err)
	}
	if len(out) != recordSize || binary.NativeEndian.Uint32(out) != reportMagic {
		t.Errorf("the target wrote %d bytes (% x), want a %d-byte record", len(out), out, recordSize)
	}
	ex, err := builtinTarget(exitELF(), "exit", false)
	if err != nil {
		t.Fatal(err)
	}
	defer ex.cleanup()
	if out, err := runProgram(ex); err != nil || len(out) != 0 {
		t.Errorf("the exiting program: %v, wrote %q", err, out)
	}
}

// runProgram runs one of vbench's programs as the samplers do (its file at
// chainFD, executed as chainPath, standard input closed) and returns what
// it wrote to its standard output.
func runProgram(tg *target) ([]byte, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	// A duplicate: an os.File closes its descriptor when collected.
	fd, err := unix.FcntlInt(uintptr(tg.fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	prog := os.NewFile(uintptr(fd), "target")
	defer prog.Close()
	p, err := os.StartProcess(tg.path, []string{targetName}, &os.ProcAttr{
		Env:   []string{},
		Files: []*os.File{nil, w, os.Stderr, prog},
	})
	w.Close()
	if err != nil {
		return nil, err
	}
	out, rerr := io.ReadAll(r)
	st, err := p.Wait()
	if err == nil && !st.Success() {
		err = fmt.Errorf("%v", st)
	}
	return out, errors.Join(rerr, err)
}

func TestStudyLive(t *testing.T) {
	for _, m := range []string{MethodChain, MethodSelfReport, MethodPtrace} {
		t.Run(m, func(t *testing.T) { studyLive(t, m) })
	}
}

func studyLive(t *testing.T, method string) {
	const n = 300
	ptrace := method == MethodPtrace
	res, err := Study(context.Background(), Config{Samples: n, Method: method, Ceiling: 20 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	noChildren(t, "after a run")
	if res.Samples != n || res.Interrupted || len(res.Regions) != nRegions || res.Rate <= 0 {
		t.Fatalf("samples %d interrupted %v regions %d rate %v", res.Samples, res.Interrupted, len(res.Regions), res.Rate)
	}
	// The chain checks its first image and 1 in about 100 after that;
	// a fresh spawn its first 8 and 1 in 100.
	minChecked := map[string]int{MethodChain: n / (checkEvery + 2), MethodSelfReport: checkFirst}[method]
	if res.Method != method || ptrace && res.Checked != 0 || !ptrace && (res.Checked < minChecked || res.Checked > n) {
		t.Errorf("method %q, %d samples checked", res.Method, res.Checked)
	}
	if res.CheckSkipped != "" || res.SPCheckSkipped != "" {
		t.Errorf("checks skipped: %q, sp: %q", res.CheckSkipped, res.SPCheckSkipped)
	}
	if res.Ceiling <= 0 || res.CeilingBefore <= 0 || res.CeilingAfter <= 0 || res.CeilingFraction <= 0 || res.CeilingDuration <= 0 || res.ChainCeiling <= 0 || res.ChainFraction <= 0 {
		t.Errorf("ceiling %v spawns/s over %v, fraction %v; chain %v, fraction %v", res.Ceiling, res.CeilingDuration, res.CeilingFraction, res.ChainCeiling, res.ChainFraction)
	}
	byName := map[string]int{}
	for i, r := range res.Regions {
		byName[r.Name] = i
	}
	vdso := res.Regions[byName["vdso"]]
	if vdso.Present != n || vdso.Distinct < n/2 || vdso.Effective < 10 {
		t.Errorf("vDSO not randomized? present %d distinct %d effective %.1f", vdso.Present, vdso.Distinct, vdso.Effective)
	}
	// The vDSO base is the AT_SYSINFO_EHDR the kernel passes.
	if vdso.Alignment < 4096 {
		t.Errorf("vDSO alignment %#x", vdso.Alignment)
	}
	for _, name := range []string{"stack", "exe", "mmap", "heap", "sp"} {
		if r := res.Regions[byName[name]]; r.Present != n || r.Distinct < 2 {
			t.Errorf("%s: present %d distinct %d", name, r.Present, r.Distinct)
		}
	}
	// vbench's target is a static PIE: mmap is the executable itself.
	for _, p := range res.Pairs {
		if p.A == "exe" && p.B == "mmap" && (p.DistinctDiffs != 1 || p.Offset != 0) {
			t.Errorf("exe/mmap: %+v", p)
		}
	}
	mode, _, err := vsyscall.CurrentMode()
	if err != nil {
		t.Fatal(err)
	}
	v := res.Vsyscall
	if mode == vsyscall.None && v.Mapped != 0 || mode != vsyscall.None && (v.Mapped != n || uintptr(v.Addr) != vsyscall.Base || !v.Fixed) {
		t.Errorf("mode %s, vsyscall %+v", mode, v)
	}

	ctl, err := Study(context.Background(), Config{Samples: 100, NoRandomize: true, Ptrace: ptrace}, nil)
	if err != nil {
		t.Fatal(err)
	}
	noChildren(t, "after the control run")
	for _, r := range ctl.Regions {
		if r.Present > 0 && r.Distinct != 1 {
			t.Errorf("ADDR_NO_RANDOMIZE: %s has %d distinct values", r.Name, r.Distinct)
		}
	}
	// The personality of the sampling thread did not leak into later spawns.
	again, err := Study(context.Background(), Config{Samples: 50, Ptrace: ptrace}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if again.Regions[byName["vdso"]].Distinct < 2 {
		t.Error("randomization still off after a control run")
	}
}

func TestStudyCSV(t *testing.T) {
	var b bytes.Buffer
	const n = 40
	res, err := Study(context.Background(), Config{Samples: n, CSV: &b, Workers: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != n+1 || !strings.HasPrefix(lines[0], "sample,vdso,") {
		t.Fatalf("%d lines, header %q", len(lines), lines[0])
	}
	min := uint64(1<<64 - 1)
	for _, l := range lines[1:] {
		f := strings.Split(l, ",")
		v, err := strconv.ParseUint(strings.TrimPrefix(f[1], "0x"), 16, 64)
		if err != nil || len(f) != len(regionNames)+2 {
			t.Fatalf("line %q: %v", l, err)
		}
		min = minU(min, v)
	}
	if min != res.Regions[rVdso].Min {
		t.Errorf("CSV vdso minimum %#x, estimator's %#x", min, res.Regions[rVdso].Min)
	}
}

func minU(a, b uint64) uint64 { return min(a, b) }

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestStudyErrors(t *testing.T) {
	if _, err := Study(context.Background(), Config{Samples: -1}, nil); !errors.Is(err, ErrConfig) {
		t.Errorf("-1 samples: %v", err)
	}
	if _, err := Study(context.Background(), Config{Samples: 1, Method: "fork"}, nil); !errors.Is(err, ErrConfig) {
		t.Errorf("an unknown method: %v", err)
	}
	if _, err := Study(context.Background(), Config{Samples: 1, Method: MethodChain, Target: "/bin/true"}, nil); !errors.Is(err, ErrConfig) {
		t.Errorf("a --target through the chain: %v", err)
	}
	if _, err := Study(context.Background(), Config{Samples: 1, Target: "/no/such/file"}, nil); !errors.Is(err, ErrTarget) {
		t.Errorf("missing target: %v", err)
	}
	// An executable file the kernel cannot run: ENOEXEC at the first spawn.
	bad := filepath.Join(t.TempDir(), "garbage")
	if err := os.WriteFile(bad, []byte("\x7fELF garbage"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Study(context.Background(), Config{Samples: 5, Target: bad, Workers: 2}, nil); !errors.Is(err, ErrTarget) || strings.Contains(err.Error(), "\n") {
		t.Errorf("an unrunnable target: error %q, want one line", err)
	}
	noChildren(t, "after a spawn error")
	// An error in the middle of sampling (the CSV writer fails once its
	// buffer fills) leaves no child either.
	if _, err := Study(context.Background(), Config{Samples: 3000, CSV: failingWriter{}}, nil); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("failing CSV writer: %v", err)
	}
	noChildren(t, "after a write error mid-run")
}

// SIGINT to vbench stops sampling and returns what was gathered.
func TestStudySIGINT(t *testing.T) {
	for _, ptrace := range []bool{false, true} {
		studySIGINT(t, ptrace)
	}
}

func studySIGINT(t *testing.T, ptrace bool) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	sent := false
	res, err := Study(ctx, Config{Samples: 100000, Ptrace: ptrace}, func(done, _ int) {
		if done >= 128 && !sent {
			sent = true
			syscall.Kill(os.Getpid(), syscall.SIGINT)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Interrupted || res.Samples < 128 || res.Samples >= 100000 || res.Regions[rVdso].Present != res.Samples {
		t.Errorf("ptrace %v: interrupted %v after %d samples", ptrace, res.Interrupted, res.Samples)
	}
	noChildren(t, "after SIGINT")
}

// If vbench dies (SIGKILL, no chance to clean up), its children die too
// (PR_SET_PDEATHSIG). The test process becomes a child subreaper so that the
// orphans, if any, would be reparented to it and seen.
//
// A self-reporting child may instead have finished on its own (exit 0) or
// met the closed pipe (SIGPIPE) between vbench's death and its own: it
// still ends, at once, and is reaped.
func TestNoOrphansWhenKilled(t *testing.T) {
	switch m := os.Getenv("VBENCH_ASLR_HELPER"); m {
	case MethodChain, MethodSelfReport, MethodPtrace:
		Study(context.Background(), Config{Samples: MaxSamples, Method: m}, nil)
		return
	}
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		t.Skipf("PR_SET_CHILD_SUBREAPER: %v", err)
	}
	defer unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
	for _, method := range []string{MethodChain, MethodSelfReport, MethodPtrace} {
		t.Run(method, func(t *testing.T) { noOrphansWhenKilled(t, method) })
	}
}

func noOrphansWhenKilled(t *testing.T, method string) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestNoOrphansWhenKilled$")
	cmd.Env = append(os.Environ(), "VBENCH_ASLR_HELPER="+method)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // well into sampling
	cmd.Process.Kill()
	cmd.Wait()
	// Orphans reparented to us die of SIGKILL at once; reap them and count.
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG|unix.WALL, nil)
		if err != nil || pid == 0 {
			if len(children(t)) == 0 {
				return
			}
			time.Sleep(10 * time.Millisecond)
			continue
		}
		switch {
		case ws.Signaled() && ws.Signal() == unix.SIGKILL:
		case method != MethodPtrace && (ws.Exited() && ws.ExitStatus() == 0 || ws.Signaled() && ws.Signal() == unix.SIGPIPE):
		default:
			t.Errorf("orphan %d ended with status %#x, not by SIGKILL", pid, uint32(ws))
		}
	}
	noChildren(t, "after vbench was killed")
}

// A panic in the aggregating goroutine that Study's caller recovers (as the
// bootmodes guest does for each part) must not leave workers blocked with
// children unreaped: they see the cancelled context and stop.
func TestStudyPanicRecoveredLeavesNoChildren(t *testing.T) {
	for _, m := range []string{MethodChain, MethodSelfReport, MethodPtrace} {
		studyPanicRecovered(t, m)
	}
}

func studyPanicRecovered(t *testing.T, method string) {
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the progress callback's panic did not reach the caller")
			}
		}()
		Study(context.Background(), Config{Samples: 100000, Method: method}, func(done, _ int) {
			if done >= 64 {
				// Let the workers fill the channel and block on it first.
				time.Sleep(300 * time.Millisecond)
				panic("boom")
			}
		})
	}()
	// The workers finish the spawn in hand, reap and return.
	for deadline := time.Now().Add(10 * time.Second); len(children(t)) > 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	noChildren(t, "after a recovered panic")
}
