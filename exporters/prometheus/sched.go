package prometheus

import (
	"math"
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gdiag/gdiag/schedstats"
)

// Names of the scheduler metrics, as in the schedstats catalogue.
const (
	mGomaxprocs        = "gdiag_sched_gomaxprocs"
	mIdleProcs         = "gdiag_sched_idle_procs"
	mThreads           = "gdiag_sched_threads"
	mThreadsIdle       = "gdiag_sched_threads_idle"
	mThreadsSpinning   = "gdiag_sched_threads_spinning"
	mThreadsCreated    = "gdiag_sched_threads_created_total"
	mThreadsFreed      = "gdiag_sched_threads_freed_total"
	mGlobalRunqueue    = "gdiag_sched_global_runqueue"
	mLocalRunqueue     = "gdiag_sched_local_runqueue"
	mGoroutines        = "gdiag_sched_goroutines"
	mGoroutinesSystem  = "gdiag_sched_goroutines_system"
	mGoroutinesCreated = "gdiag_sched_goroutines_created_total"
	mLatency           = "gdiag_sched_latency_seconds"
	mPause             = "gdiag_sched_pause_seconds"
	mMutexWait         = "gdiag_sync_mutex_wait_seconds_total"
)

// schedBuckets are the upper bounds, in seconds, that the runtime's scheduler
// histograms are re-bucketed into: 1, 2.5 and 5 times each power of ten from
// 1µs to 10s. The runtime keeps about 160 buckets per histogram, too many
// series for Prometheus; 22 keep the p99 readable around the 10ms alert
// threshold, which is one of the bounds.
var schedBuckets = []float64{
	1e-6, 2.5e-6, 5e-6,
	1e-5, 2.5e-5, 5e-5,
	1e-4, 2.5e-4, 5e-4,
	1e-3, 2.5e-3, 5e-3,
	1e-2, 2.5e-2, 5e-2,
	1e-1, 2.5e-1, 5e-1,
	1, 2.5, 5,
	10,
}

// SchedCollector is a prometheus.Collector of the scheduler metrics of the
// schedstats catalogue. It reads one snapshot per scrape; parts of the
// snapshot that its reader did not fill (Sources reports SourceNone) are
// left out rather than exported as zeros. Per-P run queues are exported
// only when the snapshot has them (deep mode). Create it with
// NewSchedCollector; the zero value is not usable. Its methods are safe for
// concurrent use: scrapes are serialized so that the snapshot is reused.
type SchedCollector struct {
	read schedstats.ReadFunc

	mu   sync.Mutex
	snap schedstats.Snapshot

	descs map[string]*prometheus.Desc
}

// NewSchedCollector returns a collector that calls read at each scrape.
// It panics if read is nil.
func NewSchedCollector(read schedstats.ReadFunc) *SchedCollector {
	if read == nil {
		panic("prometheus: NewSchedCollector with a nil ReadFunc")
	}
	c := &SchedCollector{read: read, descs: make(map[string]*prometheus.Desc)}
	for _, n := range []string{
		mGomaxprocs, mIdleProcs, mThreads, mThreadsIdle, mThreadsSpinning,
		mThreadsCreated, mThreadsFreed, mGlobalRunqueue, mLocalRunqueue,
		mGoroutines, mGoroutinesSystem, mGoroutinesCreated, mLatency, mPause,
		mMutexWait,
	} {
		c.descs[n] = newDesc(n)
	}
	return c
}

// Describe sends the descriptors of every metric the collector may emit.
func (c *SchedCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

// Collect reads a snapshot and sends its metrics.
func (c *SchedCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.read(&c.snap)
	s := &c.snap
	gauge := func(name string, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(c.descs[name], prometheus.GaugeValue, v, labels...)
	}
	counter := func(name string, v float64) {
		ch <- prometheus.MustNewConstMetric(c.descs[name], prometheus.CounterValue, v)
	}
	// runtime/metrics fills GOMAXPROCS, Threads and the goroutine states;
	// the rest comes only from the sched mirror (or a schedtrace), so it is
	// emitted only when that source filled it, never as zeros.
	procs, threads := s.Sources.Procs, s.Sources.Threads
	mirror := threads == schedstats.SourceSched
	if procs != schedstats.SourceNone {
		gauge(mGomaxprocs, float64(s.GOMAXPROCS))
	}
	if procs == schedstats.SourceSched || procs == schedstats.SourceSchedtrace {
		gauge(mIdleProcs, float64(s.IdlePs))
	}
	if threads != schedstats.SourceNone {
		gauge(mThreads, float64(s.Threads))
	}
	if mirror || threads == schedstats.SourceSchedtrace {
		gauge(mThreadsIdle, float64(s.IdleThreads))
		gauge(mThreadsSpinning, float64(s.SpinningThreads))
	}
	if mirror {
		counter(mThreadsCreated, float64(s.MsCreated))
		counter(mThreadsFreed, float64(s.MsFreed))
	}
	if s.Sources.RunQueues != schedstats.SourceNone {
		gauge(mGlobalRunqueue, float64(s.GlobalRunQueue))
		for p, n := range s.LocalRunQueues {
			gauge(mLocalRunqueue, float64(n), strconv.Itoa(p))
		}
	}
	if s.Sources.Goroutines != schedstats.SourceNone {
		g := s.Goroutines
		gauge(mGoroutines, float64(g.Total), "total")
		gauge(mGoroutines, float64(g.Running), "running")
		gauge(mGoroutines, float64(g.Runnable), "runnable")
		gauge(mGoroutines, float64(g.Waiting), "waiting")
		gauge(mGoroutines, float64(g.NotInGo), "not_in_go")
		counter(mGoroutinesCreated, float64(s.GoroutinesCreated))
	}
	if mirror {
		gauge(mGoroutinesSystem, float64(s.SystemGoroutines))
	}
	if s.Sources.Latency != schedstats.SourceNone {
		ch <- rebucket(c.descs[mLatency], s.SchedLatency)
	}
	if s.Sources.Pauses != schedstats.SourceNone {
		ch <- rebucket(c.descs[mPause], s.GCPauses, "gc")
		ch <- rebucket(c.descs[mPause], s.OtherPauses, "other")
	}
	if s.Sources.Mutex != schedstats.SourceNone {
		counter(mMutexWait, s.MutexWait.Seconds())
	}
}

// rebucket converts a runtime/metrics-layout histogram to a Prometheus one
// with the schedBuckets bounds.
//
// A runtime bucket [lo, hi) is counted under the first bound at or above hi,
// so that every value it holds is truly ≤ that bound: a cumulative count may
// lag the truth by one runtime bucket's worth, but never claims a value is
// smaller than it could be. Buckets beyond the last bound fall in +Inf, and
// the total count is preserved exactly. The runtime records no sum, so the
// sum is estimated from each bucket's midpoint (its finite bound when the
// other one is infinite, and nothing below zero).
func rebucket(d *prometheus.Desc, h schedstats.Histogram, labels ...string) prometheus.Metric {
	buckets := make(map[float64]uint64, len(schedBuckets))
	var count uint64
	var sum float64
	j := 0
	var cum uint64
	for i, n := range h.Counts {
		if i+1 >= len(h.Bounds) {
			break // malformed layout: ignore counts without bounds
		}
		lo, hi := h.Bounds[i], h.Bounds[i+1]
		for j < len(schedBuckets) && schedBuckets[j] < hi {
			buckets[schedBuckets[j]] = cum
			j++
		}
		cum += n
		count += n
		if n != 0 {
			sum += float64(n) * midpoint(lo, hi)
		}
	}
	for ; j < len(schedBuckets); j++ {
		buckets[schedBuckets[j]] = cum
	}
	return prometheus.MustNewConstHistogram(d, count, sum, buckets, labels...)
}

// midpoint estimates the mean value of a bucket [lo, hi), clamped at zero.
func midpoint(lo, hi float64) float64 {
	lo, hi = max(lo, 0), max(hi, 0)
	switch {
	case math.IsInf(hi, 1):
		return lo
	default:
		return (lo + hi) / 2
	}
}
