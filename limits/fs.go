package limits

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// FS is where the files are: Proc is the proc file system's mount point,
// Root is prepended to every other absolute path (cgroup mount points).
type FS struct {
	Proc string
	Root string
}

// Live is the running machine.
var Live = FS{Proc: "/proc", Root: "/"}

// ErrParse is wrapped by errors about a file that does not read as
// expected.
var ErrParse = errors.New("unexpected format")

// ErrNoCgroup is wrapped when the process's cgroup for a controller cannot
// be found (no such controller mounted, no /proc/self/cgroup).
var ErrNoCgroup = errors.New("no cgroup")

func (fs FS) proc(elem ...string) string {
	return filepath.Join(append([]string{fs.Proc}, elem...)...)
}

func (fs FS) path(abs string) string { return filepath.Join(fs.Root, abs) }

// readUint reads a file holding one unsigned number, or "max" (v2: no
// limit), which gives ok false.
func readUint(path string) (v uint64, ok bool, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false, err
	}
	s := strings.TrimSpace(string(b))
	if s == "max" {
		return 0, false, nil
	}
	v, err = strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, false, &os.PathError{Op: "parse", Path: path, Err: errors.Join(ErrParse, err)}
	}
	return v, true, nil
}
