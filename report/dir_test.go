package report

import (
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vbench-dev/vbench/plots"
	"github.com/vbench-dev/vbench/runfile"
)

// snapshot is every file under dir, by path relative to it, with its
// content ("->target" for a symbolic link, "/" for a directory).
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		switch {
		case p == dir:
		case d.IsDir():
			out[rel] = "/"
		case d.Type()&os.ModeSymlink != 0:
			l, err := os.Readlink(p)
			if err != nil {
				return err
			}
			out[rel] = "->" + l
		default:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			out[rel] = string(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// oldReport makes parent/rep as an earlier report left it, beside a
// run's files, and returns its path.
func oldReport(t *testing.T, parent string) string {
	t.Helper()
	dir := filepath.Join(parent, "rep")
	for name, content := range map[string]string{
		"report.md": "# the old report\n", "cost.png": "old figure", "run.json": "{}\n", "bench.txt": "BenchmarkX 1 1 ns/op\n",
		"notes/mine.txt": "a reader's notes\n",
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// failAfter makes saveFigure save n figures and then fail with err (or
// call stop and go on, when stop is not nil).
func failAfter(t *testing.T, n int, err error, stop func()) {
	saved := 0
	orig := saveFigure
	saveFigure = func(f *plots.Figure, dir string, formats []string) error {
		if saved == n {
			if stop == nil {
				return err
			}
			stop()
		}
		saved++
		return orig(f, dir, formats)
	}
	t.Cleanup(func() { saveFigure = orig })
}

// entriesAre checks that parent holds just names: no temporary directory
// left behind.
func entriesAre(t *testing.T, parent string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(parent)
	if err != nil {
		t.Fatal(err)
	}
	got := []string{}
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if !slices.Equal(got, append([]string{}, names...)) {
		t.Errorf("%s holds %q, want %q", parent, got, names)
	}
}

// A figure that fails to draw midway leaves an existing report directory
// as it was (before, the figures drawn so far replaced the old ones beside
// the old report.md), and leaves no new directory where there was none.
func TestWriteFailureLeavesDirAsItWas(t *testing.T) {
	r := loadFixture(t, "host")
	boom := errors.New("figure 4 failed")

	parent := t.TempDir()
	dir := oldReport(t, parent)
	before := snapshot(t, dir)
	failAfter(t, 3, boom, nil)
	if _, err := Write(context.Background(), dir, []*runfile.Run{r}, Options{}); !errors.Is(err, boom) {
		t.Fatalf("Write: %v, want the figure's error", err)
	}
	if after := snapshot(t, dir); !maps.Equal(before, after) {
		t.Errorf("the directory changed on failure:\nbefore %q\nafter  %q", slices.Sorted(maps.Keys(before)), slices.Sorted(maps.Keys(after)))
	}
	entriesAre(t, parent, "rep")

	parent = t.TempDir()
	if _, err := Write(context.Background(), filepath.Join(parent, "new"), []*runfile.Run{r}, Options{}); !errors.Is(err, boom) {
		t.Fatalf("Write: %v, want the figure's error", err)
	}
	entriesAre(t, parent)
}

// Cancelled midway (Ctrl-C), the write stops and leaves the directory as
// it was.
func TestWriteCancelledLeavesDirAsItWas(t *testing.T) {
	parent := t.TempDir()
	dir := oldReport(t, parent)
	before := snapshot(t, dir)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	failAfter(t, 2, nil, cancel)
	if _, err := Write(ctx, dir, []*runfile.Run{loadFixture(t, "host")}, Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Write: %v, want context.Canceled", err)
	}
	if after := snapshot(t, dir); !maps.Equal(before, after) {
		t.Errorf("the directory changed when cancelled:\nbefore %q\nafter  %q", slices.Sorted(maps.Keys(before)), slices.Sorted(maps.Keys(after)))
	}
	entriesAre(t, parent, "rep")
}

// A report written over an earlier one replaces its report.md and figures
// and keeps what else the directory held (a run's run.json and bench.txt,
// a subdirectory), through a symbolic link too.
func TestWriteReplacesAndKeeps(t *testing.T) {
	for _, viaLink := range []bool{false, true} {
		parent := t.TempDir()
		dir := oldReport(t, parent)
		name := "rep"
		if viaLink {
			name = "link"
			if err := os.Symlink("rep", filepath.Join(parent, name)); err != nil {
				t.Fatal(err)
			}
		}
		path, err := Write(context.Background(), filepath.Join(parent, name), []*runfile.Run{loadFixture(t, "host")}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if path != filepath.Join(parent, name, ReportFile) {
			t.Errorf("Write returned %s", path)
		}
		got := snapshot(t, dir)
		if !strings.HasPrefix(got["report.md"], "# vbench report") {
			t.Errorf("report.md not replaced: %.40q", got["report.md"])
		}
		if got["cost.png"] == "old figure" || !strings.HasPrefix(got["cost.png"], "\x89PNG") {
			t.Errorf("cost.png not replaced: %.10q", got["cost.png"])
		}
		for _, k := range []string{"run.json", "bench.txt", "notes/mine.txt"} {
			if got[k] != map[string]string{"run.json": "{}\n", "bench.txt": "BenchmarkX 1 1 ns/op\n", "notes/mine.txt": "a reader's notes\n"}[k] {
				t.Errorf("%s not kept: %q", k, got[k])
			}
		}
		if viaLink {
			if fi, err := os.Lstat(filepath.Join(parent, name)); err != nil || fi.Mode()&os.ModeSymlink == 0 {
				t.Errorf("the link was replaced: %v %v", fi, err)
			}
			entriesAre(t, parent, "link", "rep")
		} else {
			entriesAre(t, parent, "rep")
		}
	}
}

// Where the file system cannot exchange two directories, the old one is
// renamed aside, the new one in, and the old one removed.
func TestSwapByRenames(t *testing.T) {
	parent := t.TempDir()
	target, tmp := filepath.Join(parent, "rep"), filepath.Join(parent, ".rep.tmp1")
	for d, content := range map[string]string{target: "old", tmp: "new"} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "report.md"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	keep := tmp
	if err := swapByRenames(tmp, target, parent, "rep", &keep); err != nil {
		t.Fatal(err)
	}
	if keep != "" {
		t.Errorf("the temporary name %q is still to be removed", keep)
	}
	if got := snapshot(t, target); got["report.md"] != "new" {
		t.Errorf("report.md %q, want the new one", got["report.md"])
	}
	entriesAre(t, parent, "rep")
}
