package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"time"

	"github.com/gdiag/gdiag/apiv1"
	"github.com/gdiag/gdiag/schedstats"
)

// printHistory prints the scheduler's figures over the snapshots taken
// from start on.
func printHistory(w io.Writer, hist apiv1.History, start time.Time) {
	i := slices.IndexFunc(hist.Snapshots, func(s schedstats.Snapshot) bool { return !s.Time.Before(start) })
	if i < 0 || len(hist.Snapshots)-i < 2 {
		fmt.Fprintln(w, "history: fewer than 2 snapshots in the window")
		return
	}
	h := hist.Snapshots[max(i-1, 0):]
	first, last := h[0], h[len(h)-1]
	secs := last.Time.Sub(first.Time).Seconds()
	var backlog []float64
	notInGo := 0
	for _, s := range h {
		q := s.GlobalRunQueue
		for _, n := range s.LocalRunQueues {
			q += n
		}
		backlog = append(backlog, float64(max(q, s.Goroutines.Runnable))/float64(max(s.GOMAXPROCS, 1)))
		notInGo = max(notInGo, s.Goroutines.NotInGo)
	}
	mean := 0.0
	for _, b := range backlog {
		mean += b
	}
	mean /= float64(len(backlog))
	lat := last.SchedLatency.Sub(first.SchedLatency)
	gc := last.GCPauses.Sub(first.GCPauses)
	other := last.OtherPauses.Sub(first.OtherPauses)
	fmt.Fprintf(w, "snapshots: %d over %.1fs, GOMAXPROCS %d\n", len(h), secs, last.GOMAXPROCS)
	fmt.Fprintf(w, "goroutines: %d -> %d (%+.1f/s), most in syscalls at once %d\n",
		first.Goroutines.Total, last.Goroutines.Total, float64(last.Goroutines.Total-first.Goroutines.Total)/secs, notInGo)
	fmt.Fprintf(w, "threads: %d -> %d (%d created)\n", first.Threads, last.Threads, last.MsCreated-first.MsCreated)
	fmt.Fprintf(w, "run-queue backlog per P: mean %.2f, max %.2f\n", mean, slices.Max(backlog))
	fmt.Fprintf(w, "scheduling latency: p50 ≤%v, p99 ≤%v over %d events\n", upper(lat.Quantile(0.5)), upper(lat.Quantile(0.99)), lat.Count())
	fmt.Fprintf(w, "mutex wait: %.2f s/s\n", (last.MutexWait-first.MutexWait).Seconds()/secs)
	fmt.Fprintf(w, "GC pauses: %.1f/s, longest ≤%v; other stop-the-world pauses: %.1f/s, longest ≤%v\n",
		float64(gc.Count())/secs, upper(gc.Quantile(1)), float64(other.Count())/secs, upper(other.Quantile(1)))
	gcStop, otherStop := last.GCStopping.Sub(first.GCStopping), last.OtherStopping.Sub(first.OtherStopping)
	fmt.Fprintf(w, "time to stop the world: GC longest ≤%v, p99 ≤%v; other longest ≤%v\n",
		upper(gcStop.Quantile(1)), upper(gcStop.Quantile(0.99)), upper(otherStop.Quantile(1)))
}

// printPools prints each pool's rates and queue wait over the window.
func printPools(w io.Writer, start, end reading) {
	secs := end.at.Sub(start.at).Seconds()
	for _, p := range end.pools {
		i := slices.IndexFunc(start.pools, func(q apiv1.Pool) bool { return q.Name == p.Name })
		if i < 0 {
			continue
		}
		a := start.pools[i]
		rate := func(now, then uint64) float64 { return float64(now-then) / secs }
		// gdiag's quantile rule: the upper bound of the bucket that holds it.
		waits := apiv1.Histogram(p.QueueWait).Seconds().Sub(apiv1.Histogram(a.QueueWait).Seconds())
		fmt.Fprintf(w, "pool %s: submitted %.0f/s, rejected %.0f/s, completed %.0f/s, queue wait p50 ≤%v p99 ≤%v, queued %d/%d, workers %d/%d",
			p.Name, rate(p.Submitted, a.Submitted), rate(p.Rejected, a.Rejected), rate(p.Completed, a.Completed),
			upper(waits.Quantile(0.5)), upper(waits.Quantile(0.99)),
			p.Queued, p.QueueCapacity, p.Running, p.MaxWorkers)
		for _, k := range p.Keys {
			fmt.Fprintf(w, ", key %s running %d", k.Key, k.Running)
		}
		fmt.Fprintln(w)
	}
}

// printMem prints the GC's figures from runtime.MemStats.
func printMem(w io.Writer, start, end reading) {
	secs := end.at.Sub(start.at).Seconds()
	const mib = 1 << 20
	fmt.Fprintf(w, "GC: %.1f cycles/s, allocation %.1f MiB/s, GCCPUFraction since start %.3f, heap %.1f MiB, goal %.1f MiB\n",
		(end.mem["NumGC"]-start.mem["NumGC"])/secs, (end.mem["TotalAlloc"]-start.mem["TotalAlloc"])/mib/secs,
		end.mem["GCCPUFraction"], end.mem["HeapAlloc"]/mib, end.mem["NextGC"]/mib)
}

// upper turns a quantile, an upper bound in seconds, into a duration
// rounded up to the microsecond, so that it stays a bound.
func upper(s float64) time.Duration {
	if s != s { // NaN: no events
		return 0
	}
	return time.Duration(math.Ceil(s*1e6-1e-6)) * time.Microsecond
}
