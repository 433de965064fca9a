package bootlab

import (
	"fmt"
	"io"
	"os"
	"sort"
)

// The initramfs is written by hand rather than with a cpio library: the
// kernel needs /dev/console as a character device before /init runs
// (init/main.c console_on_rootfs opens it for fds 0, 1 and 2; without it the
// Go runtime finds them closed and, lacking /dev/null, aborts), and the newc
// writer of github.com/cavaliergopher/cpio does not write device numbers
// (rdevmajor/rdevminor). The format is documented in the kernel's
// Documentation/driver-api/early-userspace/buffer-format.rst.

// File types in the newc mode field (from <sys/stat.h>).
const (
	cpioDir  = 0o040000
	cpioReg  = 0o100000
	cpioChar = 0o020000
)

// entry is one member of the archive.
type entry struct {
	name         string
	mode         uint32 // type | permission bits
	data         []byte // regular files only
	path         string // regular file read from disk, when data is nil
	size         int64
	major, minor uint32 // character devices
}

// initramfsDirs are the directories the guest mounts file systems on.
var initramfsDirs = []string{"dev", "proc", "sys", "tmp"}

// writeInitramfs writes an uncompressed newc archive holding initPath as
// /init (mode 0755), the directories in initramfsDirs, and the device nodes
// /dev/console (5,1) and /dev/null (1,3).
func writeInitramfs(w io.Writer, initPath string) error {
	fi, err := os.Stat(initPath)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s: not a regular file", initPath)
	}
	ents := []entry{
		{name: "init", mode: cpioReg | 0o755, path: initPath, size: fi.Size()},
		{name: "dev/console", mode: cpioChar | 0o600, major: 5, minor: 1},
		{name: "dev/null", mode: cpioChar | 0o666, major: 1, minor: 3},
	}
	for _, d := range initramfsDirs {
		ents = append(ents, entry{name: d, mode: cpioDir | 0o755})
	}
	// Directories before what they contain.
	sort.SliceStable(ents, func(i, j int) bool { return ents[i].name < ents[j].name })
	cw := &countWriter{w: w}
	for i, e := range ents {
		if err := writeEntry(cw, uint32(i+1), e); err != nil {
			return err
		}
	}
	return writeEntry(cw, 0, entry{name: "TRAILER!!!"})
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func (c *countWriter) pad4() error {
	if r := c.n % 4; r != 0 {
		_, err := c.Write(make([]byte, 4-r))
		return err
	}
	return nil
}

func writeEntry(cw *countWriter, ino uint32, e entry) error {
	nlink := uint32(1)
	if e.mode&cpioDir == cpioDir {
		nlink = 2
	}
	size := e.size
	if e.data != nil {
		size = int64(len(e.data))
	}
	if size > 0xffffffff {
		return fmt.Errorf("%s: too large for a newc archive", e.name)
	}
	// magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor,
	// devminor, rdevmajor, rdevminor, namesize, check.
	if _, err := fmt.Fprintf(cw, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		ino, e.mode, 0, 0, nlink, 0, size, 0, 0, e.major, e.minor, len(e.name)+1, 0); err != nil {
		return err
	}
	if _, err := io.WriteString(cw, e.name+"\x00"); err != nil {
		return err
	}
	if err := cw.pad4(); err != nil {
		return err
	}
	switch {
	case e.data != nil:
		if _, err := cw.Write(e.data); err != nil {
			return err
		}
	case e.path != "":
		f, err := os.Open(e.path)
		if err != nil {
			return err
		}
		n, err := io.Copy(cw, f)
		f.Close()
		if err != nil {
			return err
		}
		if n != size {
			return fmt.Errorf("%s changed size while being archived", e.path)
		}
	}
	return cw.pad4()
}
