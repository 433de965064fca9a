package main

import (
	"bytes"
	"debug/elf"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vbench-dev/vbench/runfile"
	"github.com/vbench-dev/vbench/sysenv"
)

// TestEnvJSON: env --json FILE writes a versioned document that is a run
// file holding the environment only; - is standard output; an unwritable
// path is refused before any work.
func TestEnvJSON(t *testing.T) {
	path := filepath.Join(t.TempDir(), "env.json")
	if stdout, stderr, code := runCLI(t, "env", "--json", path); code != exitOK || stdout != "" {
		t.Fatalf("env --json FILE: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	r, err := runfile.ReadFile(path)
	if err != nil {
		t.Fatalf("the document does not read back as a run file: %v", err)
	}
	if r.Schema != runfile.SchemaVersion || r.Tool != "vbench" || r.Env.KernelRelease == "" || r.Bench != nil || r.ASLR != nil {
		t.Errorf("document = %+v", r)
	}
	var doc map[string]any
	b, _ := os.ReadFile(path)
	if err := json.Unmarshal(b, &doc); err != nil || doc["schema"] != float64(runfile.SchemaVersion) || doc["tool"] != "vbench" {
		t.Errorf("document lacks schema and tool at the top: %v %v", doc["schema"], doc["tool"])
	}

	stdout, _, code := runCLI(t, "env", "--json", "-")
	if code != exitOK {
		t.Fatalf("env --json -: exit %d", code)
	}
	r, err = runfile.Decode(strings.NewReader(stdout), "stdout")
	if err != nil || r.Env.VsyscallMode == "" {
		t.Errorf("env --json -: %v, %q", err, stdout)
	}

	wantUsageError(t, []string{"env", "--json", filepath.Join(t.TempDir(), "no", "such", "dir", "env.json")}, "env: --json")
	wantUsageError(t, []string{"env", "--json"}, "--json")
}

func TestVersionCommand(t *testing.T) {
	if !slices.Contains(commandNames(), "version") {
		t.Error("version is not listed among the commands")
	}
	help, _, _ := runCLI(t, "--help")
	if !strings.Contains(help, "  version ") {
		t.Errorf("help does not list version:\n%s", help)
	}
	want := "vbench " + sysenv.Version() + " ("
	for _, args := range [][]string{{"version"}, {"--version"}, {"env", "--version"}} {
		stdout, stderr, code := runCLI(t, args...)
		if code != exitOK || !strings.HasPrefix(stdout, want) || strings.Count(stdout, "\n") != 1 || stderr != "" {
			t.Errorf("%q: exit %d, stdout %q, want one line starting %q", args, code, stdout, want)
		}
	}
	wantUsageError(t, []string{"version", "extra"}, "version: unexpected argument")
}

// TestInstallFromClone follows the README's install line on a fresh clone
// of this repository: the binary it installs is static, and says which
// commit it was built from.
func TestInstallFromClone(t *testing.T) {
	if testing.Short() {
		t.Skip("clones the repository and builds vbench")
	}
	git, err := exec.LookPath("git")
	if err != nil {
		t.Skip("no git")
	}
	head, err := exec.Command(git, "-C", "../..", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	rev := strings.TrimSpace(string(head))
	dir := t.TempDir()
	clone := filepath.Join(dir, "vbench")
	if out, err := exec.Command(git, "clone", "--quiet", "../..", clone).CombinedOutput(); err != nil {
		t.Skipf("git clone: %v: %s", err, out)
	}
	bin := filepath.Join(dir, "bin")
	install := exec.Command("go", "install", "./cmd/vbench") // README: CGO_ENABLED=0 go install ./cmd/vbench
	install.Dir = clone
	// A fresh machine's defaults: no GOFLAGS from this one's go env file
	// (-buildvcs=false there would hide the commit).
	install.Env = append(os.Environ(), "CGO_ENABLED=0", "GOBIN="+bin, "GOFLAGS=-buildvcs=auto")
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("go install: %v\n%s", err, out)
	}
	exe := filepath.Join(bin, "vbench")
	f, err := elf.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("the installed binary is dynamically linked (%v)", p.Type)
		}
	}
	out, err := exec.Command(exe, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	// The clone holds the last commit, not uncommitted changes: check
	// only what every committed vbench prints, the commit's first 12 digits.
	if !bytes.Contains(out, []byte(rev[:12])) {
		t.Errorf("vbench version = %q, want the commit %s", out, rev[:12])
	}
}
