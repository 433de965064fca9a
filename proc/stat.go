package proc

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrMalformedStat is wrapped by every error that reports a /proc/PID/stat
// line that does not have the form proc(5) documents.
var ErrMalformedStat = errors.New("malformed stat line")

// Stat holds the fields of /proc/PID/stat that vbench uses. Field numbers
// are proc(5)'s (1-based). The address fields (26 to 28, 45 to 51) read as
// 0 unless the reader may ptrace the process (fs/proc/array.c:do_task_stat
// checks PTRACE_MODE_READ_FSCREDS), and fields the running kernel does not
// print are left 0: NFields says how many there were.
type Stat struct {
	PID        int    // (1)
	Comm       string // (2) without the parentheses
	State      byte   // (3) R, S, D, Z, T, t, X, ...
	PPID       int    // (4)
	NumThreads int    // (20)
	StartTime  uint64 // (22) clock ticks after boot
	VSize      uint64 // (23) bytes
	StartCode  uint64 // (26)
	EndCode    uint64 // (27)
	StartStack uint64 // (28) mm->start_stack
	StartData  uint64 // (45)
	EndData    uint64 // (46)
	StartBrk   uint64 // (47) mm->start_brk: where the heap begins
	ArgStart   uint64 // (48)
	ArgEnd     uint64 // (49)
	EnvStart   uint64 // (50)
	EnvEnd     uint64 // (51)
	// NFields is the number of fields on the line, comm counted as one.
	NFields int
}

// states are the letters the state field may hold: those of
// fs/proc/array.c:task_state_array (R S D T t X Z P I) and of older kernels
// as proc(5) lists them (W, x, K).
const states = "RSDTtXZPIWxK"

// ParseStat parses the one line of /proc/PID/stat. comm may itself hold
// spaces and parentheses: it is taken up to the last ')' on the line, as
// the kernel prints no ')' after it.
func ParseStat(b []byte) (Stat, error) {
	var s Stat
	line := strings.TrimRight(string(b), "\n")
	open := strings.IndexByte(line, '(')
	end := strings.LastIndexByte(line, ')')
	if open < 1 || end < open {
		return s, fmt.Errorf("%w: %q: no \"pid (comm)\"", ErrMalformedStat, line)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(line[:open]))
	if err != nil {
		return s, fmt.Errorf("%w: pid: %v", ErrMalformedStat, err)
	}
	s.PID = pid
	s.Comm = line[open+1 : end]
	rest := strings.Fields(line[end+1:])
	if len(rest) < 2 {
		return s, fmt.Errorf("%w: %q: fields missing after comm", ErrMalformedStat, line)
	}
	s.NFields = 2 + len(rest)
	if len(rest[0]) != 1 || !strings.Contains(states, rest[0]) {
		return s, fmt.Errorf("%w: state %q", ErrMalformedStat, rest[0])
	}
	s.State = rest[0][0]
	// Every field after the state is a decimal integer.
	for i, f := range rest[1:] {
		if _, err := strconv.ParseInt(f, 10, 64); err != nil {
			if _, uerr := strconv.ParseUint(f, 10, 64); uerr != nil {
				return s, fmt.Errorf("%w: field %d %q is not a number", ErrMalformedStat, i+4, f)
			}
		}
	}
	// field n (1-based, n >= 3) is rest[n-3].
	num := func(n int) (uint64, error) {
		if n-3 >= len(rest) {
			return 0, nil
		}
		f := rest[n-3]
		v, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			// Some fields (ppid of pid 1's parent, nice) may be negative;
			// none of those vbench reads as addresses.
			iv, ierr := strconv.ParseInt(f, 10, 64)
			if ierr != nil {
				return 0, fmt.Errorf("%w: field %d %q: %v", ErrMalformedStat, n, f, err)
			}
			v = uint64(iv)
		}
		return v, nil
	}
	fields := []struct {
		n   int
		dst *uint64
	}{
		{22, &s.StartTime}, {23, &s.VSize}, {26, &s.StartCode}, {27, &s.EndCode},
		{28, &s.StartStack}, {45, &s.StartData}, {46, &s.EndData}, {47, &s.StartBrk},
		{48, &s.ArgStart}, {49, &s.ArgEnd}, {50, &s.EnvStart}, {51, &s.EnvEnd},
	}
	for _, f := range fields {
		if *f.dst, err = num(f.n); err != nil {
			return s, err
		}
	}
	v, err := num(4)
	if err != nil {
		return s, err
	}
	s.PPID = int(v)
	if v, err = num(20); err != nil {
		return s, err
	}
	s.NumThreads = int(v)
	return s, nil
}
