package bootlab

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cavaliergopher/cpio"
)

// TestInitramfsRoundTrip writes an archive and reads it back with an
// independent newc reader (github.com/cavaliergopher/cpio).
func TestInitramfsRoundTrip(t *testing.T) {
	content := bytes.Repeat([]byte("vbench init\x00\x01"), 1001) // not a multiple of 4
	init := filepath.Join(t.TempDir(), "vbench")
	if err := os.WriteFile(init, content, 0o644); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := writeInitramfs(&buf, init); err != nil {
		t.Fatal(err)
	}
	if buf.Len()%4 != 0 {
		t.Errorf("archive length %d is not a multiple of 4", buf.Len())
	}
	got := map[string]*cpio.Header{}
	var initData []byte
	r := cpio.NewReader(bytes.NewReader(buf.Bytes()))
	for {
		h, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("reading back: %v", err)
		}
		got[h.Name] = h
		if h.Name == "init" {
			initData, err = io.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	h, ok := got["init"]
	if !ok {
		t.Fatalf("no init in archive; have %v", keys(got))
	}
	if !h.Mode.IsRegular() || h.Mode.Perm() != 0o755 {
		t.Errorf("init mode %v, want regular 0755", h.Mode)
	}
	if !bytes.Equal(initData, content) {
		t.Errorf("init content differs: %d bytes back, %d written", len(initData), len(content))
	}
	for _, d := range initramfsDirs {
		if h, ok := got[d]; !ok || !h.Mode.IsDir() {
			t.Errorf("directory %s missing or not a directory", d)
		}
	}
	for _, dev := range []string{"dev/console", "dev/null"} {
		if h, ok := got[dev]; !ok || h.Mode&cpio.ModeType != cpio.TypeChar {
			t.Errorf("%s missing or not a character device", dev)
		}
	}
	if _, ok := got["TRAILER!!!"]; ok {
		t.Error("trailer read as a member")
	}
}

// TestInitramfsDeviceNumbers checks rdevmajor/rdevminor of the device nodes,
// which the cpio library does not expose: the kernel opens /dev/console
// (5,1) before running /init.
func TestInitramfsDeviceNumbers(t *testing.T) {
	init := filepath.Join(t.TempDir(), "init")
	if err := os.WriteFile(init, []byte("x"), 0o755); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := writeInitramfs(&buf, init); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	for _, c := range []struct {
		name         string
		major, minor int64
	}{{"dev/console", 5, 1}, {"dev/null", 1, 3}} {
		i := bytes.Index(b, []byte(c.name+"\x00"))
		if i < 110 {
			t.Fatalf("%s not found", c.name)
		}
		hdr := string(b[i-110 : i])
		if hdr[:6] != "070701" {
			t.Fatalf("%s: header magic %q", c.name, hdr[:6])
		}
		field := func(n int) int64 {
			v, err := strconv.ParseInt(hdr[6+8*n:6+8*n+8], 16, 64)
			if err != nil {
				t.Fatalf("%s: field %d: %v", c.name, n, err)
			}
			return v
		}
		// Fields after the magic: ino, mode, uid, gid, nlink, mtime,
		// filesize, devmajor, devminor, rdevmajor (9), rdevminor (10).
		if maj, min := field(9), field(10); maj != c.major || min != c.minor {
			t.Errorf("%s: device %d,%d, want %d,%d", c.name, maj, min, c.major, c.minor)
		}
	}
}

func TestInitramfsBadInit(t *testing.T) {
	var buf bytes.Buffer
	if err := writeInitramfs(&buf, filepath.Join(t.TempDir(), "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing init: got %v, want ErrNotExist", err)
	}
	if err := writeInitramfs(&buf, t.TempDir()); err == nil {
		t.Error("a directory as init was accepted")
	}
}

func keys(m map[string]*cpio.Header) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestStaleInitramfsRemoved(t *testing.T) {
	dir := t.TempDir()
	init := filepath.Join(dir, "init")
	if err := os.WriteFile(init, []byte("\x7fELF"), 0o755); err != nil {
		t.Fatal(err)
	}
	p, err := BuildInitramfs(dir, init)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(filepath.Base(p), ".vbench-initramfs-") || filepath.Dir(p) != dir {
		t.Errorf("initramfs at %s, want a hidden file in %s", p, dir)
	}
	keep := filepath.Join(dir, "run.json")
	os.WriteFile(keep, nil, 0o644)
	n, err := RemoveStaleInitramfs(dir)
	if err != nil || n != 1 {
		t.Errorf("removed %d, %v; want the one left", n, err)
	}
	if _, err := os.Stat(p); err == nil {
		t.Error("stale initramfs still there")
	}
	if _, err := os.Stat(keep); err != nil {
		t.Error("removed more than initramfs files")
	}
}
