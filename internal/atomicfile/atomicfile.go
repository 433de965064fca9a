// Package atomicfile writes output files so that a reader never sees half of
// one, and checks before any work that they can be written.
//
// A regular file (or a path that does not exist yet) gets its content in a
// temporary file in the same directory, synced and renamed over the
// destination only when complete. Renaming is right for regular files only:
// a symbolic link is followed, and the file it points to is replaced, so the
// link stays a link; a FIFO, a character device or a socket is written
// straight through (renaming over /dev/full would replace the device with a
// regular file). Errors name the caller's path, never the temporary file.
package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Write creates path with the content fill writes. On any error the
// temporary file is removed and path is left as it was.
func Write(path string, fill func(io.Writer) error) (err error) {
	dest, fi, err := resolve(path)
	if err != nil {
		return err
	}
	if fi != nil && !fi.Mode().IsRegular() {
		return writeThrough(path, dest, fill)
	}
	dir, base := filepath.Split(dest)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return fmt.Errorf("%s: %w", path, unwrapPath(err))
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = fill(f); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	mode := fs.FileMode(0o644)
	if fi != nil {
		mode = fi.Mode().Perm() // replacing a file keeps its permissions
	}
	if err = f.Chmod(mode); err != nil {
		return fmt.Errorf("%s: %w", path, unwrapPath(err))
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("%s: %w", path, unwrapPath(err))
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("%s: %w", path, unwrapPath(err))
	}
	if err = os.Rename(f.Name(), dest); err != nil {
		return fmt.Errorf("%s: %w", path, unwrapPath(err))
	}
	return nil
}

// WriteBytes writes b to path atomically.
func WriteBytes(path string, b []byte) error {
	return Write(path, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

// Check reports, before any work is done, whether Write(path) can succeed:
// an existing file that is not a directory and can be opened for writing, or
// a new file in a directory that exists and is writable. The error names
// path and says what is wrong.
func Check(path string) error {
	if path == "" {
		return errors.New("empty output path")
	}
	dest, fi, err := resolve(path)
	if err != nil {
		return err
	}
	if fi != nil {
		if fi.IsDir() {
			return fmt.Errorf("%s: is a directory", path)
		}
		if !fi.Mode().IsRegular() {
			// Opening a FIFO for writing blocks until a reader comes; ask
			// the kernel about permission instead.
			if err := unix.Access(dest, unix.W_OK); err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			return nil
		}
	}
	dir := filepath.Dir(dest)
	di, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("%s: directory %s: %w", path, dir, unwrapPath(err))
	}
	if !di.IsDir() {
		return fmt.Errorf("%s: %s is not a directory", path, dir)
	}
	if err := unix.Access(dir, unix.W_OK); err != nil {
		return fmt.Errorf("%s: directory %s is not writable: %w", path, dir, err)
	}
	return nil
}

// resolve follows path through symbolic links to the file to write, and
// stats it (fi is nil when it does not exist yet).
func resolve(path string) (dest string, fi fs.FileInfo, err error) {
	dest = path
	for range 40 { // as the kernel's MAXSYMLINKS
		li, err := os.Lstat(dest)
		if errors.Is(err, fs.ErrNotExist) {
			return dest, nil, nil
		}
		if err != nil {
			return "", nil, fmt.Errorf("%s: %w", path, unwrapPath(err))
		}
		if li.Mode()&fs.ModeSymlink == 0 {
			return dest, li, nil
		}
		target, err := os.Readlink(dest)
		if err != nil {
			return "", nil, fmt.Errorf("%s: %w", path, unwrapPath(err))
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(dest), target)
		}
		dest = target
	}
	return "", nil, fmt.Errorf("%s: too many levels of symbolic links", path)
}

// writeThrough writes to an existing file that is not a regular one.
func writeThrough(path, dest string, fill func(io.Writer) error) error {
	f, err := os.OpenFile(dest, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("%s: %w", path, unwrapPath(err))
	}
	if err := fill(f); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, unwrapPath(err))
	}
	return nil
}

// unwrapPath drops the *PathError's own path (a temporary name, or the
// resolved target) so that the message names the caller's path once.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}

// CheckDir reports, before any work, whether files can be made in dir: it
// is a writable directory, or does not exist yet and its nearest existing
// ancestor is one (MkdirAll will make it).
func CheckDir(dir string) error {
	if dir == "" {
		return errors.New("empty output directory")
	}
	d := dir
	for {
		fi, err := os.Stat(d)
		if err == nil {
			if !fi.IsDir() {
				return fmt.Errorf("%s: %s is not a directory", dir, d)
			}
			if err := unix.Access(d, unix.W_OK); err != nil {
				return fmt.Errorf("%s: %s is not writable: %w", dir, d, err)
			}
			return nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%s: %w", dir, unwrapPath(err))
		}
		parent := filepath.Dir(d)
		if parent == d {
			return fmt.Errorf("%s: no existing ancestor", dir)
		}
		d = parent
	}
}
