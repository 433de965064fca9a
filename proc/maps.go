package proc

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// ErrMalformedMaps is wrapped by every error that reports a line of
// /proc/PID/maps that does not have the documented form.
var ErrMalformedMaps = errors.New("malformed maps line")

// Mapping is one line of /proc/PID/maps (proc(5)):
//
//	address           perms offset  dev   inode       pathname
//	00400000-00452000 r-xp 00000000 08:02 173521      /usr/bin/dbus-daemon
type Mapping struct {
	Start, End uint64
	Perms      string // four characters, e.g. "r-xp"
	Offset     uint64
	Dev        string
	Inode      uint64
	// Path is the pathname column: a file, or a pseudo-path such as
	// "[vdso]", "[vvar]", "[vvar_vclock]", "[stack]", "[heap]",
	// "[vsyscall]"; empty for anonymous mappings.
	Path string
}

// Readable, Writable and Executable report the permission bits.
func (m Mapping) Readable() bool   { return len(m.Perms) > 0 && m.Perms[0] == 'r' }
func (m Mapping) Writable() bool   { return len(m.Perms) > 1 && m.Perms[1] == 'w' }
func (m Mapping) Executable() bool { return len(m.Perms) > 2 && m.Perms[2] == 'x' }

// String formats the mapping's address range, permissions and path, the
// columns a reader compares.
func (m Mapping) String() string {
	s := fmt.Sprintf("%x-%x %s", m.Start, m.End, m.Perms)
	if m.Path != "" {
		s += " " + m.Path
	}
	return s
}

// Size is End - Start.
func (m Mapping) Size() uint64 { return m.End - m.Start }

// Maps is a parsed maps file in address order, as the kernel prints it.
type Maps []Mapping

// Find returns the first mapping whose Path is path.
func (ms Maps) Find(path string) (Mapping, bool) {
	for _, m := range ms {
		if m.Path == path {
			return m, true
		}
	}
	return Mapping{}, false
}

// ParseMaps parses the text of a /proc/PID/maps file.
func ParseMaps(r io.Reader) (Maps, error) {
	var ms Maps
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		m, err := parseMapsLine(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		ms = append(ms, m)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return ms, nil
}

// ParseMapsLine parses one line of /proc/PID/maps, without its newline.
// Callers that parse many small maps files in a loop (package aslr) use it
// to avoid ParseMaps's scanner buffer.
func ParseMapsLine(line string) (Mapping, error) { return parseMapsLine(line) }

func parseMapsLine(line string) (Mapping, error) {
	// The first five columns are separated by single spaces; the pathname,
	// if any, follows padding and may itself contain spaces.
	var m Mapping
	rest := line
	field := func() (string, bool) {
		rest = strings.TrimLeft(rest, " ")
		i := strings.IndexByte(rest, ' ')
		if i < 0 {
			f := rest
			rest = ""
			return f, f != ""
		}
		f := rest[:i]
		rest = rest[i:]
		return f, true
	}
	addr, ok1 := field()
	perms, ok2 := field()
	off, ok3 := field()
	dev, ok4 := field()
	inode, ok5 := field()
	if !(ok1 && ok2 && ok3 && ok4 && ok5) {
		return m, fmt.Errorf("%w: %q: want at least 5 fields", ErrMalformedMaps, line)
	}
	lo, hi, ok := strings.Cut(addr, "-")
	if !ok {
		return m, fmt.Errorf("%w: %q: address has no '-'", ErrMalformedMaps, line)
	}
	var err error
	if m.Start, err = strconv.ParseUint(lo, 16, 64); err != nil {
		return m, fmt.Errorf("%w: %q: start address: %v", ErrMalformedMaps, line, err)
	}
	if m.End, err = strconv.ParseUint(hi, 16, 64); err != nil {
		return m, fmt.Errorf("%w: %q: end address: %v", ErrMalformedMaps, line, err)
	}
	if m.End < m.Start {
		return m, fmt.Errorf("%w: %q: end below start", ErrMalformedMaps, line)
	}
	if len(perms) != 4 {
		return m, fmt.Errorf("%w: %q: permissions %q", ErrMalformedMaps, line, perms)
	}
	m.Perms = perms
	if m.Offset, err = strconv.ParseUint(off, 16, 64); err != nil {
		return m, fmt.Errorf("%w: %q: offset: %v", ErrMalformedMaps, line, err)
	}
	m.Dev = dev
	if m.Inode, err = strconv.ParseUint(inode, 10, 64); err != nil {
		return m, fmt.Errorf("%w: %q: inode: %v", ErrMalformedMaps, line, err)
	}
	m.Path = strings.TrimLeft(rest, " ")
	return m, nil
}

// ReadMaps reads /proc/PID/maps; pid 0 means the calling process ("self").
func ReadMaps(pid int) (Maps, error) {
	b, err := os.ReadFile(procPath(pid, "maps"))
	if err != nil {
		return nil, err
	}
	return ParseMaps(bytes.NewReader(b))
}

func procPath(pid int, name string) string {
	if pid == 0 {
		return "/proc/self/" + name
	}
	return "/proc/" + strconv.Itoa(pid) + "/" + name
}
