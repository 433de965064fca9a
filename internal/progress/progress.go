// Package progress draws a one-line progress bar with a rate on a terminal,
// and nothing at all when the output is not a terminal (a pipe, a file, CI),
// so that logs stay clean.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Bar is a progress bar. The zero of *Bar (nil) is a valid, silent bar.
type Bar struct {
	mu    sync.Mutex
	w     io.Writer
	label string
	unit  string
	total int
	done  int
	start time.Time
	last  time.Time
	dumb  bool // TERM=dumb: no escape sequences
	width int  // of the last line drawn, for clearing it without them
}

// IsTerminal reports whether w is a terminal: an *os.File, or any writer
// with an Fd method, whose descriptor answers TCGETS.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(interface{ Fd() uintptr })
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// New returns a bar drawing on w, or nil (silent) if w is not a terminal.
// unit names what is counted, e.g. "samples". On a terminal whose TERM is
// "dumb" the bar is redrawn with carriage returns and spaces only, no
// escape sequences.
func New(w io.Writer, label, unit string, total int) *Bar {
	if !IsTerminal(w) {
		return nil
	}
	now := time.Now()
	return &Bar{w: w, label: label, unit: unit, total: total, start: now, dumb: os.Getenv("TERM") == "dumb"}
}

// Set records progress and redraws at most ten times a second.
func (b *Bar) Set(done int) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done = done
	if now := time.Now(); now.Sub(b.last) >= 100*time.Millisecond || done >= b.total {
		b.last = now
		b.draw(now)
	}
}

// Add advances the bar by n.
func (b *Bar) Add(n int) {
	if b == nil {
		return
	}
	b.mu.Lock()
	d := b.done + n
	b.mu.Unlock()
	b.Set(d)
}

// Done clears the bar's line.
func (b *Bar) Done() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.clear()
	fmt.Fprint(b.w, "\r")
	b.width = 0
}

// clear starts the line afresh: "\r" and erase-line, or on a dumb
// terminal "\r", spaces over the last line and "\r" again.
func (b *Bar) clear() {
	if !b.dumb {
		fmt.Fprint(b.w, "\r\033[K")
		return
	}
	fmt.Fprint(b.w, "\r"+strings.Repeat(" ", b.width)+"\r")
}

func (b *Bar) draw(now time.Time) {
	const width = 30
	frac := 0.0
	if b.total > 0 {
		frac = float64(b.done) / float64(b.total)
	}
	frac = min(max(frac, 0), 1)
	fill := int(frac * width)
	el := now.Sub(b.start)
	rate := 0.0
	if el > 0 {
		rate = float64(b.done) / el.Seconds()
	}
	line := fmt.Sprintf("%s [%s%s] %d/%d %s (%.0f/s) %s", b.label,
		strings.Repeat("=", fill), strings.Repeat(" ", width-fill), b.done, b.total, b.unit, rate, clock(el))
	if rate > 0 && b.done < b.total {
		line += " ETA " + clock(time.Duration(float64(b.total-b.done)/rate*float64(time.Second)))
	}
	b.clear()
	fmt.Fprint(b.w, line)
	b.width = len(line)
}

// clock formats d as m:ss, or h:mm:ss past an hour.
func clock(d time.Duration) string {
	s := int(d.Round(time.Second).Seconds())
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}
