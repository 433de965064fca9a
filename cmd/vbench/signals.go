package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// interrupts is a context cancelled by the first SIGINT or SIGTERM, which
// it remembers: a command that stops on it still writes what it measured,
// marked interrupted, and then exits as the shell expects of a process
// stopped by that signal (interrupted).
type interrupts struct {
	context.Context
	stop func()

	mu  sync.Mutex
	sig os.Signal
}

// onInterrupt starts listening for SIGINT and SIGTERM. Call stop when done,
// so a later signal kills the process as usual.
func onInterrupt() *interrupts {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	in := &interrupts{Context: ctx}
	done := make(chan struct{})
	in.stop = sync.OnceFunc(func() {
		signal.Stop(ch)
		close(done)
		cancel()
	})
	go func() {
		select {
		case s := <-ch:
			in.mu.Lock()
			in.sig = s
			in.mu.Unlock()
			cancel()
		case <-done:
		}
	}()
	return in
}

// signal is the signal that cancelled the context, or nil.
func (in *interrupts) signal() os.Signal {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.sig
}

// interrupted is the error to return once what was measured has been
// written: exit status 128 + the signal's number (130 for SIGINT, 143 for
// SIGTERM), or nil when no signal came.
func (in *interrupts) interrupted(what string) error {
	return in.interruptedf("%s: interrupted by %[2]s; what was measured is kept, marked interrupted", what)
}

// interruptedf is interrupted with its own message; the format's last verb
// is the signal's name.
func (in *interrupts) interruptedf(format string, a ...any) error {
	s, ok := in.signal().(syscall.Signal)
	if !ok {
		return nil
	}
	return &exitError{128 + int(s), fmt.Errorf(format, append(a, sigName(s))...)}
}

func sigName(s syscall.Signal) string {
	switch s {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return s.String()
}
