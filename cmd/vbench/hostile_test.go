package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vbench-dev/vbench/aslr"
	"github.com/vbench-dev/vbench/limits"
)

// vbenchProcess is a command running this test binary as vbench with
// args (TestMain's VBENCH_TEST_MAIN), through sh -c so that prefix (a
// shell command: entering a cgroup, a ulimit) runs first.
func vbenchProcess(t *testing.T, prefix string, args ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	script := prefix + `; exec "$0" "$@"`
	cmd := exec.Command("/bin/sh", append([]string{"-c", script, exe}, args...)...)
	cmd.Env = append(os.Environ(), "VBENCH_TEST_MAIN=1")
	return cmd
}

// memoryCgroup makes a cgroup with a memory limit of limit bytes under the
// memory controller's mount (v1 or v2) and returns its directory and the
// shell command that puts the shell in it, or skips saying why.
func memoryCgroup(t *testing.T, limit int64) (dir, enter string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("making a memory cgroup needs root")
	}
	cg, err := limits.Live.CgroupOf("memory")
	if err != nil {
		t.Skipf("no memory cgroup controller: %v", err)
	}
	dir = filepath.Join(cg.Top, fmt.Sprintf("vbench-test-%d", os.Getpid()))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Skipf("cannot make a cgroup here: %v", err)
	}
	t.Cleanup(func() { os.Remove(dir) })
	file := "memory.limit_in_bytes"
	if cg.V2 {
		file = "memory.max"
	}
	if err := os.WriteFile(filepath.Join(dir, file), []byte(strconv.FormatInt(limit, 10)), 0o644); err != nil {
		t.Skipf("cannot set %s: %v", file, err)
	}
	return dir, "echo $$ > " + filepath.Join(dir, "cgroup.procs")
}

// oomKills reads the cgroup's count of OOM kills (v1 memory.oom_control,
// v2 memory.events).
func oomKills(t *testing.T, dir string) int {
	t.Helper()
	for _, f := range []string{"memory.events", "memory.oom_control"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			continue
		}
		if m := regexp.MustCompile(`(?m)^oom_kill (\d+)`).FindSubmatch(b); m != nil {
			n, _ := strconv.Atoi(string(m[1]))
			return n
		}
	}
	return 0
}

// Under a 40 MiB memory cgroup, a million samples are refused in one
// line naming the count that fits, and that count runs without an OOM
// kill (issue 24: the OOM killer took vbench after 8 to 11 s, exit 137).
func TestASLRUnderMemoryCgroup(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns tens of thousands of processes")
	}
	dir, enter := memoryCgroup(t, 40<<20)
	var stdout, stderr bytes.Buffer
	cmd := vbenchProcess(t, enter, "aslr", "--samples", "1000000")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if cmd.ProcessState.ExitCode() != exitBadArgs || strings.Count(stderr.String(), "\n") != 1 || stdout.Len() != 0 {
		t.Fatalf("exit %v, stdout %q, stderr %q; want exit 2 and one line", err, stdout.String(), stderr.String())
	}
	m := regexp.MustCompile(`at most --samples (\d+) fits`).FindStringSubmatch(stderr.String())
	if m == nil || !strings.Contains(stderr.String(), "40 MiB") {
		t.Fatalf("stderr %q does not name the limit and the count that fits", stderr.String())
	}
	fits, _ := strconv.Atoi(m[1])
	// The count that fits, less what the cgroup's use may have grown by
	// since, runs to the end.
	n := min(fits*9/10, 60000)
	stdout.Reset()
	stderr.Reset()
	cmd = vbenchProcess(t, enter, "aslr", "--samples", strconv.Itoa(n), "--quiet")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("--samples %d in the cgroup: %v (OOM kills: %d)\n%s", n, err, oomKills(t, dir), stderr.String())
	}
	if k := oomKills(t, dir); k != 0 {
		t.Errorf("%d OOM kills in the cgroup", k)
	}
	if !strings.Contains(stdout.String(), fmt.Sprintf("%d samples in", n)) {
		t.Errorf("output does not report %d samples:\n%s", n, stdout.String())
	}
	t.Logf("%d samples: %s", n, regexp.MustCompile(`(?m)^memory: .*$`).FindString(stdout.String()))
}

// The refusal is computed from the limits, before any spawn: a fake room
// of 40 MiB refuses a million samples and accepts what fits.
func TestASLRMemoryPreflight(t *testing.T) {
	oldRoom, oldMem := roomFor, memoryFor
	t.Cleanup(func() { roomFor, memoryFor = oldRoom, oldMem })
	roomFor = func() limits.MemoryRoom {
		return limits.MemoryRoom{Limited: true, Bytes: 38 << 20, Limit: "the cgroup's memory limit of 40 MiB (test)", Used: "2 MiB in use"}
	}
	memoryFor = func() (limits.CgroupMemory, error) {
		return limits.CgroupMemory{Limited: true, Max: 40 << 20, Current: 2 << 20}, nil
	}
	fits := fitsIn(aslr.MethodChain, 38<<20-int64(spawnMargin(40<<20)))
	wantUsageError(t, []string{"aslr", "--samples", "1000000"}, fmt.Sprintf("at most --samples %d fits", fits))
	if _, err := checkASLRMemory("aslr", &aslr.Config{Samples: fits}); err != nil {
		t.Errorf("--samples %d (what fits): %v", fits, err)
	}
	// Sampling until narrow is capped to what fits instead.
	cfg := aslr.Config{}
	if note, err := checkASLRMemory("aslr", &cfg); err != nil || cfg.MaxSamples != fits || !strings.Contains(note, "stops at") {
		t.Errorf("until narrow: MaxSamples %d (want %d), note %q, %v", cfg.MaxSamples, fits, note, err)
	}
	roomFor = func() limits.MemoryRoom {
		return limits.MemoryRoom{Limited: true, Bytes: 500 << 20, Limit: "RLIMIT_AS of 1000 MiB", Used: "500 MiB of address space in use", Rlimit: true}
	}
	fits = fitsIn(aslr.MethodChain, 500<<20-goArena)
	wantUsageError(t, []string{"aslr", "--samples", "10000000"}, fmt.Sprintf("RLIMIT_AS of 1000 MiB leaves 500 MiB (500 MiB of address space in use): at most --samples %d fits", fits))
}

// A run killed while streaming its samples CSV (SIGKILL, as the OOM
// killer sends) leaves FILE.partial, which --from-csv reads, its cut-short
// last line left out and named.
func TestSamplesCSVSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns thousands of processes")
	}
	dir := t.TempDir()
	csv := filepath.Join(dir, "s.csv")
	cmd := vbenchProcess(t, "true", "aslr", "--samples", "1000000", "--ceiling", "0", "--quiet", "--samples-csv", csv)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if fi, err := os.Stat(csv + ".partial"); err == nil && fi.Size() > 200<<10 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatal("no samples streamed to s.csv.partial within 60 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if _, err := os.Stat(csv); err == nil {
		t.Error("s.csv exists: a killed run renamed its partial file")
	}
	stdout, stderr, code := runCLI(t, "aslr", "--from-csv", csv+".partial")
	if code != exitOK {
		t.Fatalf("--from-csv of the partial file: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "re-estimated from") {
		t.Errorf("stdout: %s", stdout)
	}
	b, _ := os.ReadFile(csv + ".partial")
	if b[len(b)-1] != '\n' && !strings.Contains(stdout, "has no newline at the end") {
		t.Errorf("the cut-short last line is not named:\n%s", stdout)
	}
	t.Logf("%d bytes; %s", len(b), strings.SplitN(stdout, "\n", 3)[:2])
}

// noTrace fails if output holds a Go runtime trace.
func noTrace(t *testing.T, what, out string) {
	t.Helper()
	for _, s := range []string{"goroutine ", "runtime: ", "fatal error", "panic:"} {
		if strings.Contains(out, s) {
			t.Errorf("%s: a runtime trace reached the user:\n%s", what, out)
			return
		}
	}
}

// Under ulimit -n 16 (issue 24: "too many open files" at sample 1) the
// workers are sized to the descriptors, saying so; under 12, one line.
func TestASLRUnderNofile(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	for _, tc := range []struct {
		n    int
		code int
		want string
	}{
		{16, exitOK, "RLIMIT_NOFILE 16"},
		{12, exitBadArgs, "raise ulimit -n to at least"},
	} {
		cmd := vbenchProcess(t, fmt.Sprintf("ulimit -n %d", tc.n), "aslr", "--samples", "3000", "--method", "spawn")
		out, _ := cmd.CombinedOutput()
		noTrace(t, fmt.Sprintf("ulimit -n %d", tc.n), string(out))
		if cmd.ProcessState.ExitCode() != tc.code || !strings.Contains(string(out), tc.want) {
			t.Errorf("ulimit -n %d: exit %d, want %d and %q:\n%s", tc.n, cmd.ProcessState.ExitCode(), tc.code, tc.want, out)
		}
	}
}

// Under ulimit -u, as an unprivileged user (RLIMIT_NPROC does not bind
// root): one line, or a run with fewer workers, never a runtime trace
// (issue 24: a 133-line trace under -u 4, EAGAIN under -u 8). Below what
// the Go runtime needs to start at all (-u 4 with a shell of the user's
// already running), no program of Go can help it: not tested.
func TestASLRUnderNproc(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root, to run vbench as uid 65534 (root is exempt from RLIMIT_NPROC)")
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash for ulimit -u")
	}
	exe, _ := os.Executable()
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	os.Chmod(filepath.Dir(dir), 0o755) // t.TempDir's parent is 0700
	copyExe := filepath.Join(dir, "vbench.test")
	b, err := os.ReadFile(exe)
	if err != nil || os.WriteFile(copyExe, b, 0o755) != nil {
		t.Fatalf("copying the test binary: %v", err)
	}
	for _, u := range []int{6, 8, 12, 20} {
		cmd := exec.Command(bash, "-c", fmt.Sprintf(`ulimit -u %d; cd /; exec "$0" aslr --samples 2000`, u), copyExe)
		cmd.Env = append(os.Environ(), "VBENCH_TEST_MAIN=1")
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		out, _ := cmd.CombinedOutput()
		code := cmd.ProcessState.ExitCode()
		noTrace(t, fmt.Sprintf("ulimit -u %d", u), string(out))
		switch code {
		case exitOK:
			if !strings.Contains(string(out), "2000 samples in") {
				t.Errorf("ulimit -u %d: exit 0 without the samples:\n%s", u, out)
			}
		case exitBadArgs:
			if strings.Count(string(out), "\n") != 1 || !strings.Contains(string(out), "RLIMIT_NPROC") {
				t.Errorf("ulimit -u %d: exit 2 but not one line naming RLIMIT_NPROC:\n%s", u, out)
			}
		default:
			t.Errorf("ulimit -u %d: exit %d:\n%s", u, code, out)
		}
		t.Logf("ulimit -u %d: exit %d: %s", u, code, strings.SplitN(string(out), "\n", 2)[0])
	}
}
