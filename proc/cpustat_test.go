package proc

import (
	"errors"
	"os"
	"strings"
	"testing"
)

func TestParseCPUStatFixture(t *testing.T) {
	// Captured with `head -3 /proc/stat` and the counters after it on a
	// 2-vCPU Linux 6.18 VM.
	f, err := os.Open("testdata/cpustat-6.18.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ts, err := ParseCPUStat(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 3 || ts[0].CPU != -1 || ts[1].CPU != 0 || ts[2].CPU != 1 {
		t.Fatalf("lines %+v, want cpu, cpu0, cpu1", ts)
	}
	// The "cpu" line is the sum of the others, each converted to ticks on
	// its own (fs/proc/stat.c), so within a tick per CPU.
	if s := ts[1].User + ts[2].User; s+2 < ts[0].User || s > ts[0].User+2 {
		t.Errorf("user: cpu0+cpu1 = %d, cpu = %d", s, ts[0].User)
	}
	if ts[1].Idle == 0 || ts[1].System == 0 {
		t.Errorf("cpu0 %+v: idle or system empty", ts[1])
	}
}

func TestParseCPUStatColumns(t *testing.T) {
	ts, err := ParseCPUStat(strings.NewReader("cpu3 1 2 3 4 5 6 7 8 9 10\nintr 1 2\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := CPUTimes{CPU: 3, User: 1, Nice: 2, System: 3, Idle: 4, IOWait: 5, IRQ: 6, SoftIRQ: 7, Steal: 8, Guest: 9, GuestNice: 10}
	if len(ts) != 1 || ts[0] != want {
		t.Errorf("got %+v, want %+v", ts, want)
	}
	// An old kernel without steal: the column reads 0.
	ts, err = ParseCPUStat(strings.NewReader("cpu0 1 2 3 4\n"))
	if err != nil || ts[0].Steal != 0 || ts[0].Idle != 4 {
		t.Errorf("four columns: %+v, %v", ts, err)
	}
	for _, bad := range []string{"cpu0 1 2 3\n", "cpux 1 2 3 4\n", "cpu0 1 2 -3 4\n", "intr 1\n", ""} {
		if _, err := ParseCPUStat(strings.NewReader(bad)); !errors.Is(err, ErrMalformedCPUStat) {
			t.Errorf("%q: error %v, want ErrMalformedCPUStat", bad, err)
		}
	}
}

func TestReadCPUStat(t *testing.T) {
	if _, err := ReadCPUStat("testdata/no-such-root"); err == nil {
		t.Error("missing root read")
	}
	ts, err := ReadCPUStat("")
	if err != nil {
		t.Skipf("no /proc/stat here: %v", err)
	}
	if ts[0].CPU != -1 || len(ts) < 2 {
		t.Errorf("live /proc/stat: %+v", ts)
	}
}
