package probes

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/vbench-dev/vbench/internal/field"
	"github.com/vbench-dev/vbench/probes/contexts"
	"github.com/vbench-dev/vbench/probes/vdso"
	"github.com/vbench-dev/vbench/probes/vsyscall"
	"github.com/vbench-dev/vbench/runfile"
)

// Cells in other contexts than plain are measured by a child process
// placed in that context (package contexts): this executable started
// again, which enters the context first thing (RunContextChildIfAsked) and
// then serves requests, one JSON line each way on its standard input and
// output: set up these cells, calibrate cell i, take one sample of cell i,
// time single calls of cell i, count syscalls, read the clocks, run the
// checks. The child plans its cells with the same registry, calls them
// through the same native loops on its own locked thread, pinned to the
// same CPU, and reads its own counters around each sample; the parent
// decides the order, so samples of every context's cells are interleaved
// round-robin with the plain context's, and slow drift of the machine
// falls on all of them alike. While the child samples, the parent waits
// on the pipe.

// request is one request to a context child.
type request struct {
	Op string `json:"op"`
	I  int    `json:"i,omitempty"`
	// setup
	Cells    []countCellWire    `json:"cells,omitempty"`
	CPU      int                `json:"cpu,omitempty"`
	Vsyscall *vsyscall.Observed `json:"vsyscall,omitempty"`
	Callable bool               `json:"callable,omitempty"`
	// VsyscallErr is why the parent's vsyscall probe failed, if it did.
	VsyscallErr string `json:"vsyscall_err,omitempty"`
	RDTSCP      bool   `json:"rdtscp,omitempty"`
	// calibrate
	Benchtime time.Duration `json:"benchtime,omitempty"`
	// latency
	LatencyCalls int           `json:"latency_calls,omitempty"`
	LatencyTime  time.Duration `json:"latency_time,omitempty"`
	Hz           float64       `json:"hz,omitempty"`
	// verify
	Brief bool `json:"brief,omitempty"`
}

// countCellWire is a cell as the wire names it.
type countCellWire struct {
	Func  runfile.Function `json:"f"`
	Clock runfile.Clock    `json:"c,omitempty"`
	Path  runfile.Path     `json:"p"`
}

// response is a context child's answer; Err is set when the request
// failed.
type response struct {
	Err string `json:"err,omitempty"`
	// hello
	Info *runfile.ContextInfo `json:"info,omitempty"`
	// setup
	Unavailable []string          `json:"unavailable,omitempty"`
	Counters    []runfile.Counter `json:"counters,omitempty"`
	Has         []bool            `json:"has,omitempty"`
	// calibrate
	Iters       int64                 `json:"iters,omitempty"`
	Chunk       int64                 `json:"chunk,omitempty"`
	Notes       []string              `json:"notes,omitempty"`
	InCall      *runfile.SampleCounts `json:"in_call,omitempty"`
	InCallCalls int64                 `json:"in_call_calls,omitempty"`
	// sample
	Ns     float64               `json:"ns,omitempty"`
	Counts *runfile.SampleCounts `json:"counts,omitempty"`
	// latency
	Latency *runfile.Latency `json:"latency,omitempty"`
	// count
	PerCall []float64 `json:"per_call,omitempty"`
	Source  string    `json:"source,omitempty"`
	// read
	Readings []Reading `json:"readings,omitempty"`
	// verify
	Verify *runfile.Verify `json:"verify,omitempty"`
}

// Reading is one clock read through one door, in a context child.
type Reading struct {
	Func  runfile.Function `json:"f"`
	Clock runfile.Clock    `json:"c,omitempty"`
	Path  runfile.Path     `json:"p"`
	Sec   int64            `json:"s"`
	Nsec  int64            `json:"ns"`
	Err   string           `json:"err,omitempty"`
}

// contextChild is the parent's handle on one context child.
type contextChild struct {
	ctx    runfile.Context
	info   runfile.ContextInfo
	proc   *os.Process
	in     io.WriteCloser
	enc    *json.Encoder
	dec    *json.Decoder
	stderr *limitedBuffer
	err    error // the first failure: later requests fail at once
	has    [nEvents]bool
	ctrs   []runfile.Counter
	done   sync.Once
}

// limitedBuffer keeps the first 4 KiB written to it (a child's stderr).
type limitedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if room := 4096 - l.b.Len(); room > 0 {
		l.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (l *limitedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(strings.Fields(l.b.String()), " ")
}

// StartContext starts a child placed in ctx and waits until it says it is
// in: the error says why it could not be entered. Close the child when
// done.
func StartContext(ctx runfile.Context) (*contextChild, error) {
	if !dispatching.Load() {
		return nil, errNoDispatch
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding this executable: %v", err)
	}
	cmd := contexts.Command(exe, ctx)
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	c := &contextChild{ctx: ctx, in: in, enc: json.NewEncoder(in), dec: json.NewDecoder(bufio.NewReader(out)), stderr: &limitedBuffer{}}
	cmd.Stderr = c.stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the child: %v", startReason(ctx, err))
	}
	c.proc = cmd.Process
	go cmd.Wait() // reaps it; Close kills it if it has not exited
	var hello response
	if err := c.dec.Decode(&hello); err != nil {
		c.Close()
		return nil, fmt.Errorf("the child died before entering: %v %s", err, c.stderr.String())
	}
	if hello.Err != "" {
		c.Close()
		return nil, errors.New(hello.Err)
	}
	if hello.Info != nil {
		c.info = *hello.Info
	}
	c.info.Name = ctx
	return c, nil
}

// startReason explains a failure to start a context child.
func startReason(ctx runfile.Context, err error) string {
	if ctx == runfile.ContextTimens && errors.Is(err, unix.EPERM) {
		return err.Error() + ": no user namespaces for this user (kernel.unprivileged_userns_clone, user.max_user_namespaces, or a security module)"
	}
	if ctx == runfile.ContextTimens && errors.Is(err, unix.EINVAL) {
		return err.Error() + ": the kernel refuses a new user namespace here"
	}
	return err.Error()
}

// call sends r and decodes the answer into resp; a child that failed once
// fails every later call at once.
func (c *contextChild) call(r request, resp *response) error {
	if c.err != nil {
		return c.err
	}
	*resp = response{}
	if err := c.enc.Encode(r); err != nil {
		c.err = fmt.Errorf("context %s: child gone: %v %s", c.ctx, err, c.stderr.String())
		return c.err
	}
	if err := c.dec.Decode(resp); err != nil {
		c.err = fmt.Errorf("context %s: child gone: %v %s", c.ctx, err, c.stderr.String())
		return c.err
	}
	if resp.Err != "" {
		return fmt.Errorf("context %s: %s", c.ctx, resp.Err)
	}
	return nil
}

// Close ends the child: its standard input closes, and it is killed if it
// is still there.
func (c *contextChild) Close() {
	c.done.Do(func() {
		c.in.Close()
		if c.proc != nil {
			c.proc.Kill()
		}
	})
}

// Info is how the child entered its context.
func (c *contextChild) Info() runfile.ContextInfo { return c.info }

// setup hands the child its cells and returns, per cell, why it cannot be
// called there ("" when it can).
func (c *contextChild) setup(cells []countCell, cpu int, d *Doors) ([]string, error) {
	r := request{Op: "setup", CPU: cpu, Vsyscall: &d.Vsyscall, Callable: d.VsyscallCallable, VsyscallErr: errString(d.VsyscallErr), RDTSCP: hasRDTSCP(d)}
	for _, cc := range cells {
		r.Cells = append(r.Cells, countCellWire{cc.fn, cc.clock.Name, cc.path})
	}
	var resp response
	if err := c.call(r, &resp); err != nil {
		return nil, err
	}
	for i := range c.has {
		c.has[i] = i < len(resp.Has) && resp.Has[i]
	}
	c.ctrs = resp.Counters
	return resp.Unavailable, nil
}

// ReadClocks asks the child to read every clock of clocks through every
// door it has (for verify's time-namespace checks).
func (c *contextChild) ReadClocks(cpu int, d *Doors) ([]Reading, error) {
	var resp response
	if err := c.call(request{Op: "read", CPU: cpu, Vsyscall: &d.Vsyscall, Callable: d.VsyscallCallable}, &resp); err != nil {
		return nil, err
	}
	return resp.Readings, nil
}

// Verify asks the child to run the checks in its context.
func (c *contextChild) Verify(cpu int, brief bool, d *Doors) (*runfile.Verify, error) {
	var resp response
	if err := c.call(request{Op: "verify", CPU: cpu, Brief: brief, Vsyscall: &d.Vsyscall, Callable: d.VsyscallCallable, VsyscallErr: errString(d.VsyscallErr), RDTSCP: hasRDTSCP(d)}, &resp); err != nil {
		return nil, err
	}
	if resp.Verify == nil {
		return nil, fmt.Errorf("context %s: no checks came back", c.ctx)
	}
	return resp.Verify, nil
}

// The child's side.

// ContextVerifier runs the checks in a context child: package verify's Run,
// handed in by the program's dispatch (probes cannot import verify).
type ContextVerifier func(cpu int, brief bool, d *Doors) *runfile.Verify

// timedSyscalls are the registry's system calls, for the seccomp filters.
func timedSyscalls() []contexts.Syscall {
	var out []contexts.Syscall
	for _, c := range Calls {
		if c.Trap != noTrap {
			out = append(out, contexts.Syscall{Name: string(c.Func), Nr: c.Trap})
		}
	}
	return out
}

// SeccompFilter is the BPF program a context child of the seccomp context
// ctx installs, for the registry's system calls (see
// contexts.SeccompFilter).
func SeccompFilter(ctx runfile.Context) ([]bpf.RawInstruction, error) {
	raw, _, err := contexts.SeccompFilter(ctx, timedSyscalls())
	return raw, err
}

// childState is what a context child keeps between requests.
type childState struct {
	d       *Doors
	release func()
	ops     []loopOp
	cells   []countCell
	bcs     []benchCell
	ctrs    *counters
	cpu     int
	verify  ContextVerifier
	pinned  bool
}

func serveContext(ctx runfile.Context, verify ContextVerifier, in io.Reader, out io.Writer) int {
	enc := json.NewEncoder(out)
	info, err := contexts.Enter(ctx, timedSyscalls())
	if err != nil {
		enc.Encode(response{Err: err.Error()})
		return 1
	}
	contexts.Forget() // the children this child starts (syscall counting) are plain ones
	if err := enc.Encode(response{Info: &info}); err != nil {
		return 1
	}
	st := &childState{verify: verify, release: func() {}}
	defer func() {
		st.release()
		if st.ctrs != nil {
			st.ctrs.close()
		}
	}()
	dec := json.NewDecoder(bufio.NewReader(in))
	for {
		var r request
		if err := dec.Decode(&r); err != nil {
			return 0 // the parent closed the pipe, or went away
		}
		resp := st.handle(r)
		if err := enc.Encode(resp); err != nil {
			return 1
		}
	}
}

// doors makes the child's doors: its own vDSO and rseq, the parent's
// vsyscall findings (the page is the same for the whole machine, and the
// parent confirmed it in its own children).
func (st *childState) doors(r request) {
	if st.d != nil {
		return
	}
	d := &Doors{RDTSCP: r.RDTSCP && cpuHasRDTSCP(), VsyscallCallable: r.Callable}
	if r.Vsyscall != nil {
		d.Vsyscall = *r.Vsyscall
	}
	if r.VsyscallErr != "" {
		d.VsyscallErr = errors.New(r.VsyscallErr + " (the parent's probe)")
	}
	d.VDSO, d.VDSOErr = vdso.Open()
	d.RseqErr = probeRseq()
	d.RseqNode = rseqNodeFilled()
	st.d = d
}

func (st *childState) pin(cpu int) error {
	if st.pinned {
		return nil
	}
	if _, _, err := Pin(cpu); err != nil {
		return err
	}
	st.cpu, st.pinned = cpu, true
	var release func()
	st.d, release = WithRseq(st.d)
	st.release = release
	return nil
}

func (st *childState) cell(i int) (*benchCell, error) {
	if i < 0 || i >= len(st.bcs) || st.bcs[i].cell.Unavailable != "" {
		return nil, fmt.Errorf("no callable cell %d", i)
	}
	return &st.bcs[i], nil
}

func (st *childState) handle(r request) response {
	fail := func(err error) response { return response{Err: err.Error()} }
	switch r.Op {
	case "setup":
		st.doors(r)
		if err := st.pin(r.CPU); err != nil {
			return fail(err)
		}
		var resp response
		for _, w := range r.Cells {
			var c Clock
			if w.Clock != "" {
				var ok bool
				if c, ok = ClockOf(w.Clock); !ok {
					return fail(fmt.Errorf("unknown clock %q", w.Clock))
				}
			}
			call, ok := CallOf(w.Func)
			if !ok {
				return fail(fmt.Errorf("unknown function %q", w.Func))
			}
			bc := benchCell{cell: runfile.Cell{Function: w.Func, Clock: c.Name, Path: w.Path}}
			bc.op, bc.cell.Unavailable = opFor(call, c, w.Path, st.d)
			st.bcs = append(st.bcs, bc)
			st.cells = append(st.cells, countCell{w.Func, c, w.Path})
			resp.Unavailable = append(resp.Unavailable, bc.cell.Unavailable)
		}
		st.ctrs = openCounters(st.cpu)
		resp.Counters = st.ctrs.info
		for ev := range nEvents {
			resp.Has = append(resp.Has, st.ctrs.has(ev))
		}
		return resp
	case "calibrate":
		bc, err := st.cell(r.I)
		if err != nil {
			return fail(err)
		}
		bc.calibrate(r.Benchtime, st.ctrs)
		return response{Iters: bc.iters, Chunk: bc.chunk, Notes: bc.cell.Notes, InCall: &bc.inCall, InCallCalls: bc.inCallCalls}
	case "sample":
		bc, err := st.cell(r.I)
		if err != nil {
			return fail(err)
		}
		bc.sample(st.ctrs)
		n := len(bc.cell.Samples) - 1
		counts := bc.cell.SampleCounts[n]
		return response{Ns: bc.cell.Samples[n], Counts: &counts}
	case "latency":
		bc, err := st.cell(r.I)
		if err != nil {
			return fail(err)
		}
		cfg := BenchConfig{LatencyCalls: r.LatencyCalls, LatencyTime: r.LatencyTime}
		return response{Latency: latency(bc.op, cfg, r.Hz, hasRDTSCP(st.d))}
	case "count":
		// Syscalls per call, counted in a traced grandchild, which
		// inherits the context (the namespace, the filter).
		var cells []countCell
		for i, bc := range st.bcs {
			if bc.cell.Unavailable == "" {
				cells = append(cells, st.cells[i])
			}
		}
		per, err := countSyscalls(cells)
		if err != nil {
			return fail(err)
		}
		// Spread back over every cell, unavailable ones 0.
		all := make([]float64, len(st.bcs))
		j := 0
		for i, bc := range st.bcs {
			if bc.cell.Unavailable == "" {
				all[i] = per[j]
				j++
			}
		}
		return response{PerCall: all}
	case "read":
		st.doors(r)
		if err := st.pin(r.CPU); err != nil {
			return fail(err)
		}
		return response{Readings: ReadAll(st.d)}
	case "verify":
		if st.verify == nil {
			return fail(errors.New("this child cannot run the checks"))
		}
		st.doors(r)
		return response{Verify: st.verify(r.CPU, r.Brief, st.d)}
	}
	return fail(fmt.Errorf("unknown request %q", r.Op))
}

// ReadAll reads, through every door d can call, the time of every clock and
// the time of day: what verify compares across a time namespace's border.
func ReadAll(d *Doors) []Reading {
	var out []Reading
	add := func(f runfile.Function, clock runfile.Clock, p runfile.Path, sec, nsec int64, err error) {
		rd := Reading{Func: f, Clock: clock, Path: p, Sec: sec, Nsec: nsec}
		if err != nil {
			rd.Err = err.Error()
		}
		out = append(out, rd)
	}
	for _, p := range runfile.Paths {
		call, _ := CallOf(runfile.FuncClockGettime)
		if call.Has(p) {
			for _, c := range Clocks {
				if _, err := d.Target(runfile.FuncClockGettime, p); err != nil {
					break
				}
				ts, err := d.ClockGettime(p, c.ID)
				add(runfile.FuncClockGettime, c.Name, p, ts.Sec, ts.Nsec, err)
			}
		}
		if _, err := d.Target(runfile.FuncGettimeofday, p); err == nil {
			tv, _, err := d.Gettimeofday(p)
			add(runfile.FuncGettimeofday, "", p, tv.Sec, tv.Usec*1000, err)
		}
		if _, err := d.Target(runfile.FuncTime, p); err == nil {
			t, err := d.Time(p)
			add(runfile.FuncTime, "", p, t, 0, err)
		}
	}
	return out
}

// planRemote starts the child of context ctx and plans its cells there:
// the cells, the child (nil when the context could not be entered), and
// what the context was or why it could not be entered.
func planRemote(cfg BenchConfig, ctx runfile.Context, cpu int, d *Doors) ([]benchCell, *contextChild, runfile.ContextInfo) {
	cells := planContext(cfg, ctx)
	ch, err := StartContext(ctx)
	if err != nil {
		return nil, nil, runfile.ContextInfo{Name: ctx, Unavailable: err.Error()}
	}
	why, err := ch.setup(cells, cpu, d)
	if err != nil {
		ch.Close()
		return nil, nil, runfile.ContextInfo{Name: ctx, Unavailable: err.Error()}
	}
	out := make([]benchCell, len(cells))
	for i, cc := range cells {
		out[i] = benchCell{cell: runfile.Cell{Context: ctx, Function: cc.fn, Clock: cc.clock.Name, Path: cc.path}, remote: ch, ri: i}
		if i < len(why) {
			out[i].cell.Unavailable = why[i]
		}
	}
	return out, ch, ch.Info()
}

// calibrateRemote has the child calibrate the cell.
func (bc *benchCell) calibrateRemote(benchtime time.Duration) {
	var resp response
	if err := bc.remote.call(request{Op: "calibrate", I: bc.ri, Benchtime: benchtime}, &resp); err != nil {
		bc.failed = err.Error()
		return
	}
	bc.iters, bc.chunk, bc.cell.Iters = resp.Iters, resp.Chunk, resp.Iters
	bc.cell.Notes = resp.Notes
	if resp.InCall != nil {
		bc.inCall, bc.inCallCalls = *resp.InCall, resp.InCallCalls
	}
}

// sampleRemote has the child take one sample of the cell.
func (bc *benchCell) sampleRemote() {
	if bc.failed != "" {
		return
	}
	var resp response
	if err := bc.remote.call(request{Op: "sample", I: bc.ri}, &resp); err != nil || resp.Counts == nil {
		if err == nil {
			err = errors.New("no counts in the answer")
		}
		bc.failed = err.Error()
		return
	}
	bc.cell.Samples = append(bc.cell.Samples, resp.Ns)
	bc.cell.SampleCounts = append(bc.cell.SampleCounts, *resp.Counts)
}

// latency times single calls of the cell, here or in its child.
func (bc *benchCell) latency(cfg BenchConfig, hz float64, rdtscp bool) {
	if bc.remote == nil {
		bc.cell.Latency = latency(bc.op, cfg, hz, rdtscp)
		return
	}
	if bc.failed != "" {
		return
	}
	var resp response
	if err := bc.remote.call(request{Op: "latency", I: bc.ri, LatencyCalls: cfg.LatencyCalls, LatencyTime: cfg.LatencyTime, Hz: hz}, &resp); err != nil {
		bc.failed = err.Error()
		return
	}
	bc.cell.Latency = resp.Latency
}

// countRemote counts the syscalls per call of the cells of every child
// whose tracepoint could not be read, in a traced grandchild, which
// inherits the context; counted gets them.
func countRemote(children []*contextChild, live []*benchCell, counted map[*benchCell]float64) map[*benchCell]float64 {
	for _, ch := range children {
		if ch.has[evSyscalls] {
			continue
		}
		var resp response
		if err := ch.call(request{Op: "count"}, &resp); err != nil {
			ch.info.Notes = append(ch.info.Notes, "syscalls not counted: "+err.Error())
			continue
		}
		if counted == nil {
			counted = map[*benchCell]float64{}
		}
		for _, bc := range live {
			if bc.remote == ch && bc.ri < len(resp.PerCall) {
				counted[bc] = resp.PerCall[bc.ri]
			}
		}
	}
	return counted
}

// normalizeContexts puts plain first and the contexts in table order, once
// each, and refuses a context that applies to none of the selected cells
// (wrapping ErrUnknownName: bad input).
func (cfg *BenchConfig) normalizeContexts() error {
	ctxs := []runfile.Context{runfile.ContextPlain}
	for _, c := range cfg.Contexts {
		if !c.Known() {
			_, err := runfile.ParseContexts([]string{string(c)})
			return field.Errorf(ErrUnknownName, "Contexts", nil, "%v", err)
		}
		if c == runfile.ContextPlain || slices.Contains(ctxs, c) {
			continue
		}
		if len(planContext(*cfg, c)) == 0 {
			def := contexts.DefOf(c)
			what := "every call"
			if def.ClockCalls {
				what = "the calls that read a clock"
			}
			return field.Errorf(ErrUnknownName, "Contexts", c, "applies to none of the cells selected: it measures %s through %s, on %s",
				what, runfile.Join(def.Paths, ", "), runfile.Join(def.Clocks, ", "))
		}
		ctxs = append(ctxs, c)
	}
	slices.SortStableFunc(ctxs, func(a, b runfile.Context) int {
		return slices.Index(runfile.Contexts, a) - slices.Index(runfile.Contexts, b)
	})
	cfg.Contexts = ctxs
	return nil
}

// headline reports whether the cell is one of runfile.ContextHeadlines.
func headline(ctx runfile.Context, f runfile.Function, c runfile.Clock, p runfile.Path) bool {
	return slices.Contains(runfile.ContextHeadlines, runfile.ContextHeadline{Context: ctx, Function: f, Clock: c, Path: p})
}

// planContext lists the cells of cfg (names normalized) that context ctx
// (not plain) measures, in table order: those its definition applies to,
// never a floor.
func planContext(cfg BenchConfig, ctx runfile.Context) []countCell {
	def := contexts.DefOf(ctx)
	var out []countCell
	for _, f := range cfg.Functions {
		call, ok := CallOf(f)
		if !ok {
			continue // floor
		}
		clocks := call.cellClocks(cfg.Clocks)
		for _, c := range clocks {
			for _, p := range cfg.Paths {
				if call.Has(p) && def.Applies(call.ClockData, c.Name, p) && (!cfg.ContextHeadlinesOnly || headline(ctx, f, c.Name, p)) {
					out = append(out, countCell{f, c, p})
				}
			}
		}
	}
	return out
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
