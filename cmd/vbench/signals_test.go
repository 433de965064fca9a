package main

import (
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestInterruptsExitStatus(t *testing.T) {
	in := onInterrupt()
	defer in.stop()
	if err := in.interrupted("bench"); err != nil {
		t.Fatalf("no signal yet, but %v", err)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-in.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("SIGTERM did not cancel the context")
	}
	err := in.interrupted("bench")
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 143 || !strings.Contains(err.Error(), "SIGTERM") {
		t.Errorf("after SIGTERM: %v", err)
	}
	// A second signal while results are written is caught, not fatal.
	syscall.Kill(os.Getpid(), syscall.SIGINT)
	time.Sleep(50 * time.Millisecond)
	if s := in.signal(); s != syscall.SIGTERM {
		t.Errorf("the first signal is the one kept: %v", s)
	}
}
