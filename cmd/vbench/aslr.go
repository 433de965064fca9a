package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"os"
	"os/signal"
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
  vbench aslr --from-csv samples.csv           re-estimate from such a file, no spawning

vbench's own target reports itself: it writes its stack pointer, auxv
entries and brk(0) down a pipe and exits, so a sample is one vfork+exec and
no more. The first samples of each thread and 1 in 100 after that are also
stopped by ptrace at execve, and the bases read from /proc/PID/maps, auxv
and stat must equal the self-reported ones, or the run stops. A --target
(or --ptrace) is sampled that way every time, and killed at the stop.
Before and after sampling, --ceiling measures how fast the same threads can
spawn a program that only exits; the rate is shown as a fraction of that.
Ctrl-C stops early and still reports on the samples gathered.
`

func runAslr(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("aslr", "vbench aslr [flags]", aslrExamples, stdout)
	samples := fs.Int("samples", 5000, "number of spawns to sample")
	target := fs.String("target", "", "program `PATH` to spawn (default: a tiny static-PIE ELF vbench builds in memory)")
	noRand := fs.Bool("no-randomize", false, "spawn with personality ADDR_NO_RANDOMIZE (as 'setarch -R'): the control run")
	csvOut := fs.String("samples-csv", "", "stream the raw samples as CSV to `FILE` (renamed into place at the end)")
	jsonOut := fs.String("json", "", "write the run (environment and estimators) as JSON to `FILE`")
	workers := fs.Int("workers", 0, fmt.Sprintf("spawning threads (0: %d here, CPUs+1, at most 4)", aslr.DefaultWorkers()))
	ptrace := fs.Bool("ptrace", false, "read every sample of the built-in target through ptrace and /proc, as for --target (slower; to compare)")
	ceiling := fs.Duration("ceiling", aslr.DefaultCeiling, "measure the spawn ceiling for `DURATION`, half before sampling and half after (0: do not; not with --target)")
	fromCSV := fs.String("from-csv", "", "re-estimate everything from a samples CSV `FILE` (as --samples-csv writes; some region columns are enough) instead of sampling")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErrorf("aslr: unexpected argument %q (see 'vbench aslr --help')", fs.Arg(0))
	}
	if *fromCSV != "" {
		return aslrFromCSV(*fromCSV, *jsonOut, stdout)
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
	if *ceiling < 0 {
		return usageErrorf("aslr: --ceiling %s: need 0 (do not measure) or more", *ceiling)
	}
	cfg := aslr.Config{Samples: *samples, Target: *target, NoRandomize: *noRand, Workers: *workers, Ptrace: *ptrace, Ceiling: *ceiling}

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

// aslrFromCSV re-estimates from a samples file. The kernel the samples
// came from is not in the file: no kernel maxima are given.
func aslrFromCSV(path, jsonOut string, stdout io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return usageErrorf("aslr: --from-csv: %v", err)
	}
	defer f.Close()
	res, err := aslr.FromCSV(f, path)
	if err != nil {
		return usageErrorf("aslr: --from-csv %s: %v", path, err)
	}
	if jsonOut != "" {
		run := runfile.New(runfile.Env{}) // the samples came from elsewhere: not this machine
		run.ASLR = res
		run.Finished = time.Now().UTC()
		if err := run.WriteFile(jsonOut); err != nil {
			return failedf("aslr: %v", err)
		}
	}
	fmt.Fprintf(stdout, "re-estimated from %s (the kernel it came from is not recorded there: no kernel maxima)\n", path)
	writeAslr(stdout, res)
	return nil
}

// writeAslr prints the region table, the pairs that move together and the
// conclusions.
func writeAslr(w io.Writer, a *runfile.ASLR) {
	fmt.Fprintf(w, "target %s, %s: %d samples in %.2fs, %.0f samples/s (%d spawning threads)\n", a.Target, aslrMode(a), a.Samples,
		a.Duration.Seconds(), a.Rate, a.Workers)
	if m := aslr.MethodWords(a); m != "" {
		fmt.Fprintf(w, "method: %s\n", m)
	}
	if a.Ceiling > 0 {
		fmt.Fprintf(w, "ceiling: %.0f spawns/s of a program that only exits (same threads; %.0f before sampling, %.0f after, %.2fs in all): sampling ran at %.0f%% of it\n",
			a.Ceiling, a.CeilingBefore, a.CeilingAfter, a.CeilingDuration.Seconds(), 100*a.CeilingFraction)
		if lo, hi := min(a.CeilingBefore, a.CeilingAfter), max(a.CeilingBefore, a.CeilingAfter); lo > 0 && hi > 1.2*lo {
			fmt.Fprintln(w, "  (the ceiling moved by more than 20% during the run: the machine's load changed; the fraction is rough)")
		}
	}
	if a.InheritedNoRandomize {
		fmt.Fprintln(w, "NOT RANDOMIZED: vbench runs with the ADDR_NO_RANDOMIZE personality (as under 'setarch -R'), inherited by every spawn: the figures below measure no ASLR")
	}
	if a.Interrupted {
		fmt.Fprintf(w, "INTERRUPTED after %d of %d samples\n", a.Samples, a.Requested)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "region\tdistinct\tvarying\tbits\tquality\tbit-H sum\trange\tcollisions\tbirthday [95%]\tShannon (ceil)\tmin-H [95%]\tchi² p\teffective [95%]\tentropy\trule\tkernel max\t")
	var above []string
	for _, r := range a.Regions {
		if r.Present == 0 {
			fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\tabsent\t\t\n", r.Name)
			continue
		}
		kmax := "?"
		if r.KernelMaxSource != "" {
			kmax = fmt.Sprintf("%.0f", r.KernelMaxBits)
			if r.AboveKernelMax {
				kmax += " ABOVE"
				above = append(above, aslr.AboveWords(r, aslr.Max{Bits: r.KernelMaxBits, Source: r.KernelMaxSource, Known: true}))
			}
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%d\t%.2f\t%.2f\t%d\t%s\t%.2f (%.1f)\t%s\t%s\t%s\t%s\t%s\t%s\t\n",
			r.Name, r.Distinct, r.VaryingBits, bitSpan(r.VaryingMask), r.QualityBits, r.BitEntropySum, r.RangeBits, r.Collisions,
			birthday(r), r.Shannon, r.ShannonCeiling, minH(r), chiP(r), eff(r), entropyWord(r.Entropy), ruleCode(r), kmax)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nvarying: bits that differ between samples, spanning 'bits'; quality: paxtest's, varying minus those set in <=35% or >=65% of samples.")
	fmt.Fprintln(w, "bits throughout; birthday: log2(pairs/collisions), the collision entropy, inf with none; Shannon is the plug-in, capped at (ceil) = log2 N;")
	fmt.Fprintln(w, "min-H: plug-in min-entropy (biased low), with bounds. effective: the conservative figure, named under 'entropy'; its interval holds that entropy.")
	for _, x := range above {
		fmt.Fprintf(w, "ABOVE THE KERNEL MAXIMUM: %s\n", x)
	}
	fmt.Fprintln(w, "rules:")
	for _, r := range a.Regions {
		if r.Present > 0 && r.Distinct > 1 {
			fmt.Fprintf(w, "  %s: %s\n", r.Name, aslr.RuleWords(r))
		}
	}

	fmt.Fprintln(w, "\nregions that move together (one distinct difference) or follow another (fewer bits of difference than either has):")
	distinct := map[string]int{}
	for _, r := range a.Regions {
		distinct[r.Name] = r.Distinct
	}
	apart, fixed, same := 0, 0, 0
	placed := map[string]bool{} // regions already shown moving with an earlier one
	for _, p := range a.Pairs {
		if distinct[p.A] == 1 && distinct[p.B] == 1 {
			fixed++
			continue
		}
		if p.DistinctDiffs != 1 && !p.Related {
			apart++
			continue
		}
		if p.DistinctDiffs == 1 {
			if placed[p.B] || placed[p.A] {
				same++ // implied by the lines above
				continue
			}
			placed[p.B] = true
		}
		fmt.Fprintf(w, "  %-12s %-12s %6d distinct  %s\n", p.A, p.B, p.DistinctDiffs, aslr.PairWords(p, a.Regions))
	}
	if same > 0 {
		fmt.Fprintf(w, "  (%d more fixed offsets between those regions, implied by the lines above)\n", same)
	}
	if fixed > 0 {
		fmt.Fprintf(w, "  (%d pairs of regions that are both fixed: constant differences, nothing to learn)\n", fixed)
	}
	if apart > 0 {
		fmt.Fprintf(w, "  (%d other pairs: the difference has no fewer bits than the regions themselves; knowing one leaves the other its own entropy)\n", apart)
	}
	fmt.Fprintln(w, "\nconclusions:")
	for _, c := range aslr.Conclusions(a) {
		fmt.Fprintf(w, "  - %s\n", c)
	}
}

// aslrMode is the run's randomization, in a few words.
func aslrMode(a *runfile.ASLR) string {
	switch {
	case a.NoRandomize:
		return "ADDR_NO_RANDOMIZE (control)"
	case a.InheritedNoRandomize:
		return "NOT randomized (ADDR_NO_RANDOMIZE inherited, as under 'setarch -R')"
	}
	return "randomized"
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

// ruleCode is the rule's short code (Region.Rule); run files from before
// it was a field show "-" (their sentence is listed under "rules:").
func ruleCode(r runfile.Region) string {
	if r.Rule == "" {
		return "-"
	}
	return r.Rule
}

func entropyWord(kind string) string {
	switch kind {
	case aslr.EntropyCollision:
		return "collision"
	case aslr.EntropyMin:
		return "min"
	case aslr.EntropyUpperBound:
		return "upper bound"
	}
	return "-"
}

func eff(r runfile.Region) string {
	if r.Rule == "" || r.Distinct <= 1 {
		return fmt.Sprintf("%.2f", r.Effective)
	}
	return fmt.Sprintf("%.2f [%.1f,%.1f]", r.Effective, r.EffectiveLo, r.EffectiveHi)
}

func minH(r runfile.Region) string {
	if r.Rule == "" || r.Distinct <= 1 {
		return fmt.Sprintf("%.2f", r.MinEntropy)
	}
	return fmt.Sprintf("%.2f [%.1f,%.1f]", r.MinEntropy, r.MinEntropyLo, r.MinEntropyHi)
}
