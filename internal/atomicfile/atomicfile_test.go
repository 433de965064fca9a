package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestWriteReplacesWhole(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.txt")
	if err := WriteBytes(path, []byte("old")); err != nil {
		t.Fatal(err)
	}
	if err := WriteBytes(path, []byte("new content")); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil || string(b) != "new content" {
		t.Fatalf("read %q, %v", b, err)
	}
}

func TestWriteFailureKeepsOld(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.txt")
	if err := WriteBytes(path, []byte("old")); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := Write(path, func(w io.Writer) error {
		io.WriteString(w, "half")
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	b, _ := os.ReadFile(path)
	if string(b) != "old" {
		t.Errorf("file is %q after a failed write, want the old content", b)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("temporary files left: %v", ents)
	}
}

func TestWriteMissingDir(t *testing.T) {
	if err := WriteBytes(filepath.Join(t.TempDir(), "no", "such", "f"), nil); err == nil {
		t.Error("writing into a missing directory should fail")
	}
}

func TestWriteThroughSymlinkKeepsTheLink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "real.json")
	link := filepath.Join(dir, "link.json")
	if err := os.WriteFile(target, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("real.json", link); err != nil {
		t.Fatal(err)
	}
	if err := WriteBytes(link, []byte("new")); err != nil {
		t.Fatal(err)
	}
	if li, err := os.Lstat(link); err != nil || li.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the link was replaced: %v %v", li.Mode(), err)
	}
	b, _ := os.ReadFile(target)
	if string(b) != "new" {
		t.Errorf("target holds %q", b)
	}
	if fi, _ := os.Stat(target); fi.Mode().Perm() != 0o600 {
		t.Errorf("target's permissions became %v", fi.Mode().Perm())
	}
	// A dangling link creates its target.
	dangling := filepath.Join(dir, "dangling")
	os.Symlink("new-target", dangling)
	if err := WriteBytes(dangling, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "new-target")); string(b) != "x" {
		t.Errorf("dangling link's target holds %q", b)
	}
}

func TestWriteThroughDevicesAndFIFOs(t *testing.T) {
	// /dev/null stays a device (the bug: /dev/full became a regular file).
	if err := WriteBytes("/dev/null", []byte("x")); err != nil {
		t.Fatalf("/dev/null: %v", err)
	}
	if fi, err := os.Stat("/dev/null"); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		t.Fatalf("/dev/null is no longer a character device: %v", fi.Mode())
	}
	// /dev/full fails, naming the path, and stays a device.
	if _, err := os.Stat("/dev/full"); err == nil {
		err := WriteBytes("/dev/full", []byte("x"))
		if err == nil || !strings.Contains(err.Error(), "/dev/full") {
			t.Errorf("/dev/full: %v", err)
		}
		if fi, _ := os.Stat("/dev/full"); fi.Mode()&os.ModeCharDevice == 0 {
			t.Fatal("/dev/full is no longer a character device")
		}
	}
	// A FIFO is written through, not replaced.
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := unix.Mkfifo(fifo, 0o600); err != nil {
		t.Skip(err)
	}
	got := make(chan string)
	go func() {
		b, _ := os.ReadFile(fifo)
		got <- string(b)
	}()
	if err := WriteBytes(fifo, []byte("through the pipe")); err != nil {
		t.Fatal(err)
	}
	if s := <-got; s != "through the pipe" {
		t.Errorf("reader got %q", s)
	}
	if fi, _ := os.Lstat(fifo); fi.Mode()&os.ModeNamedPipe == 0 {
		t.Error("the FIFO was replaced by a regular file")
	}
}

func TestErrorsNameTheUsersPath(t *testing.T) {
	p := "/nonexistent-dir/x.json"
	err := WriteBytes(p, []byte("x"))
	if err == nil || !strings.HasPrefix(err.Error(), p+": ") || strings.Contains(err.Error(), ".tmp") {
		t.Errorf("error %q should name %s and no temporary file", err, p)
	}
}

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	if err := Check(filepath.Join(dir, "new.json")); err != nil {
		t.Errorf("new file in a writable directory: %v", err)
	}
	if err := Check("/dev/null"); err != nil {
		t.Errorf("/dev/null: %v", err)
	}
	for _, bad := range []string{"", dir, "/nonexistent-dir/x.json", filepath.Join(dir, "new.json", "x")} {
		if err := Check(bad); err == nil {
			t.Errorf("Check(%q) passed", bad)
		} else if bad != "" && !strings.HasPrefix(err.Error(), bad+":") {
			t.Errorf("Check(%q): %q does not start with the path", bad, err)
		}
	}
	if os.Geteuid() != 0 { // root may write anywhere
		ro := filepath.Join(dir, "ro")
		os.Mkdir(ro, 0o500)
		if err := Check(filepath.Join(ro, "x")); err == nil {
			t.Error("a file in a read-only directory passed")
		}
	}
}

func TestCheckDir(t *testing.T) {
	dir := t.TempDir()
	for _, ok := range []string{dir, filepath.Join(dir, "a", "b")} {
		if err := CheckDir(ok); err != nil {
			t.Errorf("CheckDir(%q): %v", ok, err)
		}
	}
	f := filepath.Join(dir, "file")
	os.WriteFile(f, nil, 0o644)
	for _, bad := range []string{"", f, filepath.Join(f, "sub")} {
		if err := CheckDir(bad); err == nil {
			t.Errorf("CheckDir(%q) passed", bad)
		}
	}
	if os.Geteuid() != 0 {
		ro := filepath.Join(dir, "ro")
		os.Mkdir(ro, 0o500)
		if err := CheckDir(filepath.Join(ro, "results")); err == nil {
			t.Error("a directory under a read-only one passed")
		}
	}
}
