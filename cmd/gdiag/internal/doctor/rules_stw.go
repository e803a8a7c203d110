package doctor

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/gdiag/gdiag/schedstats"
)

// stw names long stop-the-world pauses: at least stwMinPauses pauses
// above 50 ms in the window (one alone may be the machine, not the
// process), from the pause histograms, or for pprof targets from the GC
// pauses in runtime.MemStats.
func (a *analysis) stw() {
	o := a.o
	limit := a.th.PauseMax.Seconds()
	var ev []schedstats.Evidence
	var worst float64
	var long int
	switch {
	case len(o.History) >= 2:
		a.check("stop-the-world pauses")
		ev, worst, long = pauseEvidence(o.History, limit)
	case len(o.Mem) >= 2:
		a.check("GC pauses (runtime.MemStats)")
		var trend []float64
		for _, p := range windowPauses(o.Mem[0], o.Mem[len(o.Mem)-1]) {
			trend = append(trend, p.Seconds())
			worst = math.Max(worst, p.Seconds())
			if p.Seconds() > limit {
				long++
			}
		}
		ev = []schedstats.Evidence{{Name: "gc_pause_max", Value: worst, Unit: "seconds", Trend: trend}}
	default:
		a.notChecked("stop-the-world pauses: need the agent's history or runtime.MemStats")
		return
	}
	if !(worst > limit) || long < stwMinPauses {
		return
	}
	ev = append(ev, schedstats.Evidence{Name: "long_pauses", Value: float64(long), Unit: "pauses"})
	sev, score := grade(worst, limit)
	a.add(Finding{Finding: schedstats.Finding{Cause: schedstats.CauseSTWPauses, Severity: sev, Evidence: ev,
		Summary: fmt.Sprintf("The world was stopped %d times for more than %v, once for at least %v; every goroutine waited.", long, a.th.PauseMax, atLeast(worst, time.Microsecond)) + stwShare(o.History, worst) + stwTraceNote(o.Preemption, limit) + stwReasonNote(o.Preemption, limit)},
		Score: score, Title: fmt.Sprintf("Stop-the-world pauses of at least %v", atLeast(worst, time.Millisecond)),
		Next: []string{"gdiag sched " + a.target, "gdiag trace " + a.target + " --duration 5s"}})
}

// stwCallers names what a program calls to stop the world for each of
// the runtime's non-GC reasons.
var stwCallers = map[string]string{
	"all goroutines stack trace": "runtime.Stack(buf, true), or a goroutine dump with debug=2",
	"goroutine profile":          "pprof's goroutine profile (runtime.GoroutineProfile)",
	"read mem stats":             "runtime.ReadMemStats",
	"GOMAXPROCS":                 "runtime.GOMAXPROCS(n)",
	"write heap dump":            "debug.WriteHeapDump",
	"start trace":                "runtime/trace.Start",
	"stop trace":                 "runtime/trace.Stop",
}

// stwReasonMin is how many long stops of one reason the trace must hold
// before the note names it: doctor's own census (a stack dump of every
// goroutine) may be one of them.
const stwReasonMin = 3

// stwReasonNote names the reason of most of the long pauses in doctor's
// trace when it is not the collector's: those the program asks for.
func stwReasonNote(p *Preemption, limit float64) string {
	if p == nil {
		return ""
	}
	count, long := map[string]int{}, 0
	for _, e := range p.STW {
		if float64(e.TotalNanos)/1e9 > limit {
			count[e.Reason]++
			long++
		}
	}
	top, n := "", 0
	for r, c := range count {
		if c > n || c == n && r < top {
			top, n = r, c
		}
	}
	caller, ok := stwCallers[top]
	if !ok || n < stwReasonMin || 2*n < long {
		return ""
	}
	return fmt.Sprintf(" In %s, %d of the %d pauses over %v were %q stops, which the program asks for with %s, not the collector.",
		p.TraceFrom, n, long, time.Duration(limit*float64(time.Second)), top, caller)
}

// atLeast prints a lower bound in seconds cut down to unit, so that
// rounding never takes it above the bound.
func atLeast(s float64, unit time.Duration) time.Duration {
	return time.Duration(finite(s) * float64(time.Second)).Truncate(unit)
}

// stwMinPauses is how many long pauses make a finding.
const stwMinPauses = 2

// ownPauseIntervals is how many intervals at the start of the history
// may hold doctor's own stop-the-world readings (the goroutine census and
// ReadMemStats at the start of the window); their non-GC pauses are not
// counted, or a busy machine would make doctor report itself.
const ownPauseIntervals = 2

// pauseEvidence returns the evidence of the pauses in the history: the
// longest GC and other pauses, the longest per interval, reported by the
// quantile rule (the upper bound of the bucket that holds them); worst,
// the longest pause's lower bound, which never overstates it; and how
// many pauses were longer than limit (counting a bucket when its lower
// bound is, a conservative count).
func pauseEvidence(h []schedstats.Snapshot, limit float64) (ev []schedstats.Evidence, worst float64, long int) {
	var trend []float64
	var gcLo, gcHi, otherLo, otherHi float64
	for i := 1; i < len(h); i++ {
		d := schedstats.Diff(h[i-1], h[i])
		gLo, gHi := longestPause(d.GCPauses)
		oLo, oHi := longestPause(d.OtherPauses)
		long += countAbove(d.GCPauses, limit)
		if i <= ownPauseIntervals && len(h) > ownPauseIntervals+2 {
			oLo, oHi = 0, 0
		} else {
			long += countAbove(d.OtherPauses, limit)
		}
		gcLo, gcHi = math.Max(gcLo, gLo), math.Max(gcHi, gHi)
		otherLo, otherHi = math.Max(otherLo, oLo), math.Max(otherHi, oHi)
		trend = append(trend, math.Max(gHi, oHi))
	}
	return []schedstats.Evidence{
		{Name: "gc_pause_max", Value: gcHi, Unit: "seconds", AtMost: true},
		{Name: "other_pause_max", Value: otherHi, Unit: "seconds", AtMost: true},
		{Name: "pause_max_per_interval", Value: math.Max(gcHi, otherHi), Unit: "seconds", AtMost: true, Trend: trend},
	}, math.Max(gcLo, otherLo), long
}

// longestPause returns the bounds of the bucket that holds h's longest
// pause (schedstats.Histogram.QuantileBucket(1)), finite and not
// negative; 0, 0 for an empty histogram.
func longestPause(h schedstats.Histogram) (lo, hi float64) {
	if h.Count() == 0 {
		return 0, 0
	}
	lo, _ = h.QuantileBucket(1)
	return math.Max(finite(lo), 0), finite(h.Quantile(1))
}

// countAbove counts the values of h in buckets whose lower bound exceeds limit.
func countAbove(h schedstats.Histogram, limit float64) int {
	n := 0
	for i, c := range h.Counts {
		if i < len(h.Bounds) && h.Bounds[i] > limit && c > 0 {
			n += int(min(c, 1<<30))
		}
	}
	return n
}

// explain ranks symptoms below the finding that explains them: long
// pauses under a preemption delay (the time to stop was most of them), GC
// pressure or CPU saturation, CPU saturation caused by the
// GC (at least a quarter of the CPU samples in the collector), and a
// starved pool (long queue wait, no rejections) under a preemption delay,
// CPU saturation, mutex contention, GC pressure or long stop-the-world
// pauses.
func (a *analysis) explain() {
	idx := map[string]int{}
	for i, f := range a.findings {
		idx[f.Cause] = i
	}
	cause := func(c string) (Finding, bool) {
		if i, ok := idx[c]; ok {
			return a.findings[i], true
		}
		return Finding{}, false
	}
	if i, ok := idx[schedstats.CauseCPUSaturation]; ok {
		if g, ok := cause(schedstats.CauseGCPressure); ok && a.o.CPU != nil && a.o.CPU.GCSeconds >= 0.25*a.o.CPU.Seconds {
			demote(&a.findings[i], g)
		}
	}
	if i, ok := idx[schedstats.CauseSTWPauses]; ok {
		for _, c := range []string{schedstats.CausePreemptionDelay, schedstats.CauseGCPressure, schedstats.CauseCPUSaturation} {
			if g, ok := cause(c); ok {
				demote(&a.findings[i], g)
				break
			}
		}
	}
	// A pool whose tasks are slow because of contention, the GC, a
	// saturated CPU or a stopped world waits in its queue: the queue is
	// the symptom.
	for i := range a.findings {
		f := &a.findings[i]
		if f.Cause != schedstats.CausePoolOverload || !strings.Contains(f.Title, "starved") {
			continue
		}
		for _, c := range []string{schedstats.CausePreemptionDelay, schedstats.CauseCPUSaturation, schedstats.CauseMutexContention, schedstats.CauseGCPressure, schedstats.CauseSTWPauses} {
			if g, ok := cause(c); ok {
				demote(f, g)
				break
			}
		}
	}
}
