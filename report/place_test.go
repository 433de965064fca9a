package report

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// inode returns dir's inode number: the same after an in-place write,
// another after a replacement.
func inode(t *testing.T, dir string) uint64 {
	t.Helper()
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}

// checkInPlace writes two files into dir through ReplaceDir, where one
// of them replaces an old file and a third, old file is kept, and checks
// that dir itself was not replaced and that PlanDir gave why.
func checkInPlace(t *testing.T, dir, why string) {
	t.Helper()
	pl, err := PlanDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !pl.InPlace || !strings.Contains(pl.Why, why) || !strings.Contains(pl.Notice(), "file by file") {
		t.Fatalf("PlanDir(%s) = %+v, want in place because %q", dir, pl, why)
	}
	os.WriteFile(filepath.Join(dir, "report.md"), []byte("old"), 0o644)
	os.WriteFile(filepath.Join(dir, "keep.txt"), []byte("kept"), 0o644)
	before := inode(t, dir)
	err = ReplaceDir(dir, func(tmp string) error {
		os.Mkdir(filepath.Join(tmp, "sub"), 0o755)
		os.WriteFile(filepath.Join(tmp, "sub", "fig.png"), []byte("png"), 0o644)
		return os.WriteFile(filepath.Join(tmp, "report.md"), []byte("new"), 0o644)
	})
	if err != nil {
		t.Fatalf("ReplaceDir into %s: %v", dir, err)
	}
	if inode(t, dir) != before {
		t.Error("the directory was replaced")
	}
	for name, want := range map[string]string{"report.md": "new", "keep.txt": "kept", "sub/fig.png": "png"} {
		if b, _ := os.ReadFile(filepath.Join(dir, name)); string(b) != want {
			t.Errorf("%s holds %q, want %q", name, b, want)
		}
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".vbench-tmp") {
			t.Errorf("left behind: %s", e.Name())
		}
	}
	// A failing fill leaves dir as it was.
	err = ReplaceDir(dir, func(tmp string) error {
		os.WriteFile(filepath.Join(tmp, "report.md"), []byte("half"), 0o644)
		return errors.New("drawing failed")
	})
	if err == nil {
		t.Fatal("a failing fill gave no error")
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "report.md")); string(b) != "new" {
		t.Errorf("after a failed fill report.md holds %q", b)
	}
}

func TestReplaceDirCurrentDirectory(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	checkInPlace(t, ".", "current directory")
}

func TestReplaceDirMountPoint(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "mnt")
	os.Mkdir(dir, 0o755)
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=1m"); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v): needs root", err)
	}
	defer unix.Unmount(dir, 0)
	checkInPlace(t, dir, "mount point")
}

func TestReplaceDirOtherOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("giving a directory to another user needs root")
	}
	dir := filepath.Join(t.TempDir(), "theirs")
	os.Mkdir(dir, 0o777)
	if err := os.Chown(dir, 65534, 65534); err != nil {
		t.Skipf("cannot give a directory to uid 65534 here (%v): needs root", err)
	}
	checkInPlace(t, dir, "belongs to uid 65534")
	fi, _ := os.Stat(dir)
	if uid := fi.Sys().(*syscall.Stat_t).Uid; uid != 65534 {
		t.Errorf("the directory now belongs to uid %d", uid)
	}
}

// TestPlanDirNotWritable: an in-place directory that cannot be written is
// an error before anything is rendered.
func TestPlanDirNotWritable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root writes anywhere: run unprivileged to test an unwritable directory")
	}
	dir := t.TempDir()
	os.Chmod(dir, 0o555)
	defer os.Chmod(dir, 0o755)
	t.Chdir(dir)
	_, err := PlanDir(".")
	if err == nil || !strings.Contains(err.Error(), "not writable") {
		t.Errorf("PlanDir of an unwritable current directory: %v", err)
	}
}

// TestPlanDirReplaceable: a directory of our own in a writable parent is
// replaced whole, as before.
func TestPlanDirReplaceable(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	os.Mkdir(dir, 0o755)
	pl, err := PlanDir(dir)
	if err != nil || pl.InPlace {
		t.Errorf("PlanDir(own directory) = %+v, %v; want a replacement", pl, err)
	}
	pl, err = PlanDir(filepath.Join(dir, "new", "deeper"))
	if err != nil || pl.InPlace {
		t.Errorf("PlanDir(new directory) = %+v, %v", pl, err)
	}
}
