package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"os"
	"os/signal"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vbench-dev/vbench/aslr"
	"github.com/vbench-dev/vbench/internal/atomicfile"
	"github.com/vbench-dev/vbench/internal/progress"
	"github.com/vbench-dev/vbench/runfile"
	"github.com/vbench-dev/vbench/sysenv"
)

func init() {
	register(&command{name: "aslr", summary: "sample the vDSO base across spawns and measure its entropy", run: runAslr})
}

const aslrExamples = `  vbench aslr                                  5000 spawns of vbench's built-in target
  vbench aslr --samples 100000 --json aslr.json
  vbench aslr --no-randomize                   the control: as under 'setarch -R'
  vbench aslr --target /bin/true --samples 2000
  vbench aslr --samples-csv samples.csv        raw bases, one line per spawn

Each spawn is stopped by ptrace right after execve, before it runs; its
/proc/PID/maps, auxv and stat are read and it is killed. Ctrl-C stops early
and still reports on the samples gathered.
`

func runAslr(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("aslr", "vbench aslr [flags]", aslrExamples, stdout)
	samples := fs.Int("samples", 5000, "number of spawns to sample")
	target := fs.String("target", "", "program `PATH` to spawn (default: a tiny static-PIE ELF vbench builds in memory)")
	noRand := fs.Bool("no-randomize", false, "spawn with personality ADDR_NO_RANDOMIZE (as 'setarch -R'): the control run")
	csvOut := fs.String("samples-csv", "", "stream the raw samples as CSV to `FILE` (renamed into place at the end)")
	jsonOut := fs.String("json", "", "write the run (environment and estimators) as JSON to `FILE`")
	workers := fs.Int("workers", 0, fmt.Sprintf("spawning threads (0: %d here, CPUs+1, at most 4)", aslr.DefaultWorkers()))
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErrorf("aslr: unexpected argument %q (see 'vbench aslr --help')", fs.Arg(0))
	}
	if *samples <= 0 {
		return usageErrorf("aslr: --samples %d: need at least 1", *samples)
	}
	if *target != "" {
		st, err := os.Stat(*target)
		if err != nil {
			return usageErrorf("aslr: --target: %v", err)
		}
		if !st.Mode().IsRegular() {
			return usageErrorf("aslr: --target %s: not a regular file", *target)
		}
	}
	if *workers < 0 {
		return usageErrorf("aslr: --workers %d: need 0 (automatic) or more", *workers)
	}
	cfg := aslr.Config{Samples: *samples, Target: *target, NoRandomize: *noRand, Workers: *workers}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	run := runfile.New(sysenv.Collect())
	bar := progress.New(stderr, "aslr", "samples", cfg.Samples)
	var res *runfile.ASLR
	study := func(csv io.Writer) error {
		cfg.CSV = csv
		var err error
		res, err = aslr.Study(ctx, cfg, func(done, _ int) { bar.Set(done) })
		return err
	}
	var err error
	if *csvOut != "" {
		err = atomicfile.Write(*csvOut, study)
	} else {
		err = study(nil)
	}
	bar.Done()
	switch {
	case errors.Is(err, aslr.ErrConfig), errors.Is(err, aslr.ErrTarget):
		return usageErrorf("aslr: %v", err)
	case err != nil:
		return failedf("aslr: %v", err)
	}
	run.ASLR = res
	run.Finished = time.Now().UTC()
	if *jsonOut != "" {
		if err := run.WriteFile(*jsonOut); err != nil {
			return failedf("aslr: %v", err)
		}
	}
	fmt.Fprintf(stdout, "kernel %s, kernel.randomize_va_space=%d, vm.mmap_rnd_bits=%d, vsyscall=%s\n",
		run.Env.KernelRelease, run.Env.RandomizeVASpace, run.Env.MmapRndBits, run.Env.VsyscallMode)
	writeAslr(stdout, res)
	return nil
}

// writeAslr prints the region table, the pairs that move together and the
// conclusions.
func writeAslr(w io.Writer, a *runfile.ASLR) {
	mode := "randomized"
	if a.NoRandomize {
		mode = "ADDR_NO_RANDOMIZE (control)"
	}
	fmt.Fprintf(w, "target %s, %s: %d samples in %.2fs, %.0f samples/s (%d spawning threads)\n", a.Target, mode, a.Samples,
		a.Duration.Seconds(), a.Rate, a.Workers)
	if a.Interrupted {
		fmt.Fprintf(w, "INTERRUPTED after %d of %d samples\n", a.Samples, a.Requested)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "region\tdistinct\tvarying\tbits\tquality\tbit-H sum\trange\tcollisions\tbirthday [95%]\tShannon (ceil)\tmin-H\tchi² p\teffective\trule\t")
	for _, r := range a.Regions {
		if r.Present == 0 {
			fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\tabsent\t\n", r.Name)
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%d\t%.2f\t%.2f\t%d\t%s\t%.2f (%.1f)\t%.2f\t%s\t%.2f\t%s\t\n",
			r.Name, r.Distinct, r.VaryingBits, bitSpan(r.VaryingMask), r.QualityBits, r.BitEntropySum, r.RangeBits, r.Collisions,
			birthday(r), r.Shannon, r.ShannonCeiling, r.MinEntropy, chiP(r), r.Effective, shortRule(r.EffectiveRule))
	}
	tw.Flush()
	fmt.Fprintln(w, "\nvarying: bits that differ between samples, spanning 'bits'; quality: paxtest's, varying minus those set in <=35% or >=65% of samples.")
	fmt.Fprintln(w, "bits throughout; birthday: log2(pairs/collisions), inf with none; Shannon is the plug-in, capped at (ceil) = log2 N.")
	fmt.Fprintln(w, "rules:")
	seen := map[string]bool{}
	for _, r := range a.Regions {
		if r.Present > 0 && !seen[r.EffectiveRule] {
			seen[r.EffectiveRule] = true
			var names []string
			for _, q := range a.Regions {
				if q.EffectiveRule == r.EffectiveRule {
					names = append(names, q.Name)
				}
			}
			fmt.Fprintf(w, "  %s: %s\n", strings.Join(names, ", "), r.EffectiveRule)
		}
	}

	fmt.Fprintln(w, "\nregions that move together (one distinct difference) or nearly:")
	distinct := map[string]int{}
	for _, r := range a.Regions {
		distinct[r.Name] = r.Distinct
	}
	independent, fixed := 0, 0
	for _, p := range a.Pairs {
		if p.DistinctDiffs > 4096 || (p.DistinctDiffs == a.Samples && a.Samples > 1) {
			independent++
			continue
		}
		if distinct[p.A] == 1 && distinct[p.B] == 1 {
			fixed++
			continue
		}
		fmt.Fprintf(w, "  %-12s %-12s %5d distinct  %s\n", p.A, p.B, p.DistinctDiffs, p.Conclusion)
	}
	if fixed > 0 {
		fmt.Fprintf(w, "  (%d pairs of regions that are both fixed: constant differences, nothing to learn)\n", fixed)
	}
	if independent > 0 {
		fmt.Fprintf(w, "  (%d other pairs differ in every sample, or in over 4096 ways: they do not move together)\n", independent)
	}
	fmt.Fprintln(w, "\nconclusions:")
	for _, c := range a.Conclusions {
		fmt.Fprintf(w, "  - %s\n", c)
	}
}

// bitSpan is "12-40": the lowest and highest varying bit.
func bitSpan(mask uint64) string {
	if mask == 0 {
		return "-"
	}
	return fmt.Sprintf("%d-%d", bits.TrailingZeros64(mask), 63-bits.LeadingZeros64(mask))
}

func birthday(r runfile.Region) string {
	f := func(x float64) string {
		if x < 0 {
			return "inf"
		}
		return fmt.Sprintf("%.1f", x)
	}
	return fmt.Sprintf("%s [%s,%s]", f(r.CollisionBits), f(r.CollisionLo), f(r.CollisionHi))
}

func chiP(r runfile.Region) string {
	if r.ChiSquareDF == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2g", r.ChiSquareP)
}

// shortRule names the rule of Region.EffectiveRule in a word for the table.
func shortRule(rule string) string {
	for _, p := range []struct{ prefix, word string }{
		{"constant", "constant"},
		{"absent", "absent"},
		{"plug-in", "Shannon"},
		{"birthday", "birthday"},
		{"upper bound", "upper bound"},
		{"min(range", "range"},
	} {
		if strings.HasPrefix(rule, p.prefix) {
			return p.word
		}
	}
	return rule
}
