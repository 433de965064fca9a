package report

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// ReplaceDir gives dir what fill writes, all of it or none of it. fill
// writes into a new directory beside dir (".NAME.tmp*", in dir's parent, so
// on the same file system); only when it returns nil is that directory put
// in dir's place. Whatever the old dir held that fill did not write
// (run.json and bench.txt in a run's directory, figures of an earlier
// report) is carried into the new one first, as hard links (copies where
// the file system has none), so the result is what writing into dir in
// place would give, without a moment where it is half written.
//
// A new dir is made with one rename(2). An existing one is exchanged with
// the new directory in one step, renameat2(RENAME_EXCHANGE) (Linux 3.15,
// fs/namei.c), and the old contents, then at the temporary name, are
// removed. Where the file system does not offer the exchange, the old
// directory is renamed aside (".NAME.old*"), the new one renamed in, and
// the old one removed: a process killed between those two renames leaves
// no dir, the old contents complete under .NAME.old* and the new ones
// complete under .NAME.tmp*; either can be renamed back by hand.
//
// An existing dir that cannot or should not be replaced (PlanDir says
// which: a mount point, the current directory, one owned by another user
// or in a parent this process cannot write) is written into instead,
// file by file, each file renamed into place whole (writeInPlace).
//
// When fill fails, or returns an error because it was cancelled, the
// temporary directory is removed and dir is left as it was. A process
// killed (SIGKILL) while fill runs leaves dir as it was and the
// temporary directory behind, under its hidden name.
func ReplaceDir(dir string, fill func(tmp string) error) (err error) {
	pl, err := PlanDir(dir)
	if err != nil {
		return err
	}
	if pl.InPlace {
		return writeInPlace(pl.Target, fill)
	}
	target := dir
	exists := false
	switch fi, err := os.Stat(dir); {
	case err == nil && !fi.IsDir():
		return fmt.Errorf("%s is not a directory", dir)
	case err == nil:
		exists = true
		// A symbolic link to a directory stays a link: the directory it
		// names is replaced.
		if target, err = filepath.EvalSymlinks(dir); err != nil {
			return err
		}
	case !errors.Is(err, fs.ErrNotExist):
		return err
	}
	target = filepath.Clean(target)
	parent, base := filepath.Dir(target), filepath.Base(target)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, "."+base+".tmp")
	if err != nil {
		return err
	}
	defer func() {
		if tmp != "" {
			os.RemoveAll(tmp)
		}
	}()
	if err := fill(tmp); err != nil {
		return err
	}
	mode := fs.FileMode(0o755)
	if exists {
		fi, err := os.Stat(target)
		if err != nil {
			return err
		}
		mode = fi.Mode().Perm()
		if err := carry(target, tmp); err != nil {
			return fmt.Errorf("keeping what %s held: %w", dir, err)
		}
	}
	if err := os.Chmod(tmp, mode); err != nil {
		return err
	}
	if !exists {
		if err := os.Rename(tmp, target); err != nil {
			return err
		}
		tmp = ""
		return nil
	}
	err = unix.Renameat2(unix.AT_FDCWD, tmp, unix.AT_FDCWD, target, unix.RENAME_EXCHANGE)
	switch {
	case err == nil:
		return nil // tmp now holds the old contents, removed by the deferred call
	case errors.Is(err, unix.EINVAL), errors.Is(err, unix.ENOSYS), errors.Is(err, unix.EOPNOTSUPP):
		return swapByRenames(tmp, target, parent, base, &tmp)
	default:
		return fmt.Errorf("replacing %s: %w", dir, err)
	}
}

// swapByRenames puts the complete directory tmp in target's place when
// the file system cannot exchange them: target aside, tmp in, the old one
// removed. *tmpp is cleared once tmp is in place.
func swapByRenames(tmp, target, parent, base string, tmpp *string) error {
	old, err := os.MkdirTemp(parent, "."+base+".old")
	if err != nil {
		return err
	}
	// rename(2) replaces an empty directory (os.Rename refuses to).
	if err := unix.Rename(target, old); err != nil {
		os.Remove(old)
		return &os.LinkError{Op: "rename", Old: target, New: old, Err: err}
	}
	if err := os.Rename(tmp, target); err != nil {
		if back := os.Rename(old, target); back != nil {
			return fmt.Errorf("%w; the previous contents are in %s", err, old)
		}
		return err
	}
	*tmpp = ""
	return os.RemoveAll(old)
}

// carry gives dst every entry of src it lacks: directories are made and
// filled the same way, files hard-linked (copied where linking fails),
// symbolic links made again. An entry dst already has is left alone: what
// was just written wins.
func carry(src, dst string) error {
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range entries {
		from, to := filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())
		if _, err := os.Lstat(to); err == nil {
			continue
		}
		switch t := e.Type(); {
		case t.IsDir():
			fi, err := e.Info()
			if err != nil {
				return err
			}
			if err := os.Mkdir(to, fi.Mode().Perm()); err != nil {
				return err
			}
			if err := carry(from, to); err != nil {
				return err
			}
		case t&fs.ModeSymlink != 0:
			link, err := os.Readlink(from)
			if err != nil {
				return err
			}
			if err := os.Symlink(link, to); err != nil {
				return err
			}
		default:
			if os.Link(from, to) == nil {
				continue
			}
			if err := copyFile(from, to); err != nil {
				return err
			}
		}
	}
	return nil
}

// copyFile copies a regular file with its permission bits.
func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s: not a regular file, not carried over", from)
	}
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fi.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
