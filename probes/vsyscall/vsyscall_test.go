package vsyscall

import (
	"os"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vbench-dev/vbench/proc"
)

func TestMain(m *testing.M) {
	if code, child := RunChild(); child {
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// The fixtures: maps-xonly-6.18.txt is /proc/self/maps as read on the
// project's machine (Linux 6.18, vsyscall=xonly; the same file as
// proc/testdata). The other two are DERIVED from it, not captured: the
// [vsyscall] line's permissions changed to r-xp for emulate, and the line
// removed for none, as FIELD-GUIDE's table of the three modes (seen under
// QEMU with vsyscall=emulate/none) gives.
func TestModeFromMapsFixtures(t *testing.T) {
	for _, tc := range []struct {
		file     string
		want     Mode
		readable bool
		callable bool
	}{
		{"testdata/maps-xonly-6.18.txt", XOnly, false, true},
		{"testdata/maps-emulate-derived.txt", Emulate, true, true},
		{"testdata/maps-none-derived.txt", None, false, false},
	} {
		f, err := os.Open(tc.file)
		if err != nil {
			t.Fatal(err)
		}
		ms, err := proc.ParseMaps(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		got, line, err := ModeFromMaps(ms)
		if err != nil {
			t.Errorf("%s: %v", tc.file, err)
			continue
		}
		if got != tc.want || got.Readable() != tc.readable || got.Callable() != tc.callable {
			t.Errorf("%s: mode %q readable %v callable %v, want %q %v %v", tc.file, got, got.Readable(), got.Callable(), tc.want, tc.readable, tc.callable)
		}
		if (got == None) != (line.Path == "") {
			t.Errorf("%s: mode %s with line %q", tc.file, got, line)
		}
	}
}

func TestModeFromMapsRejectsOddLines(t *testing.T) {
	for _, line := range []string{
		"ffffffffff700000-ffffffffff701000 --xp 00000000 00:00 0 [vsyscall]", // wrong address
		"ffffffffff600000-ffffffffff601000 r--p 00000000 00:00 0 [vsyscall]", // not executable
	} {
		ms, err := proc.ParseMaps(strings.NewReader(line))
		if err != nil {
			t.Fatal(err)
		}
		if m, _, err := ModeFromMaps(ms); err == nil {
			t.Errorf("%q: mode %q, want an error", line, m)
		}
	}
}

func TestModeFromProbes(t *testing.T) {
	for _, tc := range []struct {
		read, call string
		want       Mode
		ok         bool
	}{
		{"ok", "ok", Emulate, true},
		{"SIGSEGV", "ok", XOnly, true},
		{"SIGSEGV", "SIGSEGV", None, true},
		{"ok", "SIGSEGV", "", false},
		{"exit 3: x", "ok", "", false},
	} {
		m, ok := ModeFromProbes(tc.read, tc.call)
		if m != tc.want || ok != tc.ok {
			t.Errorf("read %s call %s: %q %v, want %q %v", tc.read, tc.call, m, ok, tc.want, tc.ok)
		}
	}
}

// TestProbeLive runs the two child probes on this machine and checks they
// agree with the mode /proc/self/maps gives (xonly here: read SIGSEGV, call
// ok; the expectation follows the maps, not a hard-coded mode).
func TestProbeLive(t *testing.T) {
	if !Exists {
		t.Skip(AbsentReason)
	}
	mode, _, err := CurrentMode()
	if err != nil {
		t.Skipf("no /proc/self/maps: %v", err)
	}
	o, err := Probe()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", o)
	if o.Mode != mode || o.ModeSource != "maps" {
		t.Errorf("Probe mode %q (%s), maps say %q", o.Mode, o.ModeSource, mode)
	}
	wantRead, wantCall := "SIGSEGV", "SIGSEGV"
	if mode.Readable() {
		wantRead = "ok"
	}
	if mode.Callable() {
		wantCall = "ok"
	}
	if o.ReadProbe != wantRead || o.CallProbe != wantCall {
		t.Errorf("mode %s: read probe %q call probe %q, want %q %q", mode, o.ReadProbe, o.CallProbe, wantRead, wantCall)
	}
	if !o.Consistent() {
		t.Error("Consistent() is false")
	}
	if o.Callable() != mode.Callable() {
		t.Errorf("Callable() %v in mode %s", o.Callable(), mode)
	}
	if (mode == None) != (o.MapsLine == "") {
		t.Errorf("maps line %q in mode %s", o.MapsLine, mode)
	}
}

// TestChildReportsSignal: a call to an unmapped address (as every call is
// under vsyscall=none) is seen by the parent as SIGSEGV, not as the Go
// runtime's panic and exit status 2; an unknown probe is an exit status.
func TestChildReportsSignal(t *testing.T) {
	if !Exists {
		t.Skip(AbsentReason)
	}
	got, err := runChild("call-unmapped")
	if err != nil {
		t.Fatal(err)
	}
	if got != "SIGSEGV" {
		t.Errorf("call of an unmapped address: %q, want SIGSEGV", got)
	}
	got, err = runChild("nonsense")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(got, "exit 5: ") || !strings.Contains(got, "want read or call") {
		t.Errorf("unknown probe: %q", got)
	}
}

// TestChildKilledOtherwise: a probe child killed by a signal other than
// SIGSEGV is reported by that signal's name, makes no mode and never makes
// the page callable; every child is reaped (no zombie left behind).
func TestChildKilledOtherwise(t *testing.T) {
	if !Exists {
		t.Skip(AbsentReason)
	}
	got, err := runChild("kill")
	if err != nil {
		t.Fatal(err)
	}
	if got != "SIGKILL" {
		t.Errorf("child killed by SIGKILL: %q", got)
	}
	if m, ok := ModeFromProbes("SIGSEGV", got); ok {
		t.Errorf("probes read SIGSEGV, call %s gave mode %q", got, m)
	}
	o := Observed{Mode: XOnly, ModeSource: "maps", ReadProbe: "SIGSEGV", CallProbe: got}
	if o.Callable() || o.Consistent() {
		t.Errorf("%+v: Callable %v Consistent %v, want both false", o, o.Callable(), o.Consistent())
	}
	if _, err := unix.Wait4(-1, nil, unix.WNOHANG, nil); err != unix.ECHILD {
		t.Errorf("wait4 after the probes: %v, want ECHILD (a child was left unreaped)", err)
	}
}

// TestAbsent: an architecture without the page has mode Absent, which is
// neither readable nor callable, needs no probes to be consistent, and is
// what Probe and CurrentMode give there, without starting a child.
func TestAbsent(t *testing.T) {
	if Absent.Readable() || Absent.Callable() {
		t.Errorf("Absent: readable %v callable %v", Absent.Readable(), Absent.Callable())
	}
	o := Observed{Mode: Absent, ModeSource: SourceArch}
	if !o.Consistent() || o.Callable() {
		t.Errorf("%+v: Consistent %v Callable %v, want true false", o, o.Consistent(), o.Callable())
	}
	if (Observed{Mode: Absent, ReadProbe: "ok"}).Consistent() {
		t.Error("Absent with a probe result is consistent")
	}
	got, err := Probe()
	if err != nil && !Exists {
		t.Fatal(err)
	}
	mode, _, _ := CurrentMode()
	if (got.Mode == Absent) != !Exists || (mode == Absent) != !Exists {
		t.Errorf("Exists %v: Probe mode %q, CurrentMode %q", Exists, got.Mode, mode)
	}
	if !Exists && (got != o) {
		t.Errorf("Probe on %s: %+v, want %+v", runtime.GOARCH, got, o)
	}
	if !strings.Contains(AbsentReason, runtime.GOARCH) {
		t.Errorf("AbsentReason %q does not name %s", AbsentReason, runtime.GOARCH)
	}
}
