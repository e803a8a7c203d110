package doctor

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/gdiag/gdiag/gdump"
	"github.com/gdiag/gdiag/schedstats"
)

// Thresholds of the rules doctor adds to schedstats' detectors; doc.go
// has the table.
const (
	mutexPerP      = 0.5  // lock wait, seconds per second, per P (at least mutexMin)
	mutexMin       = 1.0  // one goroutine blocked on a lock all the time
	gcCPUFraction  = 0.10 // share of GOMAXPROCS×wall time spent in the GC
	gcCPUShare     = 0.25 // or share of the process's own CPU time spent in the GC,
	gcMinCores     = 0.05 // when the collector itself used at least this many cores (not an idle process's forced GCs)
	gcMinCycles    = 2    // GC cycles in the window for either to count
	gcShareCrit    = 0.5  // the GC took half the process's CPU: critical (4× the share's threshold is beyond 100%)
	poolRejectRate = 1.0  // rejections per second
	poolRejectFrac = 0.01 // of the tasks offered
	poolWaitP99    = 0.1  // queue wait p99, seconds
	poolMinWaits   = 10   // waits in the window for the p99 to count
)

// mutex names lock contention: lock wait over the window (from the mutex
// profile, or the runtime's /sync/mutex/wait/total when the profile is
// empty) above max(mutexMin, mutexPerP×GOMAXPROCS) seconds per second.
func (a *analysis) mutex() {
	o, secs := a.o, a.elapsed()
	threshold := math.Max(mutexMin, mutexPerP*float64(o.GOMAXPROCS))
	var rate float64
	var ev []schedstats.Evidence
	var funcs []Func
	source := ""
	switch {
	case secs <= 0:
	case o.Mutex != nil && !o.Mutex.Empty:
		rate, source, funcs = o.Mutex.Seconds/secs, "the mutex profile", o.Mutex.Top
		ev = append(ev, schedstats.Evidence{Name: "mutex_delay", Value: rate, Unit: "seconds/second"},
			schedstats.Evidence{Name: "mutex_contentions", Value: o.Mutex.Events / secs, Unit: "per second"})
	case len(o.History) >= 2 && o.History[0].Sources.Mutex != schedstats.SourceNone:
		if o.Mutex != nil {
			a.notChecked("mutex profile: empty, the target's runtime.SetMutexProfileFraction is probably 0; lock wait comes from /sync/mutex/wait/total, without the functions")
		}
		// The runtime credits a wait when the waiter wakes, so one
		// goroutine parked for minutes shows as a spike: the median of the
		// intervals is the sustained figure.
		trend := mutexTrend(o.History)
		rate, source = median(trend), "the runtime's mutex wait"
		ev = append(ev, schedstats.Evidence{Name: "mutex_wait", Value: rate, Unit: "seconds/second", Trend: trend})
	case o.Mutex != nil:
		a.notChecked("mutex contention: the mutex profile is empty (the target's runtime.SetMutexProfileFraction is probably 0) and there are no runtime mutex wait figures without the agent")
		return
	default:
		a.notChecked("mutex contention: no mutex profile and no runtime mutex wait figures")
		return
	}
	if source == "" {
		return
	}
	a.check("lock contention (" + source + ")")
	if o.Block != nil && o.Block.Seconds > 0 && secs > 0 {
		ev = append(ev, schedstats.Evidence{Name: "block_lock_wait", Value: o.Block.Seconds / secs, Unit: "seconds/second"})
		if len(funcs) == 0 {
			funcs = o.Block.Top
		}
	}
	if len(o.History) >= 2 && !slices.ContainsFunc(ev, func(e schedstats.Evidence) bool { return e.Name == "mutex_wait" }) {
		ev = append(ev, schedstats.Evidence{Name: "runtime_mutex_wait", Value: mean(mutexTrend(o.History)), Unit: "seconds/second", Trend: mutexTrend(o.History)})
	}
	if !(rate >= threshold) {
		return
	}
	sev, score := grade(rate, threshold)
	f := Finding{Finding: schedstats.Finding{Cause: schedstats.CauseMutexContention, Severity: sev, Evidence: ev,
		Summary: fmt.Sprintf("Goroutines spent %.1f seconds per second waiting for locks (threshold %.1f), from %s.", rate, threshold, source)},
		Score: score, Title: "Mutex contention", Functions: funcs,
		Next: []string{"gdiag profile mutex " + a.target + " --duration 10s", "gdiag profile block " + a.target + " --duration 10s"}}
	if o.Mutex != nil && o.Mutex.Empty && o.Agent {
		// The profile samples nothing: the agent switches the rate on for
		// the capture (over its owner-only socket or token listener).
		f.Next = []string{"gdiag profile mutex " + a.target + " --duration 10s --enable-rate", "gdiag profile block " + a.target + " --duration 10s --enable-rate"}
	}
	if len(funcs) > 0 {
		f.Title = "Mutex contention in " + funcs[0].Name
		f.Summary += fmt.Sprintf(" %s accounts for %.0f%% of it.", funcs[0].Name, funcs[0].Percent)
	}
	a.add(f)
}

// mutexTrend is the runtime's lock wait per interval, in seconds per second.
func mutexTrend(h []schedstats.Snapshot) []float64 {
	var out []float64
	for i := 1; i < len(h); i++ {
		out = append(out, finite(schedstats.Diff(h[i-1], h[i]).MutexWaitPerSec))
	}
	return out
}

func median(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	return s[len(s)/2]
}

func mean(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	s := 0.0
	for _, v := range vs {
		s += v
	}
	return s / float64(len(vs))
}

// gc names GC pressure: the GC's share of GOMAXPROCS×wall time (from the
// CPU profile; else the runtime's own figure since start) at or above
// gcCPUFraction, with at least gcMinCycles cycles in the window.
func (a *analysis) gc() {
	o, secs := a.o, a.elapsed()
	frac, fracName, share := -1.0, "", 0.0
	c := o.CPU
	profiled := c != nil && c.Duration > 0 && c.Seconds > 0
	switch {
	case profiled && o.GOMAXPROCS > 0:
		frac, fracName = c.GCSeconds/(c.Duration.Seconds()*float64(o.GOMAXPROCS)), "gc_cpu_fraction"
	case len(o.Mem) > 0 && !profiled:
		frac, fracName = o.Mem[len(o.Mem)-1].GCCPUFraction, "gc_cpu_fraction_since_start"
	case profiled:
		frac = 0 // GOMAXPROCS unknown: the share of the process's CPU decides alone
	}
	if profiled {
		share = c.GCSeconds / c.Seconds
	}
	cycles, trend := a.gcCycles()
	if frac < 0 || cycles < 0 {
		a.notChecked("GC pressure: needs a CPU profile or runtime.MemStats (the heap profile) and the GC cycle count")
		return
	}
	a.check("GC CPU (the CPU profile's collector and assist samples) and GC cycles")
	limitEv := a.memoryLimit()
	// The GC's share of the process's own CPU time counts too: on a busy
	// machine the process gets less CPU, and its GC with it.
	measure, threshold := frac, gcCPUFraction
	if profiled && share >= gcCPUShare && c.GCSeconds/c.Duration.Seconds() >= gcMinCores && share/gcCPUShare > frac/gcCPUFraction {
		measure, threshold = share, gcCPUShare
	}
	if !(measure >= threshold) || cycles < gcMinCycles {
		return
	}
	var ev []schedstats.Evidence
	if fracName != "" {
		ev = append(ev, schedstats.Evidence{Name: fracName, Value: finite(frac), Unit: "fraction"})
	}
	if share > 0 {
		ev = append(ev, schedstats.Evidence{Name: "gc_share_of_process_cpu", Value: finite(share), Unit: "fraction"})
	}
	if secs > 0 {
		ev = append(ev, schedstats.Evidence{Name: "gc_cycles", Value: cycles / secs, Unit: "per second", Trend: trend})
	}
	summary := fmt.Sprintf("The garbage collector used %.0f%% of GOMAXPROCS×wall time (threshold %.0f%%) and %.0f%% of the process's CPU time (threshold %.0f%%), over %.0f cycles.",
		100*frac, 100*gcCPUFraction, 100*share, 100*gcCPUShare, cycles)
	switch fracName {
	case "":
		summary = fmt.Sprintf("The garbage collector took %.0f%% of the process's CPU time in the CPU profile (threshold %.0f%%), over %.0f cycles.",
			100*share, 100*gcCPUShare, cycles)
	case "gc_cpu_fraction_since_start":
		summary = fmt.Sprintf("The garbage collector has used %.0f%% of the CPU since the process started (threshold %.0f%%); %.0f cycles ran in the window.", 100*frac, 100*gcCPUFraction, cycles)
	}
	if len(o.Mem) >= 2 && secs > 0 {
		m0, m1 := o.Mem[0], o.Mem[len(o.Mem)-1]
		rate := float64(m1.TotalAlloc-min(m0.TotalAlloc, m1.TotalAlloc)) / secs
		ev = append(ev, schedstats.Evidence{Name: "alloc_rate", Value: rate, Unit: "bytes/second"},
			schedstats.Evidence{Name: "heap_alloc", Value: float64(m1.HeapAlloc), Unit: "bytes"},
			schedstats.Evidence{Name: "heap_goal", Value: float64(m1.NextGC), Unit: "bytes"})
		summary += fmt.Sprintf(" The program allocates %s/s against a heap goal of %s.", bytesString(rate), bytesString(float64(m1.NextGC)))
	}
	if len(limitEv) > 0 {
		ev = append(ev, limitEv...)
		if r := limitEv[len(limitEv)-1].Value; r >= memLimitNear {
			summary += fmt.Sprintf(" The heap goal is at %.0f%% of GOMEMLIMIT: the collector runs more often to stay under the limit.", 100*r)
		}
	}
	sev, score := grade(measure, threshold)
	// Half the process's CPU in the collector is critical whichever
	// measure passed first: GOMAXPROCS×wall understates it when the
	// process gets less CPU than GOMAXPROCS.
	if profiled && share >= gcShareCrit && c.GCSeconds/c.Duration.Seconds() >= gcMinCores && sev != schedstats.Critical {
		sev, score = schedstats.Critical, 100+score
	}
	f := Finding{Finding: schedstats.Finding{Cause: schedstats.CauseGCPressure, Severity: sev, Evidence: ev, Summary: summary},
		Score: score, Title: "GC pressure",
		Next: []string{"gdiag profile allocs " + a.target + " --duration 10s", "gdiag profile heap " + a.target}}
	if o.Allocs != nil && len(o.Allocs.Top) > 0 {
		f.Functions = o.Allocs.Top
		f.Title = "GC pressure from allocations in " + o.Allocs.Top[0].Name
	}
	// The hottest application functions are where the work that
	// allocates runs (a query, a handler), in CPU seconds.
	if c != nil {
		for _, fn := range c.App {
			named := slices.ContainsFunc(f.Functions, func(g Func) bool { return g.Name == fn.Name })
			if !isPlumbing(fn.Name) && !named && len(f.Functions) < 2*topN {
				f.Functions = append(f.Functions, fn)
			}
		}
	}
	a.add(f)
}

// gcCycles counts the GC cycles in the window, from MemStats.NumGC, else
// from the GC pause histogram (two stop-the-world pauses per cycle); the
// trend is cycles per interval from the history. It returns -1 when
// neither is known.
func (a *analysis) gcCycles() (float64, []float64) {
	o := a.o
	var trend []float64
	for i := 1; i < len(o.History); i++ {
		trend = append(trend, float64(o.History[i].GCPauses.Sub(o.History[i-1].GCPauses).Count())/2)
	}
	switch {
	case len(o.Mem) >= 2:
		m0, m1 := o.Mem[0], o.Mem[len(o.Mem)-1]
		return float64(m1.NumGC - min(m0.NumGC, m1.NumGC)), trend
	case len(trend) > 0:
		s := 0.0
		for _, v := range trend {
			s += v
		}
		return s, trend
	}
	return -1, nil
}

func bytesString(b float64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.1f GiB", b/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MiB", b/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.1f KiB", b/(1<<10))
	}
	return fmt.Sprintf("%.0f B", b)
}

// threads names thread growth: schedstats' rule (50 more threads, ending
// above 2×GOMAXPROCS+16) on the history, or, for pprof targets, 50 more
// threads created; the goroutines in syscalls or cgo are the stacks.
func (a *analysis) threads() {
	o := a.o
	var ev []schedstats.Evidence
	var growth float64
	switch {
	case len(o.History) >= 2:
		a.check("OS threads")
		f, ok := a.sched[schedstats.CauseThreadGrowth]
		if !ok {
			return
		}
		ev, growth = schedEvidence(f), evidenceValue(f, "growth")
	case len(o.ThreadsCreated) >= 2:
		a.check("threads created (threadcreate profile)")
		tc := o.ThreadsCreated
		growth = float64(tc[len(tc)-1] - tc[0])
		if growth < float64(a.th.ThreadGrowth) {
			return
		}
		trend := make([]float64, len(tc))
		for i, n := range tc {
			trend[i] = float64(n)
		}
		ev = []schedstats.Evidence{{Name: "threads_created", Value: growth, Unit: "threads", Trend: trend}}
	default:
		a.notChecked("thread growth: needs the agent's history or two threadcreate profiles")
		return
	}
	sev, score := grade(growth, float64(a.th.ThreadGrowth))
	f := Finding{Finding: schedstats.Finding{Cause: schedstats.CauseThreadGrowth, Severity: sev, Evidence: ev,
		Summary: fmt.Sprintf("The process gained %.0f OS threads in the window: goroutines blocked in system calls or cgo each hold a thread.", growth)},
		Score: score, Title: "Thread growth",
		Next: []string{"gdiag goroutines " + a.target + " --state syscall", "gdiag profile threadcreate " + a.target}}
	st := syscallStacks(o.Censuses)
	held := 0
	for _, s := range st {
		held += s.Count
	}
	switch {
	case len(st) > 0 && float64(held) >= threadsExplained*growth:
		f.Stacks = st
		name := culprit(funcsOf(st[0].Frames))
		f.Title = "Thread growth from blocking calls in " + name
		f.Summary += fmt.Sprintf(" %d goroutines are in %s.", st[0].Count, name)
	case len(o.Censuses) > 0:
		// System calls and cgo explain few of the threads: goroutines
		// locked to their threads hold one each while they wait.
		f.Summary = fmt.Sprintf("The process gained %.0f OS threads in the window, but only %d goroutines are in system calls or cgo: the threads are held otherwise, most likely by goroutines that called runtime.LockOSThread without UnlockOSThread (a locked goroutine keeps its thread while it waits, and one that exits locked takes its thread with it).",
			growth, held)
		f.Summary += " A debug=2 goroutine dump marks them \"locked to thread\"."
		f.Next = []string{"gdiag profile threadcreate " + a.target}
	}
	a.add(f)
}

// threadsExplained is the share of the thread growth that goroutines in
// system calls or cgo must account for to be named as its cause.
const threadsExplained = 0.25

// syscallStacks returns the last census's groups in a system call or a
// cgo call, largest first.
func syscallStacks(cs []Census) []Stack {
	if len(cs) == 0 {
		return nil
	}
	var out []Stack
	for _, g := range cs[len(cs)-1].Groups {
		cgo := slices.ContainsFunc(g.Frames, func(f gdump.Frame) bool { return f.Func == "runtime.cgocall" })
		if strings.HasPrefix(g.State, "syscall") || cgo {
			out = append(out, Stack{Count: g.Count, State: g.State, Frames: frameStrings(g.Frames)})
		}
	}
	slices.SortStableFunc(out, func(x, y Stack) int { return y.Count - x.Count })
	return out[:min(len(out), 3)]
}

// memLimitNear is the share of GOMEMLIMIT at which the heap goal is
// pinned to the limit (the runtime lowers the goal to stay under it).
const memLimitNear = 0.9

// memoryLimit checks the heap goal against the memory limit. The agent
// says the limit the runtime applies; without it the limit is read from
// GOMEMLIMIT in a local process's environment, and a limit set with
// debug.SetMemoryLimit, which net/http/pprof does not serve, is unknown:
// listed as not checked.
func (a *analysis) memoryLimit() []schedstats.Evidence {
	o := a.o
	if len(o.Mem) == 0 {
		a.notChecked("heap goal vs GOMEMLIMIT: no runtime.MemStats (heap profile)")
		return nil
	}
	limit, ok := o.MemoryLimit, o.MemoryLimitFrom != ""
	if !ok {
		why := "the process is not on this host"
		if o.OSMissing == "" {
			why = "GOMEMLIMIT is not in its environment, and a limit set with debug.SetMemoryLimit is not served by net/http/pprof (the gdiag agent serves it)"
		}
		a.notChecked("heap goal vs GOMEMLIMIT: " + why)
		return nil
	}
	a.check("heap goal vs GOMEMLIMIT (" + o.MemoryLimitFrom + ")")
	goal := float64(o.Mem[len(o.Mem)-1].NextGC)
	if limit <= 0 {
		return nil
	}
	return []schedstats.Evidence{{Name: "memory_limit", Value: limit, Unit: "bytes"},
		{Name: "heap_goal_of_limit", Value: goal / limit, Unit: "fraction"}}
}
