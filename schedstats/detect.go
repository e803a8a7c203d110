package schedstats

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"
)

// Detect runs every detector over history (oldest first, treated as one
// window) and returns the findings ranked most severe first, ties broken by
// cause. It returns nil when nothing is wrong. The rules are described in the
// package documentation under "Detectors".
func Detect(history []Snapshot, th Thresholds) []Finding {
	if len(history) == 0 {
		return nil
	}
	th = th.withDefaults()
	var out []Finding
	for _, d := range []func([]Snapshot, Thresholds) (Finding, bool){
		detectRunqueue, detectLatency, detectLeak, detectThreads, detectPause,
	} {
		if f, ok := d(history, th); ok {
			out = append(out, f)
		}
	}
	slices.SortStableFunc(out, func(a, b Finding) int {
		if c := cmp.Compare(b.Severity, a.Severity); c != 0 {
			return c
		}
		return cmp.Compare(a.Cause, b.Cause)
	})
	return out
}

// backlogPerP is the run-queue backlog of s divided by its Ps. Queued
// goroutines are a subset of runnable ones, so the larger figure wins; that
// way the rule works whichever reader filled the snapshot.
func backlogPerP(s Snapshot) float64 {
	q := s.GlobalRunQueue
	for _, n := range s.LocalRunQueues {
		q += n
	}
	q = max(q, s.Goroutines.Runnable)
	return float64(q) / float64(max(s.GOMAXPROCS, 1))
}

func detectRunqueue(h []Snapshot, th Thresholds) (Finding, bool) {
	trend := make([]float64, len(h))
	bestStart, bestLen, start := 0, 0, -1
	for i, s := range h {
		trend[i] = backlogPerP(s)
		if trend[i] <= th.RunqueuePerP {
			start = -1
			continue
		}
		if start < 0 {
			start = i
		}
		if n := i - start + 1; n > bestLen {
			bestStart, bestLen = start, n
		}
	}
	if bestLen < th.RunqueueSamples {
		return Finding{}, false
	}
	run := trend[bestStart : bestStart+bestLen]
	mean := 0.0
	for _, v := range run {
		mean += v
	}
	mean /= float64(len(run))
	return Finding{
		Cause:    CauseRunqueueBacklog,
		Severity: th.severity(mean, th.RunqueuePerP),
		Summary: fmt.Sprintf("run-queue backlog averaged %.1f goroutines per P over %d consecutive samples (threshold %.1f)",
			mean, bestLen, th.RunqueuePerP),
		Evidence: []Evidence{
			{Name: "backlog_per_p_mean", Value: mean, Unit: "goroutines", Trend: trend},
			{Name: "backlog_per_p_max", Value: slices.Max(run), Unit: "goroutines"},
			{Name: "consecutive_samples", Value: float64(bestLen), Unit: "samples"},
		},
		Since: h[bestStart].Time,
		Until: h[bestStart+bestLen-1].Time,
	}, true
}

func detectLatency(h []Snapshot, th Thresholds) (Finding, bool) {
	if len(h) < 2 {
		return Finding{}, false
	}
	first, last := h[0], h[len(h)-1]
	d := last.SchedLatency.Sub(first.SchedLatency)
	n := d.Count()
	if n < th.SchedLatencyMinEvents {
		return Finding{}, false
	}
	// Fire only when the p99 is certainly above the limit: the lower
	// bound of its bucket is. The figure reported is the upper bound, the
	// one every other part of gdiag shows.
	lo, _ := d.QuantileBucket(0.99)
	p99 := d.Quantile(0.99)
	limit := th.SchedLatencyP99.Seconds()
	if !(lo >= limit) {
		return Finding{}, false
	}
	// The per-interval p99s show whether the latency is steady or a burst.
	trend := make([]float64, 0, len(h)-1)
	for i := 1; i < len(h); i++ {
		q := h[i].SchedLatency.Sub(h[i-1].SchedLatency).Quantile(0.99)
		if math.IsNaN(q) {
			q = 0 // no events in the interval; JSON has no NaN
		}
		trend = append(trend, q)
	}
	p50 := d.Quantile(0.5)
	return Finding{
		Cause:    CauseSchedLatency,
		Severity: th.severity(lo, limit),
		Summary: fmt.Sprintf("scheduling latency p99 was between %v and %v over the window (threshold %v)",
			secondsDuration(lo), secondsDuration(p99), th.SchedLatencyP99),
		Evidence: []Evidence{
			{Name: "sched_latency_p99", Value: p99, Unit: "seconds", AtMost: true, Trend: trend},
			{Name: "sched_latency_p50", Value: p50, Unit: "seconds", AtMost: true},
			{Name: "sched_events", Value: float64(n), Unit: "events"},
		},
		Since: first.Time,
		Until: last.Time,
	}, true
}

func detectLeak(h []Snapshot, th Thresholds) (Finding, bool) {
	if len(h) < th.LeakMinSamples {
		return Finding{}, false
	}
	ys := make([]float64, len(h))
	for i, s := range h {
		ys[i] = float64(s.Goroutines.Total)
	}
	slope, r2 := fitLine(ys)
	first, last := ys[0], ys[len(ys)-1]
	growth := last - first
	need := th.leakNeed(first)
	if slope <= 0 || r2 < th.LeakMinR2 || growth < need {
		return Finding{}, false
	}
	ev := []Evidence{
		{Name: "goroutines", Value: last, Unit: "goroutines", Trend: ys},
		{Name: "growth", Value: growth, Unit: "goroutines"},
		{Name: "slope_per_sample", Value: slope, Unit: "goroutines"},
		{Name: "r2", Value: r2, Unit: ""},
	}
	if secs := h[len(h)-1].Time.Sub(h[0].Time).Seconds(); secs > 0 {
		ev = append(ev, Evidence{Name: "growth_per_second", Value: growth / secs, Unit: "goroutines"})
	}
	return Finding{
		Cause:    CauseGoroutineLeak,
		Severity: th.LeakSeverity(growth),
		Summary: fmt.Sprintf("goroutines grew steadily from %.0f to %.0f (r²=%.2f): a leak, or load that keeps rising",
			first, last, r2),
		Evidence: ev,
		Since:    h[0].Time,
		Until:    h[len(h)-1].Time,
	}, true
}

// fitLine fits y = a + b·i by least squares and returns the slope b and the
// coefficient of determination r². A flat series has r² = 0.
func fitLine(ys []float64) (slope, r2 float64) {
	n := float64(len(ys))
	var sx, sy, sxx, sxy, syy float64
	for i, y := range ys {
		x := float64(i)
		sx, sy, sxx, sxy, syy = sx+x, sy+y, sxx+x*x, sxy+x*y, syy+y*y
	}
	vx := n*sxx - sx*sx
	vy := n*syy - sy*sy
	if vx == 0 || vy == 0 {
		return 0, 0
	}
	cov := n*sxy - sx*sy
	return cov / vx, cov * cov / (vx * vy)
}

func detectThreads(h []Snapshot, th Thresholds) (Finding, bool) {
	if len(h) < 2 {
		return Finding{}, false
	}
	first, last := h[0], h[len(h)-1]
	growth := last.Threads - first.Threads
	floor := 2*last.GOMAXPROCS + th.ThreadSlack
	if growth < th.ThreadGrowth || last.Threads <= floor {
		return Finding{}, false
	}
	trend := make([]float64, len(h))
	for i, s := range h {
		trend[i] = float64(s.Threads)
	}
	return Finding{
		Cause:    CauseThreadGrowth,
		Severity: th.severity(float64(growth), float64(th.ThreadGrowth)),
		Summary: fmt.Sprintf("OS threads rose by %d to %d (GOMAXPROCS %d); goroutines may be blocking in syscalls or cgo",
			growth, last.Threads, last.GOMAXPROCS),
		Evidence: []Evidence{
			{Name: "threads", Value: float64(last.Threads), Unit: "threads", Trend: trend},
			{Name: "growth", Value: float64(growth), Unit: "threads"},
			{Name: "threads_created", Value: float64(subU(last.MsCreated, first.MsCreated)), Unit: "threads"},
		},
		Since: first.Time,
		Until: last.Time,
	}, true
}

func detectPause(h []Snapshot, th Thresholds) (Finding, bool) {
	if len(h) < 2 {
		return Finding{}, false
	}
	first, last := h[0], h[len(h)-1]
	gcStop, otherStop := last.GCStopping.Sub(first.GCStopping), last.OtherStopping.Sub(first.OtherStopping)
	gcLo, gcHi := longest(last.GCPauses.Sub(first.GCPauses))
	otherLo, otherHi := longest(last.OtherPauses.Sub(first.OtherPauses))
	worst, kind, stop := gcLo, "gc", gcStop
	if otherLo > gcLo {
		worst, kind, stop = otherLo, "other", otherStop
	}
	limit := th.PauseMax.Seconds()
	if !(worst > limit) {
		return Finding{}, false
	}
	summary := fmt.Sprintf("a stop-the-world pause (%s) lasted at least %v (threshold %v)", kind, secondsDuration(worst), th.PauseMax)
	if share := StoppingShare(worst, stop); share != "" {
		summary += "; " + share
	}
	_, gcStopHi := longest(gcStop)
	_, otherStopHi := longest(otherStop)
	return Finding{
		Cause:    CauseSTWPauses,
		Severity: th.severity(worst, limit),
		Summary:  summary,
		Evidence: []Evidence{
			{Name: "gc_pause_max", Value: gcHi, Unit: "seconds", AtMost: true},
			{Name: "other_pause_max", Value: otherHi, Unit: "seconds", AtMost: true},
			{Name: "gc_stopping_max", Value: gcStopHi, Unit: "seconds", AtMost: true},
			{Name: "other_stopping_max", Value: otherStopHi, Unit: "seconds", AtMost: true},
		},
		Since: first.Time,
		Until: last.Time,
	}, true
}

// StoppingShare says in words which part of a long stop-the-world pause
// dominated. pause is a lower bound of the pause, in seconds; stopping
// holds the stopping times (GCStopping or OtherStopping, over the same
// window) of pauses of the same kind. It answers "most of it was spent
// stopping the world" when the longest stopping time is certainly at
// least half the pause, "the world stopped within …" when it is certainly
// under half, a sentence giving both bounds when the buckets cannot tell,
// and "" when stopping is empty (a reader without the split). The longest
// stopping time need not belong to the longest pause; both are the
// window's worst, so "stopped within" holds for every pause.
func StoppingShare(pause float64, stopping Histogram) string {
	if stopping.Count() == 0 {
		return ""
	}
	lo, hi := longest(stopping)
	switch {
	case 2*lo >= pause:
		return fmt.Sprintf("most of it was spent stopping the world (at least %v until every goroutine stopped): a goroutine did not reach a safe point in time",
			secondsDuration(lo))
	case 2*hi < pause:
		return fmt.Sprintf("the world stopped within %v: the time went in the work done while it was stopped", secondsDuration(hi))
	}
	return fmt.Sprintf("stopping the world took between %v and %v of it", secondsDuration(lo), secondsDuration(hi))
}

// longest returns the bounds of the bucket that holds the longest value
// in h: lo never overstates it, and is what a rule fires on; hi is the
// figure reported, by the quantile rule (Quantile(1)). Both are 0 for an
// empty histogram, and lo is 0 when the bucket has no finite, positive
// lower bound.
func longest(h Histogram) (lo, hi float64) {
	if h.Count() == 0 {
		return 0, 0
	}
	lo, _ = h.QuantileBucket(1)
	if math.IsInf(lo, 0) || math.IsNaN(lo) || lo < 0 {
		lo = 0
	}
	if hi = h.Quantile(1); math.IsNaN(hi) {
		hi = 0
	}
	return lo, hi
}

func secondsDuration(s float64) time.Duration {
	return time.Duration(s * float64(time.Second)).Round(time.Microsecond)
}

// leakNeed is the growth a leak needs over a window that starts at first
// goroutines: max(LeakMinGrowth, LeakMinRatio × first), which keeps a
// large process's wandering count quiet, but never more than
// CriticalFactor × LeakMinGrowth. Without that cap a leak would vanish as
// it went on: each window starts higher, so the relative bar rises while
// the growth per window stays the same.
func (th Thresholds) leakNeed(first float64) float64 {
	return min(max(float64(th.LeakMinGrowth), th.LeakMinRatio*first), th.CriticalFactor*float64(th.LeakMinGrowth))
}

// LeakSeverity grades a goroutine-leak finding by its growth alone:
// Critical from CriticalFactor × LeakMinGrowth goroutines gained in the
// window (default 400), else Warning. It depends on nothing that rises
// with the leak itself, such as the count at the window's start, so a
// leak's severity never falls while the leak goes on at the same rate
// or faster. Zero fields of th take their defaults.
func (th Thresholds) LeakSeverity(growth float64) Severity {
	th = th.withDefaults()
	return th.severity(growth, float64(th.LeakMinGrowth))
}
