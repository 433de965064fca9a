package layers

import (
	"go/build"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/vbench-dev/vbench/"

// root is the module's directory, two levels above this file.
func root(t *testing.T) string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("no caller")
	}
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// imports returns the module packages pkg imports (non-test files), for
// each architecture vbench builds for: a file of one architecture may
// import what another's does not.
func imports(t *testing.T, dir, pkg string) []string {
	t.Helper()
	var out []string
	for _, arch := range []string{"amd64", "arm64"} {
		ctx := build.Default
		ctx.GOOS, ctx.GOARCH, ctx.CgoEnabled = "linux", arch, false
		p, err := ctx.ImportDir(filepath.Join(dir, filepath.FromSlash(pkg)), 0)
		if err != nil {
			t.Fatalf("%s (%s): %v", pkg, arch, err)
		}
		for _, imp := range p.Imports {
			if rel, ok := strings.CutPrefix(imp, module); ok && !slices.Contains(out, rel) {
				out = append(out, rel)
			}
		}
	}
	sort.Strings(out)
	return out
}

// closure returns every module package pkg depends on, with the chain
// through which it first reaches each.
func closure(t *testing.T, dir, pkg string) map[string][]string {
	via := map[string][]string{}
	var walk func(p string, chain []string)
	walk = func(p string, chain []string) {
		for _, imp := range imports(t, dir, p) {
			if _, seen := via[imp]; seen {
				continue
			}
			c := append(slices.Clone(chain), imp)
			via[imp] = c
			walk(imp, c)
		}
	}
	walk(pkg, []string{pkg})
	return via
}

// measuring reports whether pkg measures the machine.
func measuring(pkg string) bool {
	switch {
	case pkg == "probes" || strings.HasPrefix(pkg, "probes/"):
		return true
	case pkg == "aslr", pkg == "study", pkg == "sysenv", pkg == "proc":
		return true
	}
	return false
}

// TestRenderersImportNoMeasurer: report, plots, bootlab and openmetrics
// reach no measuring package, directly or not.
func TestRenderersImportNoMeasurer(t *testing.T) {
	dir := root(t)
	for _, r := range []string{"report", "plots", "bootlab", "openmetrics"} {
		if _, err := build.Default.ImportDir(filepath.Join(dir, r), 0); err != nil {
			t.Errorf("%s: %v", r, err)
			continue
		}
		deps := closure(t, dir, r)
		keys := make([]string, 0, len(deps))
		for k := range deps {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, d := range keys {
			if measuring(d) {
				t.Errorf("%s imports the measuring package %s (%s)", r, d, strings.Join(deps[d], " -> "))
			}
		}
		t.Logf("%s depends on %s", r, strings.Join(keys, ", "))
	}
}

// TestFoundations: runfile imports nothing of vbench but
// internal/atomicfile; aslr/analysis nothing but runfile and what runfile
// does.
func TestFoundations(t *testing.T) {
	dir := root(t)
	for pkg, allowed := range map[string][]string{
		"runfile":       {"internal/atomicfile"},
		"aslr/analysis": {"runfile", "internal/atomicfile"},
	} {
		for d, chain := range closure(t, dir, pkg) {
			if !slices.Contains(allowed, d) {
				t.Errorf("%s imports %s (%s); it may import only %s", pkg, d, strings.Join(chain, " -> "), strings.Join(allowed, ", "))
			}
		}
	}
}

// TestMeasuringSeen: the test would see a measurer if one were imported:
// study reaches probes, and cmd/vbench reaches every layer.
func TestMeasuringSeen(t *testing.T) {
	dir := root(t)
	if _, ok := closure(t, dir, "study")["probes"]; !ok {
		t.Error("study's closure lacks probes: the walk is broken")
	}
	deps := closure(t, dir, path.Join("cmd", "vbench"))
	for _, p := range []string{"report", "plots", "bootlab", "probes", "probes/verify", "aslr", "runfile"} {
		if _, ok := deps[p]; !ok {
			t.Errorf("cmd/vbench's closure lacks %s", p)
		}
	}
}
