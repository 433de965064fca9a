package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vbench-dev/vbench/runfile"
)

func TestAslrBadInput(t *testing.T) {
	notExec := filepath.Join(t.TempDir(), "data")
	os.WriteFile(notExec, []byte("x"), 0o644)
	notELF := filepath.Join(t.TempDir(), "garbage")
	os.WriteFile(notELF, []byte("\x7fELF not really"), 0o755)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--samples", "-5"}, "--samples -5"},
		{[]string{"--budget", "0s"}, "--budget 0s"},
		{[]string{"--method", "fork"}, `--method "fork"`},
		{[]string{"--method", "both"}, "--method both needs --samples"},
		{[]string{"--method", "both", "--samples", "10", "--json", "x.json"}, "not with --samples-csv, --json"},
		{[]string{"--method", "chain", "--target", "/bin/true"}, "ptrace only"},
		{[]string{"--method", "spawn", "--ptrace"}, "--ptrace and --method"},
		{[]string{"--target", "/no/such/program"}, "no such file"},
		{[]string{"--target", "/proc"}, "not a regular file"},
		{[]string{"--target", notExec, "--samples", "2"}, "not executable"},
		{[]string{"--target", notELF, "--samples", "2"}, "exec format error"},
		{[]string{"--samples", "many"}, "invalid argument"},
		{[]string{"--ceiling", "-1s"}, "--ceiling -1s"},
		{[]string{"extra"}, `unexpected argument "extra"`},
	} {
		wantUsageError(t, append([]string{"aslr"}, tc.args...), tc.want)
	}
}

func TestAslrHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	run([]string{"aslr", "--help"}, &stdout, &stderr)
	for _, want := range []string{"--samples", "--no-randomize", "--samples-csv", "--json", "Examples:", "vbench aslr --samples 100000"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("--help lacks %q", want)
		}
	}
}

func TestAslrRun(t *testing.T) {
	dir := t.TempDir()
	js, csv := filepath.Join(dir, "aslr.json"), filepath.Join(dir, "s.csv")
	var stdout, stderr bytes.Buffer
	if err := run([]string{"aslr", "--samples", "200", "--json", js, "--samples-csv", csv, "--ceiling", "20ms"}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	out := stdout.String()
	for _, want := range []string{"vdso", "effective", "conclusions:", "[vsyscall]", "samples/s", "method: exec chain", "vfork ceiling: ", "chain ceiling: "} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	r, err := runfile.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}
	if r.ASLR == nil || r.ASLR.Samples != 200 || r.Finished.IsZero() || r.Env.KernelRelease == "" {
		t.Fatalf("run file: %+v", r)
	}
	if a := r.ASLR; a.Method != runfile.MethodChain || a.Checked == 0 || a.Ceiling <= 0 || a.CeilingFraction <= 0 || a.ChainCeiling <= 0 {
		t.Errorf("run file: method %q, %d checked, ceiling %v (fraction %v)", a.Method, a.Checked, a.Ceiling, a.CeilingFraction)
	}
	if v := r.ASLR.Regions[0]; v.Name != "vdso" || v.Present != 200 || len(v.BitFreq) != 48 {
		t.Errorf("vdso region in JSON: %+v", v)
	}
	b, err := os.ReadFile(csv)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "\n"); n != 201 {
		t.Errorf("CSV has %d lines, want a header and 200 samples", n)
	}
	if tmp, _ := filepath.Glob(filepath.Join(dir, ".*tmp*")); len(tmp) > 0 {
		t.Errorf("temporary files left: %v", tmp)
	}
}

// --ptrace samples the built-in target the slow way, and says so; no
// ceiling is measured when asked not to.
func TestAslrPtrace(t *testing.T) {
	js := filepath.Join(t.TempDir(), "aslr.json")
	var stdout, stderr bytes.Buffer
	if err := run([]string{"aslr", "--samples", "50", "--ptrace", "--ceiling", "0", "--json", js}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if out := stdout.String(); !strings.Contains(out, "method: ptrace") || strings.Contains(out, "ceiling:") {
		t.Errorf("output:\n%s", out)
	}
	r, err := runfile.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}
	if a := r.ASLR; a.Method != runfile.MethodPtrace || a.Checked != 0 || a.Ceiling != 0 {
		t.Errorf("run file: method %q, %d checked, ceiling %v", a.Method, a.Checked, a.Ceiling)
	}
}

// --from-csv re-estimates from a samples file holding only some regions.
func TestAslrFromCSV(t *testing.T) {
	dir := t.TempDir()
	js := filepath.Join(dir, "a.json")
	var stdout, stderr bytes.Buffer
	if err := run([]string{"aslr", "--from-csv", "testdata/samples-some-regions.csv", "--json", js}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	out := stdout.String()
	for _, want := range []string{"re-estimated from", "vdso, mmap move together", "heap", "collision"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	r, err := runfile.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}
	if r.ASLR == nil || r.ASLR.Samples != 400 || len(r.ASLR.Regions) != 3 || len(r.ASLR.Pairs) != 3 {
		t.Fatalf("run file: %+v", r.ASLR)
	}
	for _, g := range r.ASLR.Regions {
		if g.Rule == "" || g.Effective < g.EffectiveLo || g.Effective > g.EffectiveHi || g.KernelMaxSource != "" {
			t.Errorf("%s: rule %q, %.2f [%.2f, %.2f], kernel max %q", g.Name, g.Rule, g.Effective, g.EffectiveLo, g.EffectiveHi, g.KernelMaxSource)
		}
	}
}

func TestAslrFromCSVBad(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o644)
		return p
	}
	for _, tc := range []struct{ body, want string }{
		{"sample,vdso\n0,0x7f0000\n1,zz\n", "line 3: column 2: \"zz\" is not a hex address"},
		{"sample,vdso\n0,0x7f0000,0x1\n", "line 2: 3 fields, the header has 2"},
		{"sample,vdso,bogus\n", "line 1: unknown column \"bogus\""},
		{"sample,vsyscall\n0,\n", "no region column"},
		{"", "empty file"},
		{"vdso\n", "no samples"},
	} {
		wantUsageError(t, []string{"aslr", "--from-csv", write("x.csv", tc.body)}, tc.want)
	}
	wantUsageError(t, []string{"aslr", "--from-csv", filepath.Join(dir, "missing.csv")}, "no such file")
}

// SIGTERM during sampling: what was gathered is estimated, written and
// marked interrupted, no temporary file is left, and the exit status is 143.
func TestAslrSIGTERMKeepsWhatWasGathered(t *testing.T) {
	if testing.Short() {
		t.Skip("samples for a second")
	}
	dir := t.TempDir()
	csv, js := filepath.Join(dir, "s.csv"), filepath.Join(dir, "a.json")
	timer := time.AfterFunc(time.Second, func() { syscall.Kill(os.Getpid(), syscall.SIGTERM) })
	defer timer.Stop()
	stdout, stderr, code := runCLI(t, "aslr", "--samples", "10000000", "--ceiling", "0", "--samples-csv", csv, "--json", js)
	if code != 143 || !strings.Contains(stdout, "INTERRUPTED after") || !strings.Contains(stderr, "interrupted by SIGTERM") {
		t.Fatalf("exit %d\nstdout %.400s\nstderr %s", code, stdout, stderr)
	}
	r, err := runfile.ReadFile(js)
	if err != nil || r.ASLR == nil || !r.ASLR.Interrupted || r.ASLR.Samples == 0 {
		t.Fatalf("run file: %v %+v", err, r)
	}
	b, _ := os.ReadFile(csv)
	if lines := strings.Count(string(b), "\n"); lines != r.ASLR.Samples+1 {
		t.Errorf("CSV has %d lines for %d samples", lines, r.ASLR.Samples)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 2 {
		t.Errorf("directory holds %v: a temporary file was left", ents)
	}
}

// --method both samples the chain and fresh spawns and shows the
// comparison region by region.
func TestAslrMethodBoth(t *testing.T) {
	stdout, stderr, code := runCLI(t, "aslr", "--method", "both", "--samples", "2000")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"chain: 2000 samples", "self-report: 2000 samples", "range: chi²", "low bits", "vdso", "heap", "samples are"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
}

// Without --samples, sampling runs until every region is measured or the
// budget runs out, and says which.
func TestAslrUntilNarrow(t *testing.T) {
	stdout, stderr, code := runCLI(t, "aslr", "--budget", "1s", "--ceiling", "0")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"sampled until narrow: ", "sp: "} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
}
