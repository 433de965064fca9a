package runfile

import (
	"fmt"
	"slices"
	"strings"
)

// ContextSeccomp is the name that stands for both seccomp contexts on the
// command line.
const ContextSeccomp = "seccomp"

// Or is c, or ContextPlain when c is empty (files written before contexts
// existed, and plain cells, which leave the field out).
func (c Context) Or() Context {
	if c == "" {
		return ContextPlain
	}
	return c
}

// ParseContexts parses a list of context names (case-insensitive; "seccomp"
// stands for both seccomp contexts), in table order without repeats. An
// unknown name is an error listing the valid ones; an empty list is plain.
func ParseContexts(names []string) ([]Context, error) {
	if len(names) == 0 {
		return []Context{ContextPlain}, nil
	}
	var out []Context
	add := func(c Context) {
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	for _, n := range names {
		n = strings.ToLower(strings.TrimSpace(n))
		switch {
		case n == ContextSeccomp:
			add(ContextSeccompAllowlist)
			add(ContextSeccompArgcheck)
		case Context(n).Known():
			add(Context(n))
		default:
			valid := []string{}
			for _, c := range Contexts {
				valid = append(valid, string(c))
			}
			return nil, fmt.Errorf("unknown context %q (valid: %s, or %s for both seccomp filters)", n, strings.Join(valid, ", "), ContextSeccomp)
		}
	}
	slices.SortStableFunc(out, func(a, b Context) int { return slices.Index(Contexts, a) - slices.Index(Contexts, b) })
	return out, nil
}

// ContextInfo is what one context was, in a bench or a verify part: how
// it was entered, or why it could not be (then its cells and checks are
// absent, and Unavailable says why, once).
type ContextInfo struct {
	Name        Context `json:"name"`
	Unavailable string  `json:"unavailable,omitempty"`
	// Notes say how the context was made, e.g. "unshare(CLONE_NEWTIME)
	// in a new user namespace; offsets written before exec".
	Notes []string `json:"notes,omitempty"`
	// OffsetNs is the time namespace's offset of MONOTONIC and BOOTTIME
	// (timens only).
	OffsetNs int64 `json:"offset_ns,omitempty"`
	// Seccomp describes the filter (the seccomp contexts only).
	Seccomp *SeccompInfo `json:"seccomp,omitempty"`
}

// SeccompInfo describes a seccomp filter a context ran under.
type SeccompInfo struct {
	// Instructions is the BPF program's length; Allowed how many system
	// calls it lets through.
	Instructions int `json:"instructions"`
	Allowed      int `json:"allowed"`
	// ArgChecked names the system calls whose argument is checked (the
	// timed ones, in seccomp-argcheck): the kernel cannot cache these.
	ArgChecked []string `json:"arg_checked,omitempty"`
	// Status is the child's /proc/self/status Seccomp and Seccomp_filters
	// lines, e.g. "Seccomp: 2, Seccomp_filters: 1".
	Status string `json:"status,omitempty"`
	// Cache is what the kernel said about caching the timed syscalls:
	// /proc/self/seccomp_cache's lines for them where the kernel has it
	// (CONFIG_SECCOMP_CACHE_DEBUG), else why it could not be read; the
	// cost of the syscall path in this context is then the evidence.
	Cache string `json:"cache,omitempty"`
}

// FindIn returns the cell with the given context, function, clock and
// path (Find is FindIn plain).
func (b *Bench) FindIn(ctx Context, function Function, clock Clock, path Path) (*Cell, bool) {
	for i := range b.Cells {
		c := &b.Cells[i]
		if c.Context.Or() == ctx.Or() && c.Function == function && c.Clock == clock && c.Path == path {
			return c, true
		}
	}
	return nil, false
}

// ContextsMeasured lists the contexts that have cells in b, in table
// order: plain alone for a run made without --contexts.
func (b *Bench) ContextsMeasured() []Context {
	var out []Context
	for _, ctx := range Contexts {
		for _, c := range b.Cells {
			if c.Context.Or() == ctx {
				out = append(out, ctx)
				break
			}
		}
	}
	return out
}

// Context returns the ContextInfo of ctx, if b lists it.
func (b *Bench) Context(ctx Context) (ContextInfo, bool) {
	for _, ci := range b.Contexts {
		if ci.Name == ctx {
			return ci, true
		}
	}
	return ContextInfo{}, false
}

// context rejects a context this schema does not know ("" is plain).
func (v *validator) context(path string, c Context) {
	if c != "" && !c.Known() {
		v.failf(path, "unknown context %q", c)
	}
}

// contextInfos checks a bench's or verify's list of contexts.
func (v *validator) contextInfos(path string, cs []ContextInfo) {
	v.count(path, len(cs), len(Contexts))
	for i, ci := range cs {
		cp := idx(path, i)
		v.context(cp+".name", ci.Name)
		v.text(cp+".unavailable", ci.Unavailable, MaxText)
		v.texts(cp+".notes", ci.Notes, MaxText)
		if s := ci.Seccomp; s != nil {
			v.between(cp+".seccomp.instructions", int64(s.Instructions), 0, 4096) // BPF_MAXINSNS
			v.nonNeg(cp+".seccomp.allowed", int64(s.Allowed))
			v.texts(cp+".seccomp.arg_checked", s.ArgChecked, MaxText)
			v.text(cp+".seccomp.status", s.Status, MaxText)
			v.text(cp+".seccomp.cache", s.Cache, MaxText)
		}
	}
}

// Label is the check's name, after its context when not plain:
// "[timens] clock_gettime MONOTONIC: ...".
func (c Check) Label() string {
	if c.Context.Or() == ContextPlain {
		return c.Name
	}
	return "[" + string(c.Context) + "] " + c.Name
}

// ContextHeadline is one cell the summaries and the boot lab's context
// table show per context: what each context changes most plainly.
type ContextHeadline struct {
	Context  Context
	Function Function
	Clock    Clock
	Path     Path
}

// ContextHeadlines are the three cells that say what each context costs:
// the vDSO's MONOTONIC in a time namespace (do_hres_timens), and the
// syscall under each seccomp filter (cached, and not).
var ContextHeadlines = []ContextHeadline{
	{ContextTimens, FuncClockGettime, ClockMonotonic, PathVDSO},
	{ContextSeccompAllowlist, FuncClockGettime, ClockMonotonic, PathSyscall},
	{ContextSeccompArgcheck, FuncClockGettime, ClockMonotonic, PathSyscall},
}

// Name is "timens: clock_gettime MONOTONIC vdso".
func (h ContextHeadline) Name() string {
	return fmt.Sprintf("%s: %s %s %s", h.Context, h.Function, h.Clock, h.Path)
}
