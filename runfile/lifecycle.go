package runfile

import "encoding/json"

// Lifecycle is the vDSO lifecycle part of a run (`vbench lifecycle`): what
// happened when a child process moved its vDSO (mremap), unmapped it and
// asked for a new one (arch_prctl(ARCH_MAP_VDSO_64)), and, where the kernel
// has fault injection, when each allocation of that call failed in turn.
type Lifecycle struct {
	// Layout is the vDSO's mappings as the kernel laid them out at exec in
	// a fresh child, lowest first: "[vvar]", "[vvar_vclock]" (6.13+),
	// "[vdso]". Offsets are from the lowest one's start.
	Layout []LifecycleRegion `json:"layout,omitempty"`
	// Checks are the verdicts, one per check ("mremap", "arch_prctl map",
	// "EEXIST [vvar] left", ..., "fault injection"): status "pass", "fail"
	// or "skip", with the reason in detail when skipped.
	Checks []Check `json:"checks"`
	// FaultInjection is the enumeration of ARCH_MAP_VDSO_64's failure
	// points; absent when it could not run (the "fault injection" check
	// then says why).
	FaultInjection *FaultInjection `json:"fault_injection,omitempty"`
	// Seconds is the part's wall-clock time.
	Seconds float64 `json:"seconds"`
}

// LifecycleRegion is one mapping of the vDSO's: its name in
// /proc/PID/maps, where it starts (an address, or an offset in Layout) and
// its size in bytes.
type LifecycleRegion struct {
	Name  string `json:"name"`
	Start uint64 `json:"start"`
	Size  uint64 `json:"size"`
}

// MarshalJSON writes start_hex beside start.
func (g LifecycleRegion) MarshalJSON() ([]byte, error) {
	type plain LifecycleRegion
	return json.Marshal(struct {
		plain
		StartHex string `json:"start_hex"`
	}{plain(g), HexAddr(g.Start)})
}

// FaultInjection is what failing each fault point of one
// arch_prctl(ARCH_MAP_VDSO_64) call in turn did, through
// /proc/thread-self/fail-nth and failslab.
type FaultInjection struct {
	// Points is the number of failure points tried: N = 1..Points each
	// failed the N-th fault point of the call; N = Points+1 ran it with no
	// failure (Complete).
	Points int `json:"points"`
	// Complete is true when the call with N = Points+1 reached no N-th
	// point and succeeded: every failure point was visited.
	Complete bool `json:"complete"`
	// Results holds one entry per point tried, in order.
	Results []FaultPoint `json:"results"`
	// Leaks holds one entry per point that left a vDSO mapping behind.
	Leaks []FaultLeak `json:"leaks"`
	// Setup says how fault injection was set up (the failslab knobs).
	Setup string `json:"setup,omitempty"`
}

// FaultPoint is the call with its N-th fault point failed.
type FaultPoint struct {
	N int `json:"n"`
	// Errno is the call's error ("ENOMEM"), or "" when it succeeded in
	// spite of the failure.
	Errno string `json:"errno,omitempty"`
	// Left is what of [vvar], [vvar_vclock] and [vdso] was mapped after the
	// call failed (empty: nothing left behind).
	Left []LifecycleRegion `json:"left,omitempty"`
}

// FaultLeak is one failure point that left vDSO mappings behind.
type FaultLeak struct {
	Point   int               `json:"point"`
	Errno   string            `json:"errno,omitempty"`
	Regions []LifecycleRegion `json:"regions"`
	// Retry is what ARCH_MAP_VDSO_64 gave when called again, with no
	// fault injected, in the process left so: "EEXIST" when the leaked
	// mapping keeps it from ever getting a vDSO back, "" if it succeeded.
	Retry string `json:"retry,omitempty"`
}

func (v *validator) lifecycle(p string, l *Lifecycle) {
	v.real(p+".seconds", l.Seconds, 0, 1e6, " s")
	v.regions(p+".layout", l.Layout)
	v.count(p+".checks", len(l.Checks), MaxItems)
	for i, c := range l.Checks {
		cp := idx(p+".checks", i)
		v.text(cp+".name", c.Name, MaxText)
		known(v, cp+".status", c.Status, c.Status.Known() && c.Status != StatusInfo, true)
		v.text(cp+".detail", c.Detail, MaxText)
	}
	fi := l.FaultInjection
	if fi == nil {
		return
	}
	fp := p + ".fault_injection"
	v.between(fp+".points", int64(fi.Points), 0, MaxItems)
	v.text(fp+".setup", fi.Setup, MaxText)
	v.count(fp+".results", len(fi.Results), MaxItems)
	for i, r := range fi.Results {
		rp := idx(fp+".results", i)
		v.between(rp+".n", int64(r.N), 1, MaxItems)
		v.name(rp+".errno", r.Errno, false)
		v.regions(rp+".left", r.Left)
	}
	v.count(fp+".leaks", len(fi.Leaks), MaxItems)
	for i, k := range fi.Leaks {
		kp := idx(fp+".leaks", i)
		v.between(kp+".point", int64(k.Point), 1, MaxItems)
		v.name(kp+".errno", k.Errno, false)
		v.name(kp+".retry", k.Retry, false)
		v.regions(kp+".regions", k.Regions)
	}
}

func (v *validator) regions(p string, rs []LifecycleRegion) {
	v.count(p, len(rs), MaxItems)
	for i, g := range rs {
		gp := idx(p, i)
		v.text(gp+".name", g.Name, MaxName)
		if g.Start+g.Size < g.Start {
			v.failf(gp+".size", "%d: the region would wrap around the address space", g.Size)
		}
	}
}
