package proc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
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
	Dev        string // "major:minor" in hex, e.g. "fe:00"
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

// AppendLine appends m as the kernel prints it, without the newline
// (fs/proc/task_mmu.c:show_vma_header_prefix and show_map_vma): start, end
// and offset in hex of at least 8 digits, the device and the decimal inode,
// a space, then, for a named mapping, padding to column 72, a space and the
// path. For a mapping ParseMaps returned, parsing the result gives m back.
func (m Mapping) AppendLine(b []byte) []byte {
	n0 := len(b)
	b = appendHex8(b, m.Start)
	b = append(b, '-')
	b = appendHex8(b, m.End)
	b = append(b, ' ')
	b = append(b, m.Perms...)
	b = append(b, ' ')
	b = appendHex8(b, m.Offset)
	b = append(b, ' ')
	b = append(b, m.Dev...)
	b = append(b, ' ')
	b = strconv.AppendUint(b, m.Inode, 10)
	b = append(b, ' ')
	if m.Path != "" {
		// seq_setwidth(m, 25 + sizeof(void *) * 6 - 1), then seq_pad(m, ' ').
		const width = 25 + 8*6 - 1
		for len(b)-n0 < width {
			b = append(b, ' ')
		}
		b = append(b, ' ')
		b = append(b, m.Path...)
	}
	return b
}

// appendHex8 appends v in lowercase hex, zero-padded to 8 digits as
// seq_put_hex_ll(m, ..., v, 8) prints it.
func appendHex8(b []byte, v uint64) []byte {
	for d := 7; d > 0 && v>>(4*d) == 0; d-- {
		b = append(b, '0')
	}
	return strconv.AppendUint(b, v, 16)
}

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
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return AppendMaps(nil, b)
}

// AppendMaps parses b, the text of a /proc/PID/maps file, and appends its
// mappings to dst. Blank lines are skipped. It is the parser ParseMaps
// uses, made for callers that read many maps files in a loop (package
// aslr reads one per spawned child): passing the previous result as
// dst[:0] reuses its memory, and the strings of the permissions, the
// device and the path are shared with the previous line or a table of
// common values where they repeat, so that a typical file costs a few
// allocations rather than several per line. On error it returns dst as it
// was.
func AppendMaps(dst Maps, b []byte) (Maps, error) {
	n0 := len(dst)
	for n := 1; len(b) > 0; n++ {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var prev *Mapping
		if len(dst) > n0 {
			prev = &dst[len(dst)-1]
		}
		m, err := parseMapsLine(line, prev)
		if err != nil {
			return dst[:n0], fmt.Errorf("line %d: %w", n, err)
		}
		dst = append(dst, m)
	}
	return dst, nil
}

// permStrings holds every valid permission column, indexed by its bits:
// r 1, w 2, x 4, s (shared, else p) 8.
var permStrings = func() (t [16]string) {
	for i := range t {
		p := []byte("---p")
		for bit, c := range "rwxs" {
			if i&(1<<bit) != 0 {
				p[bit] = byte(c)
			}
		}
		t[i] = string(p)
	}
	return t
}()

// commonPaths are pseudo-paths every process has, shared rather than
// allocated.
var commonPaths = []string{"[vdso]", "[vvar]", "[vvar_vclock]", "[stack]", "[heap]", "[vsyscall]"}

func parseMapsLine(line []byte, prev *Mapping) (Mapping, error) {
	// The first five columns are separated by single spaces; the pathname,
	// if any, follows padding and may itself contain spaces.
	var m Mapping
	rest := line
	field := func() []byte {
		for len(rest) > 0 && rest[0] == ' ' {
			rest = rest[1:]
		}
		i := bytes.IndexByte(rest, ' ')
		if i < 0 {
			i = len(rest)
		}
		f := rest[:i]
		rest = rest[i:]
		return f
	}
	bad := func(format string, args ...any) (Mapping, error) {
		return Mapping{}, fmt.Errorf("%w: %q: %s", ErrMalformedMaps, line, fmt.Sprintf(format, args...))
	}
	addr, perms, off, dev, inode := field(), field(), field(), field(), field()
	if len(inode) == 0 {
		return bad("want at least 5 fields")
	}
	lo, hi, ok := bytes.Cut(addr, []byte{'-'})
	if !ok {
		return bad("address has no '-'")
	}
	if m.Start, ok = parseHex(lo); !ok {
		return bad("start address %q is not hex", lo)
	}
	if m.End, ok = parseHex(hi); !ok {
		return bad("end address %q is not hex", hi)
	}
	if m.End < m.Start {
		return bad("end below start")
	}
	if m.Perms, ok = parsePerms(perms); !ok {
		return bad("permissions %q", perms)
	}
	if m.Offset, ok = parseHex(off); !ok {
		return bad("offset %q is not hex", off)
	}
	major, minor, ok := bytes.Cut(dev, []byte{':'})
	if _, ok1 := parseHex(major); !ok || !ok1 {
		return bad("device %q is not major:minor", dev)
	}
	if _, ok = parseHex(minor); !ok {
		return bad("device %q is not major:minor", dev)
	}
	if m.Inode, ok = parseDec(inode); !ok {
		return bad("inode %q is not a number", inode)
	}
	for len(rest) > 0 && rest[0] == ' ' {
		rest = rest[1:]
	}
	var prevDev, prevPath string
	if prev != nil {
		prevDev, prevPath = prev.Dev, prev.Path
	}
	m.Dev = share(dev, prevDev, anonDev)
	m.Path = share(rest, prevPath, commonPaths...)
	return m, nil
}

// parsePerms reads the permission column: r or -, w or -, x or -, then s
// (VM_MAYSHARE) or p.
func parsePerms(b []byte) (string, bool) {
	if len(b) != 4 {
		return "", false
	}
	i := 0
	for bit, c := range [3]byte{'r', 'w', 'x'} {
		switch b[bit] {
		case c:
			i |= 1 << bit
		case '-':
		default:
			return "", false
		}
	}
	switch b[3] {
	case 's':
		i |= 8
	case 'p':
	default:
		return "", false
	}
	return permStrings[i], true
}

// anonDev is the device of anonymous and pseudo-file mappings.
const anonDev = "00:00"

// share returns b as a string, without allocating when it equals prev (the
// same column of the previous line) or one of common.
func share(b []byte, prev string, common ...string) string {
	if len(b) == 0 {
		return ""
	}
	if prev == string(b) {
		return prev
	}
	for _, s := range common {
		if s == string(b) {
			return s
		}
	}
	return string(b)
}

// parseHex parses 1 to 16 hex digits.
func parseHex(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 16 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		v = v<<4 | uint64(c)
	}
	return v, true
}

// parseDec parses a decimal uint64, refusing overflow.
func parseDec(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (1<<64-1-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	return v, true
}
