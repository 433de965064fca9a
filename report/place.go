package report

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/vbench-dev/vbench/internal/atomicfile"
)

// Placement is how a report directory will be written (PlanDir).
type Placement struct {
	// Target is the directory written, symbolic links resolved.
	Target string
	// InPlace is true when the directory exists and is not replaced as a
	// whole: the files are written into it one by one, each renamed into
	// place whole. Why says what prevents the replacement.
	InPlace bool
	Why     string
}

// Notice is the line to show the user about an in-place write, or "".
func (p Placement) Notice() string {
	if !p.InPlace {
		return ""
	}
	return fmt.Sprintf("writing into %s file by file, each renamed into place whole: %s, so it is not replaced as a whole", p.Target, p.Why)
}

// PlanDir decides, before anything is rendered, how dir will be written,
// and checks that it can be: a directory that does not exist yet is made
// whole (its nearest existing ancestor must be writable); an existing one
// is replaced whole (ReplaceDir) unless it is
//   - a mount point (statx STATX_ATTR_MOUNT_ROOT, Linux 5.8; or a device
//     other than its parent's): rename(2) gives EBUSY,
//   - the current directory (`--out .`): replacing it would leave the
//     shell in a removed directory,
//   - owned by another user: a replacement would belong to this one,
//   - in a parent directory this process cannot write (or a sticky one it
//     does not own, as /tmp): the new directory cannot be made beside it,
//
// in which case it is written in place, and must itself be writable.
func PlanDir(dir string) (Placement, error) {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := atomicfile.CheckDir(dir); err != nil {
			return Placement{}, err
		}
		return Placement{Target: dir}, nil
	case err != nil:
		return Placement{}, err
	case !fi.IsDir():
		return Placement{}, fmt.Errorf("%s is not a directory", dir)
	}
	target, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return Placement{}, err
	}
	if target, err = filepath.Abs(target); err != nil {
		return Placement{}, err
	}
	pl := Placement{Target: target}
	pl.Why = whyInPlace(target, fi)
	pl.InPlace = pl.Why != ""
	if pl.InPlace {
		if err := unix.Access(target, unix.W_OK|unix.X_OK); err != nil {
			return Placement{}, fmt.Errorf("%s cannot be replaced (%s) and is not writable: %w", dir, pl.Why, err)
		}
	}
	return pl, nil
}

// whyInPlace says why the existing directory target (absolute, links
// resolved) is not to be replaced, or "".
func whyInPlace(target string, fi fs.FileInfo) string {
	parent := filepath.Dir(target)
	if parent == target {
		return "it is the root directory"
	}
	if mountRoot(target, parent) {
		return "it is a mount point"
	}
	if wd, err := os.Getwd(); err == nil {
		if w, err := filepath.EvalSymlinks(wd); err == nil && w == target {
			return "it is the current directory"
		}
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	euid := uint32(os.Geteuid())
	if ok && st.Uid != euid {
		return fmt.Sprintf("it belongs to uid %d, not to this process (uid %d)", st.Uid, euid)
	}
	if err := unix.Access(parent, unix.W_OK|unix.X_OK); err != nil {
		return fmt.Sprintf("its parent %s is not writable (%v)", parent, err)
	}
	return ""
}

// mountRoot reports whether dir is the root of a mount.
func mountRoot(dir, parent string) bool {
	var stx unix.Statx_t
	if unix.Statx(unix.AT_FDCWD, dir, unix.AT_SYMLINK_NOFOLLOW, unix.STATX_BASIC_STATS, &stx) == nil &&
		stx.Attributes_mask&unix.STATX_ATTR_MOUNT_ROOT != 0 {
		return stx.Attributes&unix.STATX_ATTR_MOUNT_ROOT != 0
	}
	var a, b unix.Stat_t
	if unix.Stat(dir, &a) != nil || unix.Stat(parent, &b) != nil {
		return false
	}
	return a.Dev != b.Dev
}

// writeInPlace has fill write into a hidden directory inside dir (so on
// its file system), then renames each file it wrote into dir, replacing a
// file of the same name whole; subdirectories are made where missing and
// filled the same way. Files dir held that fill did not write stay. When
// fill fails, the hidden directory is removed and dir is as it was. A
// process killed midway leaves some files new and some old, each whole.
func writeInPlace(dir string, fill func(tmp string) error) error {
	tmp, err := os.MkdirTemp(dir, ".vbench-tmp")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := fill(tmp); err != nil {
		return err
	}
	return moveInto(tmp, dir)
}

// moveInto renames every entry of src into dst (directories merged).
func moveInto(src, dst string) error {
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range entries {
		from, to := filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())
		if e.IsDir() {
			if fi, err := os.Lstat(to); err == nil && fi.IsDir() {
				if err := moveInto(from, to); err != nil {
					return err
				}
				continue
			}
		}
		if err := os.Rename(from, to); err != nil {
			return err
		}
	}
	return nil
}
