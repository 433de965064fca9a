package verify

import (
	"fmt"
	"slices"
	"strings"

	"github.com/vbench-dev/vbench/probes"
	"github.com/vbench-dev/vbench/probes/contexts"
	"github.com/vbench-dev/vbench/runfile"
)

// The checks in other contexts than plain: every check of Run again, in a
// child placed in the context (probes.StartContext), each marked with its
// context; and, in a time namespace, that every door sees the namespace's
// offset on the clocks it moves and none on the others: the parent reads
// each clock through the syscall before and after the child reads it
// through every door, and the child's reading must lie between the two
// plus the offset (kernel/time/namespace.c).

// InContext runs the checks in a context child (probes.ContextVerifier):
// every check, with the child's doors, pinned to cpu.
func InContext(cpu int, brief bool, d *probes.Doors) *runfile.Verify {
	return Run(Config{CPU: cpu, Brief: brief, Doors: d})
}

// inContexts adds to out the checks made in each of ctxs but plain.
func inContexts(ctxs []runfile.Context, cpu int, brief bool, d *probes.Doors, out *runfile.Verify) {
	for _, ctx := range ctxs {
		if ctx.Or() == runfile.ContextPlain {
			continue
		}
		ch, err := probes.StartContext(ctx)
		if err != nil {
			out.Contexts = append(out.Contexts, runfile.ContextInfo{Name: ctx, Unavailable: err.Error()})
			continue
		}
		out.Contexts = append(out.Contexts, ch.Info())
		add := func(c runfile.Check) {
			c.Context = ctx
			if c.Status == runfile.StatusInfo {
				out.Info = append(out.Info, c)
				return
			}
			out.Checks = append(out.Checks, c)
		}
		if ctx == runfile.ContextTimens {
			for _, c := range timensChecks(ch, cpu, d) {
				add(c)
			}
		}
		vr, err := ch.Verify(cpu, brief, d)
		ch.Close()
		if err != nil {
			add(runfile.Check{Name: "checks in this context", Status: runfile.StatusFail, Detail: err.Error()})
			continue
		}
		for _, c := range vr.Checks {
			add(c)
		}
		for _, c := range vr.Info {
			add(c)
		}
	}
}

// timensChecks compares the child's clocks, through every door, with the
// parent's, read through the syscall just before and just after.
func timensChecks(ch interface {
	ReadClocks(int, *probes.Doors) ([]probes.Reading, error)
}, cpu int, d *probes.Doors) []runfile.Check {
	before := parentClocks(d)
	rs, err := ch.ReadClocks(cpu, d)
	after := parentClocks(d)
	if err != nil {
		return []runfile.Check{{Name: "timens: reading the clocks inside", Status: runfile.StatusFail, Detail: err.Error()}}
	}
	off := int64(contexts.TimensOffset)
	type group struct {
		paths    []string
		fail     string
		compared int
	}
	groups := map[string]*group{}
	var order []string
	for _, r := range rs {
		clock := r.Clock
		if r.Func != runfile.FuncClockGettime {
			clock = runfile.ClockRealtime // the time of day, time()
		}
		if strings.HasSuffix(string(clock), "CPUTIME_ID") {
			continue // the process's own CPU time: no namespace moves it
		}
		name := string(r.Func) + " " + string(r.Clock)
		if r.Func != runfile.FuncClockGettime {
			name = string(r.Func)
		}
		want := int64(0)
		if slices.Contains(contexts.TimensOffsetClocks, clock) {
			want = off
		}
		label := name + ": no offset inside the time namespace"
		if want != 0 {
			label = fmt.Sprintf("%s: offset %s inside the time namespace", name, contexts.OffsetText())
		}
		g, ok := groups[label]
		if !ok {
			g = &group{}
			groups[label] = g
			order = append(order, label)
		}
		if g.fail != "" {
			continue
		}
		b, okb := before[clock]
		a, oka := after[clock]
		switch {
		case r.Err != "" && (!okb || !oka):
			// EINVAL inside as outside (an ALARM clock without an RTC).
			g.paths = append(g.paths, string(r.Path)+" (error, as outside)")
			continue
		case r.Err != "":
			g.fail = fmt.Sprintf("%s: %s, while the syscall outside reads it", r.Path, r.Err)
			continue
		case !okb || !oka:
			g.fail = fmt.Sprintf("%s reads %d.%09d inside; the syscall outside cannot read it", r.Path, r.Sec, r.Nsec)
			continue
		}
		v := r.Sec*1e9 + r.Nsec
		res := int64(1)
		switch r.Func {
		case runfile.FuncGettimeofday:
			res = 1000
		case runfile.FuncTime:
			res = 1e9
		}
		lo, hi := b+want-res, a+want+res
		if v < lo || v > hi {
			g.fail = fmt.Sprintf("%s read %s inside; outside, the syscall read %s before and %s after: want an offset of %s",
				r.Path, fmtNs(v), fmtNs(b), fmtNs(a), contexts.OffsetText())
			continue
		}
		g.paths = append(g.paths, string(r.Path))
		g.compared++
	}
	var out []runfile.Check
	for _, label := range order {
		g := groups[label]
		if g.fail != "" {
			out = append(out, runfile.Check{Name: label, Status: runfile.StatusFail, Detail: g.fail})
			continue
		}
		if g.compared == 0 {
			out = append(out, runfile.Check{Name: label, Status: runfile.StatusSkip, Detail: "an error through " + strings.Join(g.paths, ", ") + ": nothing to compare"})
			continue
		}
		out = append(out, runfile.Check{Name: label, Status: runfile.StatusPass, Detail: "through " + strings.Join(g.paths, ", ") + ", between two syscall reads outside"})
	}
	if len(out) == 0 {
		out = append(out, runfile.Check{Name: "timens: offsets seen", Status: runfile.StatusFail, Detail: "the child read no clock"})
	}
	return out
}

// parentClocks reads every clock through the syscall, in ns; a clock that
// gives an error is left out.
func parentClocks(d *probes.Doors) map[runfile.Clock]int64 {
	m := map[runfile.Clock]int64{}
	for _, c := range probes.Clocks {
		ts, err := d.ClockGettime(runfile.PathSyscall, c.ID)
		if err == nil {
			m[c.Name] = ts.Sec*1e9 + ts.Nsec
		}
	}
	return m
}

func fmtNs(v int64) string { return fmt.Sprintf("%d.%09d", v/1e9, v%1e9) }
