package aslr

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A SIGSTOP of vbench while it samples (issue 24: 5 s of it made the rate
// read 10429 samples/s): the stopped time is counted as stalled, left out
// of the rate, and the SIGCONT is seen. The test binary samples in a
// child, which this test stops for 1.5 s.
func TestStoppedTimeLeftOutOfTheRate(t *testing.T) {
	if os.Getenv("VBENCH_ASLR_HELPER") == "stall" {
		res, err := Study(context.Background(), Config{Budget: 3 * time.Second}, nil)
		if err != nil {
			t.Fatal(err)
		}
		json.NewEncoder(os.Stdout).Encode(res)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestStoppedTimeLeftOutOfTheRate$")
	cmd.Env = append(os.Environ(), "VBENCH_ASLR_HELPER=stall")
	var out strings.Builder
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(700 * time.Millisecond) // into sampling
	cmd.Process.Signal(syscall.SIGSTOP)
	time.Sleep(1500 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGCONT)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	line, _, _ := strings.Cut(out.String(), "\n")
	var res struct {
		Samples   int
		Rate      float64
		Duration  time.Duration
		Stalled   time.Duration
		Continued int
	}
	if err := json.Unmarshal([]byte(line), &res); err != nil {
		t.Fatalf("%v: %q", err, out.String())
	}
	if res.Stalled < time.Second || res.Stalled > res.Duration || res.Continued < 1 {
		t.Errorf("stopped 1.5 s: stalled %v of %v, %d SIGCONT", res.Stalled, res.Duration, res.Continued)
	}
	if want := float64(res.Samples) / (res.Duration - res.Stalled).Seconds(); res.Rate < 0.99*want || res.Rate > 1.01*want {
		t.Errorf("rate %.0f, want samples / (duration - stalled) = %.0f", res.Rate, want)
	}
}

// Ending a chain while an image's check is pending (the budget runs out,
// the chain is killed, and a stopping image's record is still in the
// pipe) ends sampling cleanly, not with "ended instead of stopping".
func TestChainEndsCleanlyAtTheBudget(t *testing.T) {
	for i := range 20 {
		if _, err := Study(context.Background(), Config{Budget: 50 * time.Millisecond}, nil); err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
	}
	noChildren(t, "after runs ended by their budget")
}
