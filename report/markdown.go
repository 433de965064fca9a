package report

import (
	"strings"
	"unicode"
)

// Escaping of text that report.md takes from run files and the command
// line: labels, notes, conclusions, check details, error lines, the
// environment's strings. Such text is written inline (a table cell, a
// list item, a heading) and must stay there as literal text, whatever it
// holds: it must not end the line (a label with a newline could otherwise
// start a heading or an image of its own), open a table cell, or start a
// link, an image, raw HTML, emphasis, a code span or math.
//
// The rules follow the CommonMark spec (0.31, https://spec.commonmark.org)
// with GitHub's extensions (tables, strikethrough, autolinks, math): any
// ASCII punctuation may be escaped with a backslash, and inside a table a
// '|' must be escaped even in a code span. Only what could start markup is
// escaped, so ordinary text ("syscall <= vdso", "PREEMPT_DYNAMIC",
// "vm.mmap_rnd_bits") is written unchanged.

// mdEscape returns s as inline Markdown text that renders as s: control
// characters (newlines included) become spaces, leading and trailing
// spaces are trimmed, and the characters that could start markup are
// backslash-escaped.
func mdEscape(s string) string {
	s = strings.TrimSpace(flattenControls(s))
	lead := blockMarker(s)
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		c := s[i]
		var next byte
		if i+1 < len(s) {
			next = s[i+1]
		}
		if i == lead || escapeAt(s, i, c, next) {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	return b.String()
}

// escapeAt says whether byte c at s[i] (followed by next) needs a
// backslash.
func escapeAt(s string, i int, c, next byte) bool {
	switch c {
	case '\\', '`', '*', '~', '|', '$':
		// Escapes, code spans, emphasis, strikethrough, table cells,
		// math: always.
		return true
	case '_':
		// Emphasis with '_' cannot open or close inside a word
		// (CommonMark 6.2, rules 2 and 4): escape it only at a word's
		// edge.
		return i == 0 || i == len(s)-1 || !isAlnum(s[i-1]) || !isAlnum(next)
	case '<':
		// Raw HTML and autolinks start with '<' and a letter, '/', '!'
		// or '?'; "<=" is text.
		return isAlpha(next) || next == '/' || next == '!' || next == '?'
	case ']':
		// A link or image needs "](" or "][" (the "[x]" shortcut form
		// needs a definition, which only a line's start can hold).
		return next == '(' || next == '['
	case '&':
		// Entity and numeric character references: "&amp;", "&#10;".
		return isAlpha(next) || next == '#'
	case '#':
		// An ATX heading opens with one to six '#' and a space (or the
		// end); its closing sequence is a run of '#' after a space at the
		// end. A '#' inside text ("#1 SMP") is text.
		if i == 0 {
			j := len(s) - len(strings.TrimLeft(s, "#"))
			return j <= 6 && (j == len(s) || s[j] == ' ')
		}
		if strings.Trim(s[i:], "#") == "" {
			start := len(strings.TrimRight(s, "#"))
			return start == 0 || s[start-1] == ' '
		}
	}
	return false
}

// blockMarker returns the index of the byte to escape so that s, written
// at the start of a list item's content, opens no block of its own: a
// block quote, a bullet list item, a thematic break or setext underline,
// a link reference definition ("[x]: url"), or an ordered list item ("1."
// or "1)": the '.' or ')' is escaped, since a backslash before a digit is
// shown, not removed). A heading's '#' is escaped by escapeAt. -1: none.
func blockMarker(s string) int {
	if s == "" {
		return -1
	}
	spaceAfter := func(j int) bool { return j+1 == len(s) || s[j+1] == ' ' }
	switch s[0] {
	case '>':
		return 0
	case '-', '+':
		if spaceAfter(0) || strings.Trim(s, s[:1]+" ") == "" {
			return 0
		}
	case '=':
		if strings.Trim(s, "= ") == "" {
			return 0
		}
	case '[':
		// "[label]: destination" with nothing after it but a title:
		// a definition. "[vsyscall]: fixed at ..." is text.
		if _, def, ok := strings.Cut(s, "]:"); ok {
			_, title, _ := strings.Cut(strings.TrimLeft(def, " "), " ")
			title = strings.TrimLeft(title, " ")
			if title == "" || strings.ContainsRune(`"'(`, rune(title[0])) {
				return 0
			}
		}
	}
	j := 0
	for j < len(s) && j < 10 && '0' <= s[j] && s[j] <= '9' {
		j++
	}
	if j > 0 && j < len(s) && (s[j] == '.' || s[j] == ')') && spaceAfter(j) {
		return j
	}
	return -1
}

// mdCode returns s as an inline code span for a table cell: control
// characters become spaces, the fence is one backtick longer than the
// longest run of backticks in s, and '|' is escaped as GitHub's tables
// require (a backslash before '|' inside a code span in a table is removed
// by the table, not shown). An empty s is "".
func mdCode(s string) string {
	s = flattenControls(s)
	if strings.TrimSpace(s) == "" {
		return ""
	}
	run, longest := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	body := strings.ReplaceAll(s, "|", `\|`)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		body = " " + body + " " // one space each side is stripped (CommonMark 6.1)
	}
	return fence + body + fence
}

// flattenControls replaces every control character (C0, DEL, C1) and the
// Unicode line and paragraph separators with a space: report.md's
// structure is its lines, and free text must never end one.
func flattenControls(s string) string {
	if strings.IndexFunc(s, isLineBreaking) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isLineBreaking(r) {
			return ' '
		}
		return r
	}, s)
}

func isLineBreaking(r rune) bool {
	return unicode.IsControl(r) || r == '\u2028' || r == '\u2029'
}

func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isAlnum(c byte) bool { return isAlpha(c) || '0' <= c && c <= '9' }
