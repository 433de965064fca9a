// Package console adapts what vbench prints to where it is printed: the
// width prose is wrapped at (the terminal's, or 100 columns when the output
// is not a terminal) and the characters the locale can show ("±" becomes
// "+/-" where the character set is not UTF-8).
//
// The locale is read as the C library reads LC_CTYPE (POSIX, "Locale"
// and setlocale(3)): the first of $LC_ALL, $LC_CTYPE and $LANG that is set
// and not empty names it; none set is the "C" locale. Its character set is
// UTF-8 when the name's codeset part says so ("en_US.UTF-8", "C.utf8");
// "C", "POSIX" and other codesets ("de_DE.ISO-8859-1") are not.
package console

import (
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/sys/unix"
)

// DefaultWidth is the width prose is wrapped at when the output is not a
// terminal (a file, a pipe, a test).
const DefaultWidth = 100

// MinWidth is the narrowest terminal width used: below it, lines would
// hold a word or two.
const MinWidth = 60

// Width is the width of the terminal w writes to, if it is one (an
// *os.File or anything with Fd), else DefaultWidth.
func Width(w any) int {
	f, ok := w.(interface{ Fd() uintptr })
	if !ok {
		return DefaultWidth
	}
	ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
	if err != nil || ws.Col == 0 {
		return DefaultWidth
	}
	return max(MinWidth, int(ws.Col))
}

// UTF8 reports whether the locale the environment names (getenv is
// os.Getenv, or a test's) has the UTF-8 character set.
func UTF8(getenv func(string) string) bool {
	name := ""
	for _, v := range []string{"LC_ALL", "LC_CTYPE", "LANG"} {
		if s := getenv(v); s != "" {
			name = s
			break
		}
	}
	_, codeset, ok := strings.Cut(name, ".")
	if !ok {
		return false // "C", "POSIX", "en_US": no codeset named, not UTF-8
	}
	codeset, _, _ = strings.Cut(codeset, "@") // en_US.UTF-8@euro
	codeset = strings.ToLower(strings.ReplaceAll(codeset, "-", ""))
	return codeset == "utf8"
}

// ascii are the non-ASCII characters vbench prints, and what stands for
// each in a locale without UTF-8.
var ascii = strings.NewReplacer(
	"±", "+/-", "²", "^2", "≤", "<=", "≥", ">=", "×", "x", "–", "-", "—", "-", "…", "...",
	"→", "->", "µ", "u", "≈", "~", "·", ".", "‰", " per mille",
)

// ASCII replaces the characters of ascii in s.
func ASCII(s string) string { return ascii.Replace(s) }

// Writer writes to W, replacing non-ASCII characters (ASCII) unless UTF8.
// Each Write is replaced on its own: a character split across two writes
// passes unchanged (vbench writes whole lines).
type Writer struct {
	W    io.Writer
	UTF8 bool
}

// NewWriter returns a Writer for w in the environment's locale.
func NewWriter(w io.Writer, utf8 bool) *Writer { return &Writer{W: w, UTF8: utf8} }

func (c *Writer) Write(p []byte) (int, error) {
	if c.UTF8 || utf8.Valid(p) && isASCII(p) {
		return c.W.Write(p)
	}
	if _, err := io.WriteString(c.W, ASCII(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

func isASCII(p []byte) bool {
	for _, b := range p {
		if b >= 0x80 {
			return false
		}
	}
	return true
}

// Fd is W's file descriptor, so that the terminal checks see through the
// Writer; ^0 when W has none.
func (c *Writer) Fd() uintptr {
	if f, ok := c.W.(interface{ Fd() uintptr }); ok {
		return f.Fd()
	}
	return ^uintptr(0)
}

// Raw is the writer under w when w is a Writer, else w: data written to
// standard output (a run file, CSV, metrics) passes unchanged.
func Raw(w io.Writer) io.Writer {
	for {
		switch c := w.(type) {
		case *Writer:
			w = c.W
		case interface{ Unwrap() io.Writer }:
			w = c.Unwrap()
		default:
			return w
		}
	}
}

// Wrap breaks s into lines of at most width columns (runes) at spaces,
// every line after the first starting with indent. A word longer than the
// width stands on a line of its own.
func Wrap(s string, width int, indent string) string {
	var b strings.Builder
	n := 0
	for i, word := range strings.Fields(s) {
		wl := utf8.RuneCountInString(word)
		if i > 0 {
			if n+1+wl > width {
				b.WriteString("\n" + indent)
				n = utf8.RuneCountInString(indent)
			} else {
				b.WriteByte(' ')
				n++
			}
		}
		b.WriteString(word)
		n += wl
	}
	return b.String()
}
