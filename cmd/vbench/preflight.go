package main

import (
	"context"
	"fmt"
	"runtime/debug"
	"strings"
	"time"

	"github.com/vbench-dev/vbench/aslr"
	"github.com/vbench-dev/vbench/limits"
)

// preflightBase is what a run takes besides its samples, where a limit
// makes it count: vbench's resident memory at 1,000 samples measured
// 10.5 to 10.8 MB here (Linux 6.18, chain and spawn methods), and room
// for the collector. aslr.FixedBytes (32 MiB) is the sampler's generous
// figure for its own sizing; under a 40 MiB cgroup it would leave no
// sample at all, where 140,000 ran to the end.
const preflightBase = 16 << 20

// fitsIn is the largest sample count of method that fits in avail bytes.
func fitsIn(method string, avail int64) int {
	if avail <= preflightBase {
		return 0
	}
	return int((avail - preflightBase) / aslr.BytesPerSample(method))
}

// goArena: RLIMIT_AS and RLIMIT_DATA are met by the heap growing a 64 MiB
// arena at a time (runtime/malloc.go, heapArenaBytes).
const goArena = 64 << 20

// spawnMargin is the part of a cgroup memory limit kept free for the
// kernel memory of spawned processes, charged to the cgroup until freed:
// their page tables are freed only after an RCU grace period
// (mm/mmu_gather.c, tlb_remove_table), so spawning thousands a second on
// a loaded machine leaves megabytes pending. Measured here (Linux 6.18,
// cgroup v1 memory.kmem.usage_in_bytes): 3 MB rising to 24 MB within
// 100 ms while 13,000 spawns/s ran in a 40 MiB cgroup, and the OOM
// killer took vbench with 17 MB resident. 4 MiB and a tenth of the limit,
// with the pacer (memPacer) keeping spawning below it.
func spawnMargin(limit uint64) uint64 { return 4<<20 + limit/10 }

// roomFor is limits.Live.Room; tests replace it.
var roomFor = limits.Live.Room

// memoryFor is limits.Live.Memory; tests replace it.
var memoryFor = limits.Live.Memory

// sampleMethod is the method cfg samples with (aslr.Config.Method "":
// the chain for the built-in target, ptrace for a --target).
func sampleMethod(cfg *aslr.Config) string {
	switch {
	case cfg.Method != "":
		return cfg.Method
	case cfg.Ptrace || cfg.Target != "":
		return aslr.MethodPtrace
	}
	return aslr.MethodChain
}

// maxSamples is the cap of sampling until narrow (Samples 0).
func maxSamples(cfg aslr.Config) int {
	if cfg.MaxSamples > 0 {
		return cfg.MaxSamples
	}
	return aslr.DefaultMaxSamples
}

// checkASLRMemory checks, before any spawn, that the samples cfg asks for
// fit in what the limits leave (limits.Room: the cgroup's memory limit,
// RLIMIT_AS, RLIMIT_DATA; the sampler's own figures, aslr.MemoryFor). A
// count that does not fit is refused, naming the largest that does; when
// sampling until narrow, the cap is lowered to what fits instead, and the
// note says so. The garbage collector is told the limit
// (debug.SetMemoryLimit), so that it collects before the OOM killer acts.
func checkASLRMemory(cmd string, cfg *aslr.Config) (note string, err error) {
	room := roomFor()
	if !room.Limited {
		return "", nil
	}
	avail := int64(room.Bytes)
	if room.Rlimit {
		avail -= goArena
	} else if m, err := memoryFor(); err == nil && m.Limited {
		avail -= int64(spawnMargin(m.Max))
	}
	var notes []string
	if m, err := memoryFor(); err == nil && m.Limited && m.Max < ceilingMemory && cfg.Method == "" && cfg.Target == "" && !cfg.Ptrace {
		// The exec chain cannot be paced from outside (it re-executes
		// itself as fast as it can): 37 MB of kernel memory charged in
		// 0.14 s in a 40 MiB cgroup here, and the OOM killer.
		cfg.Method = aslr.MethodSelfReport
		notes = append(notes, fmt.Sprintf("method spawn, not the exec chain: under the cgroup's %s memory limit, spawning is paced to what the kernel frees, which an exec chain outruns", limits.MiB(m.Max)))
	}
	method := sampleMethod(cfg)
	fits := fitsIn(method, avail)
	want := cfg.Samples
	if want == 0 {
		want = maxSamples(*cfg)
	}
	if want > fits {
		need := limits.MiB(uint64(preflightBase + int64(want)*aslr.BytesPerSample(method)))
		switch {
		case fits == 0:
			return "", usageErrorf("%s: %d samples need about %s; %s leaves %s (%s): not even one sample fits beside vbench itself (%s) and the spawned processes",
				cmd, want, need, room.Limit, limits.MiB(room.Bytes), room.Used, limits.MiB(preflightBase))
		case cfg.Samples > 0:
			return "", usageErrorf("%s: --samples %d needs about %s; %s leaves %s (%s): at most --samples %d fits",
				cmd, want, need, room.Limit, limits.MiB(room.Bytes), room.Used, fits)
		}
		cfg.MaxSamples = fits
		notes = append(notes, fmt.Sprintf("sampling until narrow stops at %d samples at most, what fits in %s (%s)", fits, room.Limit, room.Used))
	}
	cur := debug.SetMemoryLimit(-1)
	if lim := int64(room.Bytes) * 9 / 10; lim < cur {
		debug.SetMemoryLimit(lim)
	}
	return strings.Join(notes, "; "), nil
}

// memPacer slows spawning down under a cgroup memory limit: called
// between samples (from the sampler's progress callback, which runs on
// the goroutine that collects samples, so while it waits the spawning
// threads stop once the sample queue is full), it waits while the
// cgroup's usage is within spawnMargin of its limit, for the kernel to
// free what exited processes left. If that does not happen within
// maxWait, it cancels sampling: the run ends with the samples gathered,
// rather than being killed by the OOM killer.
type memPacer struct {
	m       limits.CgroupMemory
	margin  uint64
	cancel  context.CancelFunc
	Waits   int
	Waited  time.Duration
	Stopped string // why sampling was stopped, or ""
}

const pacerMaxWait = 3 * time.Second

// ceilingMemory: below this cgroup memory limit the spawn ceiling (which
// spawns unpaced, as fast as it can) is not measured.
const ceilingMemory = 256 << 20

// newMemPacer returns nil where no cgroup memory limit applies.
func newMemPacer(cancel context.CancelFunc) *memPacer {
	m, err := memoryFor()
	if err != nil || !m.Limited {
		return nil
	}
	return &memPacer{m: m, margin: spawnMargin(m.Max), cancel: cancel}
}

func (p *memPacer) tight() (bool, uint64) {
	cur, err := p.m.ReadCurrent()
	if err != nil {
		return false, 0
	}
	return cur+p.margin > p.m.Max, cur
}

// pace is called between samples.
func (p *memPacer) pace() {
	if p == nil || p.Stopped != "" {
		return
	}
	tight, _ := p.tight()
	if !tight {
		return
	}
	p.Waits++
	start := time.Now()
	defer func() { p.Waited += time.Since(start) }()
	for time.Since(start) < pacerMaxWait {
		time.Sleep(2 * time.Millisecond)
		if tight, _ = p.tight(); !tight {
			return
		}
	}
	_, cur := p.tight()
	p.Stopped = fmt.Sprintf("the cgroup's memory use stayed at %s of its %s limit (%s) for %s: sampling stopped there rather than be killed by the OOM killer",
		limits.MiB(cur), limits.MiB(p.m.Max), p.m.Source(), pacerMaxWait)
	p.cancel()
}

// Summary says what the pacer did, or "".
func (p *memPacer) Summary() string {
	if p == nil || p.Waits == 0 {
		return ""
	}
	s := fmt.Sprintf("memory: spawning paused %d times (%.2fs in all) while the cgroup's memory use came within %s of its %s limit: the kernel frees exited processes' page tables only after an RCU grace period",
		p.Waits, p.Waited.Seconds(), limits.MiB(p.margin), limits.MiB(p.m.Max))
	if p.Stopped != "" {
		s += "; " + p.Stopped
	}
	return s
}
