package sched

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/gdiag/gdiag/schedstats"
)

// renderer builds the frame's sections.
type renderer struct {
	h  *history
	sw int // sparkline width; 0 for none
}

// row lays out a label, its figures and a sparkline of f over the history.
func (r *renderer) row(label, value string, prio int, f func(prev, cur schedstats.Snapshot) float64) line {
	text := fmt.Sprintf("%-*s%s", labelWidth, label, value)
	if r.sw > 0 && f != nil && len(r.h.snaps) > 1 {
		pad := sparkStart - len([]rune(text))
		if pad < 1 {
			pad = 1
		}
		text += strings.Repeat(" ", pad) + sparkline(r.h.series(r.sw, f), r.sw)
	}
	return line{text: text, prio: prio}
}

func (r *renderer) procs(cur schedstats.Snapshot, d Derived) []line {
	var ls []line
	procs := "n/a (the agent's reader cannot see them)"
	switch cur.Sources.Procs {
	case schedstats.SourceNone:
	case schedstats.SourceSched, schedstats.SourceDeep, schedstats.SourceSchedtrace:
		procs = fmt.Sprintf("%-5d busy %d  idle %d", cur.GOMAXPROCS, cur.GOMAXPROCS-cur.IdlePs, cur.IdlePs)
	default: // runtime/metrics tells GOMAXPROCS, not which Ps are idle
		procs = fmt.Sprintf("%-5d busy/idle n/a (the agent's reader fell back to runtime/metrics)", cur.GOMAXPROCS)
	}
	ls = append(ls, r.row("GOMAXPROCS", procs, 0, func(_, c schedstats.Snapshot) float64 {
		return float64(c.GOMAXPROCS - c.IdlePs)
	}))
	threads := "n/a"
	switch cur.Sources.Threads {
	case schedstats.SourceNone:
	case schedstats.SourceRuntimeMetrics: // the count only; idle, spinning and created need the mirror
		threads = fmt.Sprintf("%-5d idle/spinning n/a (runtime/metrics only)", cur.Threads)
	default:
		threads = fmt.Sprintf("%-5d idle %d  spinning %d  new %s", cur.Threads, cur.IdleThreads, cur.SpinningThreads, perSec(d.MsCreatedPerSec))
	}
	ls = append(ls, r.row("THREADS", threads, 2, func(_, c schedstats.Snapshot) float64 { return float64(c.Threads) }))
	runq := "n/a"
	if cur.Sources.RunQueues != schedstats.SourceNone {
		runq = "global " + strconv.Itoa(cur.GlobalRunQueue)
	}
	ls = append(ls, r.row("RUN QUEUE", runq, 0, func(_, c schedstats.Snapshot) float64 { return float64(c.GlobalRunQueue) }))
	return append(ls, line{text: strings.Repeat(" ", labelWidth) + perP(cur.LocalRunQueues, valueWidth+r.sw), prio: 3})
}

// perP shows the per-P run queues in about width columns: the numbers
// when they fit, else their sum and maximum with one bar per P (or per
// group of Ps, showing the group's largest queue).
func perP(q []int, width int) string {
	if q == nil {
		return "per-P queues: build the service with -tags gdiag_deep to see them"
	}
	var b strings.Builder
	b.WriteString("per-P")
	sum, top := 0, 0
	for i, n := range q {
		sum, top = sum+n, max(top, n)
		fmt.Fprintf(&b, " P%d:%d", i, n)
	}
	if b.Len() <= width {
		return b.String()
	}
	head := fmt.Sprintf("per-P sum %d max %d ", sum, top)
	bars := max(width-len(head), 1)
	group := (len(q) + bars - 1) / bars
	vals := make([]float64, 0, bars)
	for i := 0; i < len(q); i += group {
		m := 0
		for _, n := range q[i:min(i+group, len(q))] {
			m = max(m, n)
		}
		vals = append(vals, float64(m))
	}
	return head + sparkline(vals, len(vals))
}

func (r *renderer) goroutines(cur schedstats.Snapshot, d Derived) []line {
	if cur.Sources.Goroutines == schedstats.SourceNone {
		return []line{r.row("GOROUTINES", "n/a", 0, nil)}
	}
	g := cur.Goroutines
	total := fmt.Sprintf("%-5d system %d  new %s", g.Total, cur.SystemGoroutines, perSec(d.GoroutinesCreatedPerSec))
	states := fmt.Sprintf("run %d  runnable %d  waiting %d  syscall %d", g.Running, g.Runnable, g.Waiting, g.NotInGo)
	return []line{
		r.row("GOROUTINES", total, 0, func(_, c schedstats.Snapshot) float64 { return float64(c.Goroutines.Total) }),
		r.row(" by state", states, 0, func(_, c schedstats.Snapshot) float64 { return float64(c.Goroutines.Runnable) }),
	}
}

func (r *renderer) latency(cur schedstats.Snapshot, d Derived) []line {
	var ls []line
	lat := "n/a"
	if cur.Sources.Latency != schedstats.SourceNone {
		lat = "no goroutine was scheduled"
		if l := d.SchedLatency; l.Count > 0 {
			lat = fmt.Sprintf("p50%s p90%s p99%s max%s", l.text(0), l.text(1), l.text(2), l.text(3))
		}
	}
	ls = append(ls, r.row("SCHED LAT", lat, 0, func(p, c schedstats.Snapshot) float64 {
		return c.SchedLatency.Sub(p.SchedLatency).Quantile(0.99)
	}))
	window := "since start"
	if d.PauseWindowSeconds > 0 {
		window = "in " + secs(math.Round(d.PauseWindowSeconds))
	}
	maxPause := func(get func(schedstats.Snapshot) schedstats.Histogram) func(p, c schedstats.Snapshot) float64 {
		return func(p, c schedstats.Snapshot) float64 {
			h := get(c).Sub(get(p))
			if h.Count() == 0 {
				return 0 // no pause in the interval
			}
			return h.Quantile(1)
		}
	}
	gc, other := "n/a", "n/a"
	gcStop, otherStop := "", ""
	if cur.Sources.Pauses != schedstats.SourceNone {
		gc, other = pauses(d.GCPauses, window), pauses(d.OtherPauses, window)
		gcStop, otherStop = stopping(d.GCPauses, d.GCStopping), stopping(d.OtherPauses, d.OtherStopping)
	}
	ls = append(ls, r.row("STW GC", gc, 1, maxPause(func(s schedstats.Snapshot) schedstats.Histogram { return s.GCPauses })))
	if gcStop != "" {
		ls = append(ls, r.row(" to stop", gcStop, 2, maxPause(func(s schedstats.Snapshot) schedstats.Histogram { return s.GCStopping })))
	}
	ls = append(ls, r.row("STW other", other, 3, maxPause(func(s schedstats.Snapshot) schedstats.Histogram { return s.OtherPauses })))
	if otherStop != "" {
		ls = append(ls, r.row(" to stop", otherStop, 3, maxPause(func(s schedstats.Snapshot) schedstats.Histogram { return s.OtherStopping })))
	}
	mutex := "n/a"
	if cur.Sources.Mutex != schedstats.SourceNone {
		mutex = strconv.FormatFloat(d.MutexWaitPerSec, 'f', 2, 64) + " s blocked per s"
	}
	return append(ls, r.row("MUTEX WAIT", mutex, 4, func(p, c schedstats.Snapshot) float64 {
		return schedstats.Diff(p, c).MutexWaitPerSec
	}))
}

// stopping shows the time to stop the world of the pauses in pause, the
// same window's: its p99 and max, and how much of the pauses it was when
// the buckets can tell (most of it: a goroutine would not yield; little:
// the time went in the work done while stopped). It is "" when there were
// no pauses, or the reader has no stopping times.
func stopping(pause, stop Dist) string {
	if pause.Count == 0 || stop.Count == 0 {
		return ""
	}
	s := fmt.Sprintf("p99%s max%s", stop.text(2), stop.text(3))
	switch {
	case stop.maxLo*2 >= pause.maxLo && stop.maxLo > 0:
		s += "  most of the pause"
	case stop.Max*2 < pause.maxLo:
		s += "  little of it"
	}
	return s
}

func pauses(d Dist, window string) string {
	if d.Count == 0 {
		return "none " + window
	}
	return fmt.Sprintf("%d %s  p99%s max%s", d.Count, window, d.text(2), d.text(3))
}
