package aslr

import (
	"errors"
	"fmt"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Exec chains (MethodChain): each worker thread starts the chain variant of
// the reporting target once (target.go, reportCode(true)), and every image
// of it reports its layout down a pipe and executes itself again with
// execve(chainPath, argv, envp): its own file at descriptor 3, its own
// argv and (empty) envp. No fork, no exit and no wait per sample.
//
// Why a re-execution samples what a fresh spawn samples: every execve
// builds a new mm (fs/exec.c begin_new_exec, exec_mmap) and
// load_elf_binary (fs/binfmt_elf.c) draws the mmap base
// (arch_pick_mmap_layout, via setup_new_exec), the stack top
// (randomize_stack_top), the vDSO (arch_setup_additional_pages) and brk
// (arch_randomize_brk) afresh; nothing of the old layout is kept. What
// does carry over is what the stack is built from: the file name, argv,
// envp and the auxv. The chain keeps them equal to a fresh spawn's: the
// same name (chainPath, which a fresh spawn of the builtin target
// executes too), argv {targetName} and an empty envp, so sp's sub-page
// offset has the same distribution. TestChainSamplesWhatSpawnsSample
// compares the two region by region.
//
// What survives the exec and matters here: the descriptors (0: the
// control pipe, non-blocking; 1: the record pipe; 3: the program's file),
// the personality (ADDR_NO_RANDOMIZE for the control run), the process
// group (Setpgid) and the parent-death signal. PR_SET_PDEATHSIG is reset
// only for a set-user-ID, set-group-ID or capability-gaining exec
// (begin_new_exec clears pdeath_signal when bprm->secureexec, and
// commit_creds when the credentials change); this target is none of these,
// so every image is killed if vbench's sampling thread dies, SIGKILL of
// vbench included (TestNoOrphansWhenKilled/chain: vbench killed 300 ms
// into sampling, thousands of re-executions later, every image dies of
// SIGKILL).
//
// Records are framed by the pipe: a write of recordSize (64) bytes, under
// PIPE_BUF, is atomic, and every record is checked as a fresh spawn's is
// (parseRecord, reporter.top). Checked samples (selfreport.go): a byte on
// the control pipe asks the next image to stop itself after its record;
// the first image finds one there from the start, and after that vbench
// writes one every checkEvery samples of the worker.

// chainPipeSize is asked of the record pipe (F_SETPIPE_SZ): 16,384 records,
// a quarter to half a second of one worker, before the chain blocks on a
// reader held up.
const chainPipeSize = 1 << 20

// chainNap is how long a reader lets records gather between reads when no
// check is pending: 1 ms is 20 to 60 records of one chain, far from the
// pipe's 16,384 (and a smaller pipe, 64 KiB, holds 1,024).
const chainNap = time.Millisecond

// chainWorker is one exec chain and the thread reading it.
type chainWorker struct {
	// child is the chain's process: kill ends it from any goroutine, at
	// any time, any number of times (the pid stays the chain's until
	// close reaps it); killed marks an end that is not an error.
	child
	r         *reporter
	data, ctl int // the read end of the records, the write end of the control
	buf       []byte
	have      int // bytes of buf holding a partial record
	sinceChk  int // samples since the last check
	asked     bool
	stopOnce  sync.Once
	firstSeen bool
}

// startChain starts a chain; the calling goroutine must be locked to its
// thread for the chain's whole life (the parent-death signal follows the
// thread), and must call close.
func startChain(t *target) (*chainWorker, error) {
	w := &chainWorker{r: newReporter(t), data: -1, ctl: -1, buf: make([]byte, 64<<10)}
	var d, c [2]int
	if err := unix.Pipe2(d[:], unix.O_CLOEXEC); err != nil {
		return nil, fmt.Errorf("pipe for the chain's records: %w", err)
	}
	// Best effort: a smaller pipe only makes the chain wait sooner.
	unix.FcntlInt(uintptr(d[0]), unix.F_SETPIPE_SZ, chainPipeSize)
	if err := unix.Pipe2(c[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		unix.Close(d[0])
		unix.Close(d[1])
		return nil, fmt.Errorf("pipe for the chain's control: %w", err)
	}
	// The first image is checked.
	unix.Write(c[1], []byte{1})
	w.asked = true
	attr := *w.r.attr
	attr.Files = t.files(c[0], d[1], -1)
	pid, err := syscall.ForkExec(t.path, w.r.argv, &attr)
	unix.Close(d[1])
	unix.Close(c[0])
	if err != nil {
		unix.Close(d[0])
		unix.Close(c[1])
		return nil, fmt.Errorf("starting the exec chain of %s: %w", t.label, err)
	}
	w.pid, w.data, w.ctl, w.alive = pid, d[0], c[1], true
	return w, nil
}

// close kills and reaps the chain and closes its pipes.
func (w *chainWorker) close() {
	w.reap()
	if w.data >= 0 {
		unix.Close(w.data)
		unix.Close(w.ctl)
		w.data, w.ctl = -1, -1
	}
}

// errChainEnded is returned by next when the chain was killed (kill).
var errChainEnded = errors.New("exec chain ended")

// next reads what the chain has written, at least one record, and calls
// emit with each sample, in order, until emit returns false. The records
// of stopping images are checked against /proc on the way.
func (w *chainWorker) next(emit func(*sample) bool) error {
	if !w.asked {
		// No image will stop and wait for us: let records gather, a read
		// per chainNap instead of one per record, and leave the CPUs to
		// the chains. An image asked to stop is read at once.
		time.Sleep(chainNap)
	}
	for {
		m, err := unix.Read(w.data, w.buf[w.have:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("reading the exec chain: %w", err)
		}
		if m == 0 {
			return w.ended()
		}
		w.have += m
		if w.have >= recordSize {
			break
		}
	}
	n := w.have / recordSize * recordSize
	defer func() {
		w.have = copy(w.buf, w.buf[n:w.have])
	}()
	var s sample
	for off := 0; off < n; off += recordSize {
		rec, err := parseRecord(w.buf[off : off+recordSize])
		if err != nil {
			return err
		}
		if rec[slotMagic]>>(8*recordFlagsByte)&recordStops != 0 {
			w.asked = false
			w.sinceChk = 0
			w.mu.Lock()
			err := w.r.chk.stopped(w.pid, w.r, rec, &s)
			killed := w.killed
			if err != nil {
				w.alive = false // stopped() killed and reaped it
			}
			w.mu.Unlock()
			if err != nil && killed {
				// kill came first: the record was in the pipe before the
				// SIGKILL, and the image died instead of stopping.
				return errChainEnded
			}
			if err != nil {
				return err
			}
		} else {
			if w.r.lay == nil {
				return fmt.Errorf("%w: the first image of the chain did not stop for its check", errReport)
			}
			if err := w.r.derive(rec, &s); err != nil {
				return err
			}
		}
		w.sinceChk++
		if !w.asked && w.sinceChk >= checkEvery && !w.r.chk.off() {
			if _, err := unix.Write(w.ctl, []byte{1}); err == nil {
				w.asked = true
			}
		}
		if !emit(&s) {
			return nil
		}
	}
	return nil
}

// ended explains the end of the record pipe: the chain was killed, or it
// died, and how.
func (w *chainWorker) ended() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.alive {
		return errChainEnded
	}
	ws, err := waitEnd(w.pid)
	w.alive = false
	switch {
	case err != nil:
		return err
	case w.killed:
		return errChainEnded
	case ws.Signaled():
		return fmt.Errorf("%w: the exec chain of %s was killed by %v", errReport, w.r.t.label, ws.Signal())
	case ws.ExitStatus() == 2:
		return fmt.Errorf("%w: the exec chain of %s could not execute itself again (exit status 2)", errReport, w.r.t.label)
	}
	return fmt.Errorf("%w: the exec chain of %s exited with status %d", errReport, w.r.t.label, ws.ExitStatus())
}
