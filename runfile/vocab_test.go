package runfile

import (
	"slices"
	"strings"
	"testing"
)

// TestVocabularyLists: each list holds distinct values, each of them
// Known, and a value outside it is not.
func TestVocabularyLists(t *testing.T) {
	distinct := func(name string, xs []string) {
		t.Helper()
		s := slices.Clone(xs)
		slices.Sort(s)
		if len(slices.Compact(s)) != len(xs) || slices.Contains(xs, "") {
			t.Errorf("%s: %q has an empty or repeated value", name, xs)
		}
	}
	strs := func(xs []Function) []string { return strings.Split(Join(xs, " "), " ") }
	distinct("functions", strs(BenchFunctions()))
	distinct("paths", strings.Split(Join(Paths, " "), " "))
	distinct("clocks and floor ops", strings.Split(Join(append(slices.Clone(Clocks), FloorOps...), " "), " "))
	distinct("statuses", strings.Split(Join(Statuses, " "), " "))
	distinct("rules", strings.Split(Join(Rules, " "), " "))
	distinct("entropy kinds", strings.Split(Join(EntropyKinds, " "), " "))
	distinct("contexts", strings.Split(Join(Contexts, " "), " "))
	distinct("parts", strings.Split(Join(Parts, " "), " "))

	for _, f := range BenchFunctions() {
		if !f.Known() {
			t.Errorf("function %s not Known", f)
		}
	}
	for _, c := range append(slices.Clone(Clocks), FloorOps...) {
		if !c.Known() {
			t.Errorf("clock %s not Known", c)
		}
	}
	for _, op := range CounterOps {
		if !slices.Contains(FloorOps, op) {
			t.Errorf("counter op %s is no floor op", op)
		}
	}
	if Function("nanosleep").Known() || Path("int80").Known() || Clock("SGI_CYCLE").Known() ||
		Status("maybe").Known() || Rule("guess").Known() || EntropyKind("renyi-3").Known() || Context("chroot").Known() {
		t.Error("an unknown value is Known")
	}
	if Function("").Known() || Path("").Known() || Clock("").Known() {
		t.Error("the empty word is Known (empty fields are checked by Validate where allowed)")
	}
	if !ContextPlain.Known() {
		t.Error("plain is not a known context")
	}
	// Only clocked calls show a clock in the headlines.
	for _, h := range Headlines() {
		c, _ := h.Function.Info()
		if (h.Clock == HeadlineClock) != c.Clocked || (h.Clock != "" && h.Clock != HeadlineClock) {
			t.Errorf("headline %+v for %+v", h, c)
		}
	}
}

// TestParse: names in any case (clocks with or without CLOCK_) parse to
// the canonical word; an unknown one is an error listing the valid ones.
func TestParse(t *testing.T) {
	if f, err := ParseFunction(" Clock_Gettime ", false); err != nil || f != FuncClockGettime {
		t.Errorf("ParseFunction = %q, %v", f, err)
	}
	if _, err := ParseFunction("floor", false); err == nil {
		t.Error("floor parsed as a call")
	}
	if f, err := ParseFunction("FLOOR", true); err != nil || f != FuncFloor {
		t.Errorf("ParseFunction(FLOOR, true) = %q, %v", f, err)
	}
	if p, err := ParsePath("VDSO"); err != nil || p != PathVDSO {
		t.Errorf("ParsePath = %q, %v", p, err)
	}
	for _, s := range []string{"clock_monotonic_raw", "MONOTONIC_RAW", " Monotonic_Raw"} {
		if c, err := ParseClock(s); err != nil || c != ClockMonotonicRaw {
			t.Errorf("ParseClock(%q) = %q, %v", s, c, err)
		}
	}
	_, err := ParseClock("SGI_CYCLE")
	if err == nil || !strings.Contains(err.Error(), `unknown clock "SGI_CYCLE" (valid: REALTIME, MONOTONIC,`) {
		t.Errorf("ParseClock(SGI_CYCLE): %v", err)
	}
	_, err = ParsePath("int80")
	if err == nil || err.Error() != `unknown path "int80" (valid: syscall, vdso, vsyscall, rseq)` {
		t.Errorf("ParsePath(int80): %v", err)
	}
}

// TestCallInfoHas: the syscall and the vDSO for every call, the vsyscall
// page for its three entries, rseq for getcpu only.
func TestCallInfoHas(t *testing.T) {
	for _, c := range Calls {
		if !c.Has(PathSyscall) || !c.Has(PathVDSO) || c.Has("int80") {
			t.Errorf("%s: syscall %v, vdso %v, int80 %v", c.Function, c.Has(PathSyscall), c.Has(PathVDSO), c.Has("int80"))
		}
		wantV := c.Function == FuncGettimeofday || c.Function == FuncTime || c.Function == FuncGetcpu
		if c.Has(PathVsyscall) != wantV || c.Has(PathRseq) != (c.Function == FuncGetcpu) {
			t.Errorf("%s: vsyscall %v, rseq %v", c.Function, c.Has(PathVsyscall), c.Has(PathRseq))
		}
	}
	for _, p := range Parts {
		if !p.Known() {
			t.Errorf("part %s not Known", p)
		}
	}
	if Part("lifecycles").Known() {
		t.Error("an unknown part is Known")
	}
}

func TestOneLine(t *testing.T) {
	if got := OneLine("  aslr:\tspawn failed\n  at sample 3 \r\n"); got != "aslr: spawn failed at sample 3" {
		t.Errorf("OneLine = %q", got)
	}
}
