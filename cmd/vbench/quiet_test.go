package main

import (
	"bytes"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal pair (pts(4): /dev/ptmx, unlocked with
// TIOCSPTLCK, the slave named by TIOCGPTN), so that the progress bar,
// which draws only on a terminal, can be seen.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		t.Skipf("unlocking the pseudo-terminal: %v", err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		m.Close()
		t.Skipf("naming the pseudo-terminal: %v", err)
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		t.Skipf("opening the pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { s.Close(); m.Close() })
	return m, s
}

// With stderr on a terminal, bench draws its progress bar; with --quiet it
// writes nothing there.
func TestQuietSilencesTheBar(t *testing.T) {
	useSyscallOnlyDoors(t)
	for _, quiet := range []bool{false, true} {
		master, slave := openPTY(t)
		args := []string{"bench", "--functions", "time", "--paths", "syscall", "--count", "3", "--benchtime", "1ms", "--latency=false"}
		if quiet {
			args = append(args, "--quiet")
		}
		var stdout bytes.Buffer
		if err := run(args, &stdout, slave); err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		// Everything written to the slave is readable on the master now;
		// a marker ends it, so the read cannot block.
		slave.WriteString("END\n")
		var got bytes.Buffer
		buf := make([]byte, 4096)
		for !strings.Contains(got.String(), "END") {
			n, err := master.Read(buf)
			got.Write(buf[:n])
			if err != nil && err != io.EOF {
				t.Fatal(err)
			}
		}
		term := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(got.String()), "END"))
		switch {
		case !quiet && !strings.Contains(term, "bench ["):
			t.Errorf("no progress bar on the terminal: %q", term)
		case quiet && strings.Trim(term, "\r\n") != "":
			t.Errorf("--quiet wrote to the terminal: %q", term)
		}
		if !strings.Contains(stdout.String(), "ns/call") {
			t.Errorf("--quiet=%v: no table on stdout:\n%s", quiet, stdout.String())
		}
	}
}
