package aslr

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/vbench-dev/vbench/aslr/analysis"
	"github.com/vbench-dev/vbench/runfile"
)

// Every sample of the reporting target checked against /proc: the derived
// bases equal the ptrace path's in every one (checked compares them), and
// samples taken without ptrace afterwards carry the same regions.
func TestSelfReportMatchesProc(t *testing.T) {
	tg, err := openTarget("")
	if err != nil {
		t.Fatal(err)
	}
	defer tg.cleanup()
	err = lockedThread(false, func() error {
		r := newReporter(tg)
		defer r.close()
		var first sample
		for i := range 200 {
			var s sample
			if err := r.one(&s, true); err != nil {
				return err
			}
			if !s.checked {
				t.Fatalf("sample %d: a checked sample not marked checked", i)
			}
			if i == 0 {
				first = s
			}
		}
		for i := range 200 {
			var s sample
			if err := r.one(&s, false); err != nil {
				return err
			}
			if s.checked || s.present != first.present || s.vsyscallPerms != first.vsyscallPerms {
				t.Fatalf("sample %d: checked %v, regions %v, want %v as checked", i, s.checked, s.present, first.present)
			}
		}
		for _, r := range []int{rVdso, rStack, rSP, rExe, rMmap, rHeap} {
			if !first.present[r] {
				t.Errorf("%s not reported", regionNames[r])
			}
		}
		// A layout gone wrong is caught by the next checked sample, which
		// names the region, and leaves no child behind.
		r.lay.stackSize += r.page
		var s sample
		if err := r.one(&s, false); err != nil {
			return err // not checked: not caught
		}
		if err := r.one(&s, true); !errors.Is(err, ErrCheck) || !strings.Contains(err.Error(), "stack:") {
			t.Errorf("a stack size one page off: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	noChildren(t, "after self-reported samples")
}

func TestCompareNamesTheRegion(t *testing.T) {
	var a sample
	for r := range nRegions {
		a.base[r], a.present[r] = 0x7f0000000000+uint64(r)<<12, true
	}
	if err := compare(&a, &a); err != nil {
		t.Fatalf("equal samples: %v", err)
	}
	b := a
	b.base[rStack] += 0x1000
	if err := compare(&a, &b); !errors.Is(err, ErrCheck) || !strings.Contains(err.Error(), "stack:") {
		t.Errorf("a stack one page off: %v", err)
	}
	b = a
	b.present[rVvarVclock] = false
	if err := compare(&a, &b); !errors.Is(err, ErrCheck) || !strings.Contains(err.Error(), "vvar_vclock:") {
		t.Errorf("vvar_vclock absent from /proc: %v", err)
	}
}

// A record whose stack is not laid out as fs/exec.c does is refused, not
// turned into bases.
func TestDeriveRefusesABadStack(t *testing.T) {
	r := &reporter{page: 4096, execfn: uint64(len("/proc/self/fd/3")) + 1 + 8, lay: &mapsLayout{stackSize: 0x21000}}
	rec := [recordWords]uint64{slotMagic: reportMagic, slotSP: 0x7ffc0001e000, slotRandom: 0x7ffc0001ff00}
	top := uint64(0x7ffc00020000)
	rec[slotExecfn] = top - r.execfn
	var s sample
	if err := r.derive(&rec, &s); err != nil || s.base[rStack] != top-0x21000 {
		t.Fatalf("a good record: %v, stack %#x", err, s.base[rStack])
	}
	for name, mod := range map[string]func(*[recordWords]uint64){
		"execfn off the top":     func(x *[recordWords]uint64) { x[slotExecfn] -= 8 },
		"no AT_EXECFN":           func(x *[recordWords]uint64) { x[slotExecfn] = 0 },
		"AT_RANDOM below sp":     func(x *[recordWords]uint64) { x[slotRandom] = x[slotSP] - 16 },
		"AT_RANDOM past the top": func(x *[recordWords]uint64) { x[slotRandom] = top - 8 },
	} {
		bad := rec
		mod(&bad)
		if err := r.derive(&bad, &s); !errors.Is(err, errReport) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestCeiling(t *testing.T) {
	c, err := measureCeilings(context.Background(), 2, false, 60*time.Millisecond)
	if err != nil || c.vfork <= 0 || c.chain <= 0 {
		t.Errorf("ceilings: vfork %v/s, chain %v/s, %v", c.vfork, c.chain, err)
	}
	noChildren(t, "after the ceiling")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	if c, err := measureCeilings(ctx, 2, false, time.Hour); err != nil || c.vfork != 0 || c.chain != 0 || time.Since(start) > 10*time.Second {
		t.Errorf("cancelled: %+v, %v", c, err)
	}
	noChildren(t, "after a cancelled ceiling")
}

// Under an inherited ADDR_NO_RANDOMIZE (setarch -R), a run not asked to be
// the control says it was not randomized. The test binary is run again
// from a thread with that personality, which the child inherits.
func TestInheritedNoRandomize(t *testing.T) {
	if os.Getenv("VBENCH_ASLR_HELPER") == "inherited" {
		res, err := Study(context.Background(), Config{Samples: 20}, nil)
		if err != nil {
			t.Fatal(err)
		}
		json.NewEncoder(os.Stdout).Encode(res)
		return
	}
	var out []byte
	err := lockedThread(true, func() (err error) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestInheritedNoRandomize$")
		cmd.Env = append(os.Environ(), "VBENCH_ASLR_HELPER=inherited")
		out, err = cmd.Output()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	line, _, _ := strings.Cut(string(out), "\n")
	var res runfile.ASLR
	if err := json.Unmarshal([]byte(line), &res); err != nil {
		t.Fatalf("%v: %q", err, out)
	}
	if cs := analysis.Conclusions(&res); !res.InheritedNoRandomize || len(cs) == 0 || !strings.HasPrefix(cs[0], "NOT RANDOMIZED") {
		t.Errorf("inherited %v, conclusions %q", res.InheritedNoRandomize, cs)
	}
	for _, r := range res.Regions {
		if r.Distinct > 1 {
			t.Errorf("%s: %d distinct values under ADDR_NO_RANDOMIZE", r.Name, r.Distinct)
		}
	}
	if inheritedNoRandomize() {
		t.Error("this process is not under ADDR_NO_RANDOMIZE, yet it says so")
	}
}

// Where /proc cannot be read (a sandbox), self-reporting samples on,
// unchecked, without the regions that need /proc, and says why.
func TestSelfReportWithoutProc(t *testing.T) {
	tg, err := openTarget("")
	if err != nil {
		t.Fatal(err)
	}
	defer tg.cleanup()
	err = lockedThread(false, func() error {
		r := newReporter(tg)
		defer r.close()
		r.chk.rd.root = t.TempDir() // no proc there
		for i := range 20 {
			var s sample
			if err := r.one(&s, i == 0 || i == 10); err != nil {
				return err
			}
			if s.checked || s.present[rStack] || s.present[rVvar] || !s.present[rVdso] || !s.present[rSP] || !s.present[rExe] {
				t.Fatalf("sample %d: checked %v, regions %v", i, s.checked, s.present)
			}
		}
		if !strings.Contains(r.chk.skipped, "no such file") {
			t.Errorf("skipped: %q", r.chk.skipped)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	noChildren(t, "after unchecked samples")
}
