package limits

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// CgroupEntry is one line of /proc/PID/cgroup: "ID:CONTROLLERS:PATH"
// (v2: "0::PATH").
type CgroupEntry struct {
	ID          int
	Controllers []string // empty for v2
	Path        string
}

// ParseCgroup parses the contents of /proc/PID/cgroup.
func ParseCgroup(b []byte) ([]CgroupEntry, error) {
	var out []CgroupEntry
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 {
			return nil, fmt.Errorf("cgroup line %d %q: %w: want ID:CONTROLLERS:PATH", n, line, ErrParse)
		}
		id, err := strconv.Atoi(f[0])
		if err != nil {
			return nil, fmt.Errorf("cgroup line %d: id %q: %w", n, f[0], ErrParse)
		}
		e := CgroupEntry{ID: id, Path: f[2]}
		if f[1] != "" {
			e.Controllers = strings.Split(f[1], ",")
		}
		out = append(out, e)
	}
	return out, sc.Err()
}

// CgroupMount is a cgroup file system in /proc/PID/mountinfo.
type CgroupMount struct {
	V2          bool
	Root        string   // the cgroup path mounted (field 4)
	MountPoint  string   // where (field 5)
	Controllers []string // v1: the controllers in the super options
}

// ParseMountinfo returns the cgroup and cgroup2 mounts of the contents of
// /proc/PID/mountinfo (Documentation/filesystems/proc.rst, 3.5: fields up
// to the optional ones, "-", then type, source, super options).
func ParseMountinfo(b []byte) ([]CgroupMount, error) {
	var out []CgroupMount
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		sep := slices.Index(f, "-")
		if sep < 6 || len(f) < sep+4 {
			return nil, fmt.Errorf("mountinfo line %d: %w: no \" - TYPE SOURCE OPTIONS\" after 6 fields", n, ErrParse)
		}
		typ := f[sep+1]
		if typ != "cgroup" && typ != "cgroup2" {
			continue
		}
		m := CgroupMount{V2: typ == "cgroup2", Root: unescape(f[3]), MountPoint: unescape(f[4])}
		if !m.V2 {
			for _, o := range strings.Split(f[sep+3], ",") {
				switch {
				case o == "rw" || o == "ro" || strings.Contains(o, "="):
				default:
					m.Controllers = append(m.Controllers, o)
				}
			}
		}
		out = append(out, m)
	}
	return out, sc.Err()
}

// unescape undoes mountinfo's octal escapes (\040 for a space).
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// Cgroup is the directory of this process's cgroup for one controller.
type Cgroup struct {
	V2 bool
	// Dir is the cgroup's directory (under FS.Root); Top is the mount
	// point, the last ancestor to look at.
	Dir, Top string
	Path     string // as /proc/self/cgroup names it
}

// CgroupOf finds this process's cgroup for controller ("memory", "cpu"):
// the v1 hierarchy that has it, else the v2 one, if its
// cgroup.controllers lists it.
func (fs FS) CgroupOf(controller string) (Cgroup, error) {
	cb, err := os.ReadFile(fs.proc("self", "cgroup"))
	if err != nil {
		return Cgroup{}, fmt.Errorf("%w: %v", ErrNoCgroup, err)
	}
	entries, err := ParseCgroup(cb)
	if err != nil {
		return Cgroup{}, err
	}
	mb, err := os.ReadFile(fs.proc("self", "mountinfo"))
	if err != nil {
		return Cgroup{}, fmt.Errorf("%w: %v", ErrNoCgroup, err)
	}
	mounts, err := ParseMountinfo(mb)
	if err != nil {
		return Cgroup{}, err
	}
	dirOf := func(m CgroupMount, p string) (Cgroup, bool) {
		rel, err := filepath.Rel(m.Root, p)
		if err != nil || strings.HasPrefix(rel, "..") {
			return Cgroup{}, false // the process's cgroup is outside this mount (a namespace)
		}
		top := fs.path(m.MountPoint)
		return Cgroup{V2: m.V2, Dir: filepath.Join(top, rel), Top: top, Path: p}, true
	}
	for _, e := range entries {
		if e.ID == 0 || !slices.Contains(e.Controllers, controller) {
			continue
		}
		for _, m := range mounts {
			if !m.V2 && slices.Contains(m.Controllers, controller) {
				if c, ok := dirOf(m, e.Path); ok {
					return c, nil
				}
			}
		}
	}
	for _, e := range entries {
		if e.ID != 0 {
			continue
		}
		for _, m := range mounts {
			if !m.V2 {
				continue
			}
			c, ok := dirOf(m, e.Path)
			if !ok {
				continue
			}
			ctl, err := os.ReadFile(filepath.Join(c.Dir, "cgroup.controllers"))
			if err == nil && slices.Contains(strings.Fields(string(ctl)), controller) {
				return c, nil
			}
		}
	}
	return Cgroup{}, fmt.Errorf("%w: no %s controller for this process", ErrNoCgroup, controller)
}

// levels returns c.Dir and each ancestor up to c.Top, innermost first.
func (c Cgroup) levels() []string {
	var out []string
	for d := c.Dir; ; d = filepath.Dir(d) {
		out = append(out, d)
		if d == c.Top || len(d) <= len(c.Top) || d == filepath.Dir(d) {
			return out
		}
	}
}
