package probes

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vbench-dev/vbench/probes/vdso"
	"github.com/vbench-dev/vbench/runfile"
)

// TestRegistryComplete: every row has what bench and the single calls need,
// and a benchmark name of its own. (That every row has a verify check is
// tested in package verify.)
func TestRegistryComplete(t *testing.T) {
	d := doors(t)
	seen := map[runfile.Function]bool{}
	names := map[string]runfile.Function{}
	for _, c := range Calls {
		if c.Func == "" || c.Func == runfile.FuncFloor || seen[c.Func] {
			t.Errorf("row %+v: empty, floor or repeated function", c)
		}
		seen[c.Func] = true
		if c.VDSO == "" || strings.HasPrefix(c.VDSO, vdso.Prefix) {
			t.Errorf("%s: vDSO base name %q", c.Func, c.VDSO)
		}
		if c.Trap == 0 || len(c.Args) == 0 || len(c.Args) > maxArgs {
			t.Errorf("%s: syscall %d, %d args (at most %d)", c.Func, c.Trap, len(c.Args), maxArgs)
		}
		if c.Vsyscall != 0 && (c.Vsyscall&^0xfff != 0xffffffffff600000 || c.Vsyscall&0x3ff != 0) {
			t.Errorf("%s: vsyscall entry %#x is not one of the page's 1 KiB slots", c.Func, c.Vsyscall)
		}
		if c.Clocked() != (c.Args[0] == ArgClock) {
			t.Errorf("%s: Clocked %v but first argument %d", c.Func, c.Clocked(), c.Args[0])
		}
		if c.Info().Vsyscall != (c.Vsyscall != 0) {
			t.Errorf("%s: runfile says vsyscall entry %v, the row has %#x", c.Func, c.Info().Vsyscall, c.Vsyscall)
		}
		if fn, err := runfile.ParseFunction(strings.ToUpper(string(c.Func)), false); err != nil || fn != c.Func {
			t.Errorf("runfile.ParseFunction(%s) = %q, %v", c.Func, fn, err)
		}
		for _, p := range runfile.Paths {
			name := runfile.Cell{Function: c.Func, Clock: runfile.ClockMonotonic, Path: p}.Name()
			if other, ok := names[name]; ok {
				t.Errorf("%s and %s share the benchmark name %s", c.Func, other, name)
			}
			names[name] = c.Func
			if !c.Has(p) {
				continue
			}
			// A bench operation: the syscall always; a call wherever the
			// doors say the path is open.
			op, why := opFor(c, Clock{ID: unix.CLOCK_MONOTONIC}, p, d)
			_, err := d.Target(c.Func, p)
			switch {
			case err == nil && why != "":
				t.Errorf("%s via %s: Target works but bench says %q", c.Func, p, why)
			case err != nil && (why == "" || !errors.Is(err, ErrUnavailable)):
				t.Errorf("%s via %s: Target says %v, bench %q", c.Func, p, err, why)
			case err == nil && p == runfile.PathSyscall && (op.kind != opSyscall || op.addr != c.Trap):
				t.Errorf("%s via syscall: operation %+v", c.Func, op)
			case err == nil && p != runfile.PathSyscall && (op.kind != opCall || op.addr == 0):
				t.Errorf("%s via %s: operation %+v", c.Func, p, op)
			}
		}
	}
	// The registry has one row per call runfile knows, in its order.
	if len(Calls) != len(runfile.Calls) {
		t.Errorf("%d rows, runfile knows %d calls", len(Calls), len(runfile.Calls))
	}
	for i := range min(len(Calls), len(runfile.Calls)) {
		if Calls[i].Func != runfile.Calls[i].Function {
			t.Errorf("row %d is %s, runfile's %s", i, Calls[i].Func, runfile.Calls[i].Function)
		}
	}
	if _, err := runfile.ParseFunction("floor", false); err == nil {
		t.Error("ParseFunction accepted floor, which is no call")
	}
}

// TestClocksAreRunfiles: every clock runfile names has an id here, in the
// same order, and the ids are the kernel's, distinct.
func TestClocksAreRunfiles(t *testing.T) {
	if len(Clocks) != len(runfile.Clocks) {
		t.Fatalf("%d clocks, runfile names %d", len(Clocks), len(runfile.Clocks))
	}
	ids := map[int32]bool{}
	for i, c := range Clocks {
		if c.Name != runfile.Clocks[i] || ids[c.ID] {
			t.Errorf("clock %d: %s id %d, runfile's %s", i, c.Name, c.ID, runfile.Clocks[i])
		}
		ids[c.ID] = true
		if got, err := ClockByName("clock_" + strings.ToLower(string(c.Name))); err != nil || got != c {
			t.Errorf("ClockByName(%s) = %v, %v", c.Name, got, err)
		}
	}
	if _, err := ClockByName("SGI_CYCLE"); err == nil {
		t.Error("ClockByName accepted SGI_CYCLE")
	}
}

// TestVDSOSymbolsVersioned: the symbols the registry finds carry the
// version vdso_amd64.go names.
func TestVDSOSymbolsVersioned(t *testing.T) {
	d := doors(t)
	if d.VDSO == nil {
		t.Skip(d.VDSOErr)
	}
	for _, c := range Calls {
		a, ok := d.VDSO.Lookup(c.Symbol())
		if !ok {
			t.Logf("%s: not exported by this kernel", c.Symbol())
			continue
		}
		found := false
		for _, s := range d.VDSO.Symbols() {
			if s.Name == c.Symbol() && s.Addr == a {
				found = true
				if s.Version != vdso.Version {
					t.Errorf("%s has version %q, want %q", s.Name, s.Version, vdso.Version)
				}
			}
		}
		if !found {
			t.Errorf("%s at %#x not among the image's symbols", c.Symbol(), a)
		}
	}
}

// TestGetrandom: both paths give RandomLen fresh bytes; the vDSO serves the
// call from its state (so it did not fall back to the syscall), the
// syscall leaves the state alone.
func TestGetrandom(t *testing.T) {
	d := doors(t)
	for _, p := range []runfile.Path{runfile.PathSyscall, runfile.PathVDSO} {
		a, err := d.Call(runfile.FuncGetrandom, p, 0)
		if errors.Is(err, ErrUnavailable) {
			t.Logf("getrandom via %s: %v", p, err)
			continue
		}
		b, err2 := d.Call(runfile.FuncGetrandom, p, 0)
		if err != nil || err2 != nil || a.R != RandomLen || b.R != RandomLen {
			t.Fatalf("getrandom via %s: %d (%v), %d (%v), want %d", p, a.R, err, b.R, err2, RandomLen)
		}
		if a.Random == b.Random || a.Random == [RandomLen]byte{} {
			t.Errorf("getrandom via %s: %x then %x", p, a.Random, b.Random)
		}
		if wrote := p == runfile.PathVDSO; a.StateWritten != wrote || b.StateWritten != wrote {
			t.Errorf("getrandom via %s: state written %v, %v; want %v", p, a.StateWritten, b.StateWritten, wrote)
		}
	}
	// The timed loop through the vDSO: every call returns the length and
	// the bytes keep changing.
	fn, err := d.Target(runfile.FuncGetrandom, runfile.PathVDSO)
	if err != nil {
		t.Skip(err)
	}
	call, _ := CallOf(runfile.FuncGetrandom)
	a := call.args(0, &loopBuf)
	if a[3] == 0 || a[4] == 0 {
		t.Fatalf("loop arguments %#x lack the state", a)
	}
	loopBuf.Random = [RandomLen]byte{}
	if r := loopCall(fn, 1000, a[0], a[1], a[2], a[3], a[4]); r != RandomLen {
		t.Fatalf("vDSO getrandom loop returned %d", int64(r))
	}
	first := loopBuf.Random
	if r := loopCall(fn, 1, a[0], a[1], a[2], a[3], a[4]); r != RandomLen || loopBuf.Random == first {
		t.Errorf("vDSO getrandom loop: %d, %x after %x", int64(r), loopBuf.Random, first)
	}
	if bytes.Equal(randomState(&loopBuf), make([]byte, len(randomState(&loopBuf)))) {
		t.Error("the loop's state is all zero after 1001 vDSO calls")
	}
}

// TestGetrandomWithoutSymbol: a vDSO without __vdso_getrandom (kernels
// before 6.11) makes the path unavailable, naming the symbol.
func TestGetrandomWithoutSymbol(t *testing.T) {
	_, err := (&Doors{VDSOErr: errors.New("test")}).Target(runfile.FuncGetrandom, runfile.PathVDSO)
	if !errors.Is(err, ErrUnavailable) {
		t.Errorf("no vDSO: %v", err)
	}
	d := doors(t)
	if d.VDSO == nil {
		t.Skip(d.VDSOErr)
	}
	c, _ := CallOf(runfile.FuncGetrandom)
	c.VDSO = "getrandom_not_here"
	Calls = append(Calls, Call{})
	defer func() { Calls = Calls[:len(Calls)-1] }()
	c.Func = "getrandom-test"
	Calls[len(Calls)-1] = c
	_, err = d.Target(c.Func, runfile.PathVDSO)
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "no vDSO symbol "+vdso.Prefix+"getrandom_not_here") {
		t.Errorf("missing symbol: %v", err)
	}
}

// TestFloorCall: the empty C function can be called in the loop and
// through callC.
func TestFloorCall(t *testing.T) {
	(loopOp{kind: opCallEmpty}).run(1000)
	callC(emptyCAddr(), 1, 2, 3, 4, 5)
	if emptyCAddr() == 0 {
		t.Error("emptyC at address 0")
	}
}
