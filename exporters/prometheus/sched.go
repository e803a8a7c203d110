package prometheus

import (
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

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
	mPauseStopping     = "gdiag_sched_pause_stopping_seconds"
	mMutexWait         = "gdiag_sync_mutex_wait_seconds_total"
)

// schedBuckets are the upper bounds, in seconds, that the runtime's
// scheduler histograms are re-bucketed into (schedstats.ExportBounds),
// shared by every scrape and never written.
var schedBuckets = schedstats.ExportBounds()

// schedHists is how many scheduler histograms a scrape exports: the
// latency, and the pauses and their stopping times by kind.
const schedHists = 5

// nSchedBuckets is len(schedBuckets), as a constant for the arrays of a
// scrape's block; NewSchedCollector checks that the two agree.
const nSchedBuckets = 22

// SchedCollector is a prometheus.Collector of the scheduler metrics of the
// schedstats catalogue. It reads one snapshot per scrape; parts of the
// snapshot that its reader did not fill (Sources reports SourceNone) are
// left out rather than exported as zeros. Per-P run queues are exported
// only when the snapshot has them (deep mode). Create it with
// NewSchedCollector; the zero value is not usable. Its methods are safe for
// concurrent use: scrapes are serialized so that the snapshot is reused.
type SchedCollector struct {
	read schedstats.ReadFunc

	gomaxprocs, idleProcs, threads, threadsIdle, threadsSpinning,
	threadsCreated, threadsFreed, globalRunqueue, localRunqueue,
	goroutines, goroutinesSystem, goroutinesCreated, latency, pause,
	pauseStopping, mutexWait *prometheus.Desc

	// Label pairs, built once: by goroutine state (in the order of
	// goroutineStates) and by pause kind.
	stateLabels [len(goroutineStates)][]*dto.LabelPair
	gcLabels    []*dto.LabelPair
	otherLabels []*dto.LabelPair

	mu             sync.Mutex
	snap           schedstats.Snapshot
	localRunLabels [][]*dto.LabelPair // by P, grown to the largest P seen
	out            []prometheus.Metric
	counts         []uint64 // per bucket, then cumulative; len(schedBuckets)+1

	// hists are the histogram series of the last scrape, by rebucket's
	// index, sent again while their numbers do not change: the pause
	// histograms change only when the world stops.
	hists [schedHists]*schedHist
}

// schedHist holds one scheduler histogram series and its buckets: one
// allocation, never written once sent.
type schedHist struct {
	cell    histCell
	buckets [nSchedBuckets]bucketCell
	ptrs    [nSchedBuckets]*dto.Bucket
}

// same reports whether h shows count, sum and the cumulative counts cum.
func (h *schedHist) same(count uint64, sum float64, cum []uint64) bool {
	if h == nil || h.cell.count != count || h.cell.sum != sum {
		return false
	}
	for i := range h.buckets {
		if h.buckets[i].n != cum[i] {
			return false
		}
	}
	return true
}

// goroutineStates are the values of gdiag_sched_goroutines' state label.
var goroutineStates = [...]string{"total", "running", "runnable", "waiting", "not_in_go"}

// stateOrder lists the indices of goroutineStates by name, the order the
// registry sorts gdiag_sched_goroutines in, so that it finds them sorted.
var stateOrder = [len(goroutineStates)]int{4, 2, 1, 0, 3}

// schedBlock holds the gauges and counters of one scrape: one allocation.
type schedBlock struct {
	// gomaxprocs, idle procs, threads, idle and spinning threads, global
	// run queue, system goroutines and the goroutine states
	gauges [7 + len(goroutineStates)]gaugeCell
	// threads created and freed, goroutines created, mutex wait
	counters [4]counterCell
	ng, nc   int
}

func (b *schedBlock) gauge(d *prometheus.Desc, v float64, labels []*dto.LabelPair) prometheus.Metric {
	b.ng++
	return b.gauges[b.ng-1].set(d, v, labels)
}

func (b *schedBlock) counter(d *prometheus.Desc, v float64) prometheus.Metric {
	b.nc++
	return b.counters[b.nc-1].set(d, v, nil)
}

// NewSchedCollector returns a collector that calls read at each scrape.
// It panics if read is nil.
func NewSchedCollector(read schedstats.ReadFunc) *SchedCollector {
	if read == nil {
		panic("prometheus: NewSchedCollector with a nil ReadFunc")
	}
	if len(schedBuckets) != nSchedBuckets {
		panic("prometheus: schedstats.ExportBounds has changed length; update nSchedBuckets")
	}
	c := &SchedCollector{
		read:              read,
		gomaxprocs:        newDesc(mGomaxprocs),
		idleProcs:         newDesc(mIdleProcs),
		threads:           newDesc(mThreads),
		threadsIdle:       newDesc(mThreadsIdle),
		threadsSpinning:   newDesc(mThreadsSpinning),
		threadsCreated:    newDesc(mThreadsCreated),
		threadsFreed:      newDesc(mThreadsFreed),
		globalRunqueue:    newDesc(mGlobalRunqueue),
		localRunqueue:     newDesc(mLocalRunqueue),
		goroutines:        newDesc(mGoroutines),
		goroutinesSystem:  newDesc(mGoroutinesSystem),
		goroutinesCreated: newDesc(mGoroutinesCreated),
		latency:           newDesc(mLatency),
		pause:             newDesc(mPause),
		pauseStopping:     newDesc(mPauseStopping),
		mutexWait:         newDesc(mMutexWait),
		gcLabels:          labelPairs("kind", "gc"),
		otherLabels:       labelPairs("kind", "other"),
		counts:            make([]uint64, len(schedBuckets)+1),
	}
	for i, st := range goroutineStates {
		c.stateLabels[i] = labelPairs("state", st)
	}
	return c
}

// Describe sends the descriptors of every metric the collector may emit.
func (c *SchedCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.gomaxprocs, c.idleProcs, c.threads, c.threadsIdle, c.threadsSpinning,
		c.threadsCreated, c.threadsFreed, c.globalRunqueue, c.localRunqueue,
		c.goroutines, c.goroutinesSystem, c.goroutinesCreated, c.latency, c.pause,
		c.pauseStopping, c.mutexWait,
	} {
		ch <- d
	}
}

// Collect reads a snapshot and sends its metrics.
func (c *SchedCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.read(&c.snap)
	s := &c.snap
	b := new(schedBlock)
	out := c.out[:0]
	// runtime/metrics fills GOMAXPROCS, Threads and the goroutine states;
	// the rest comes only from the sched mirror (or a schedtrace), so it is
	// emitted only when that source filled it, never as zeros.
	procs, threads := s.Sources.Procs, s.Sources.Threads
	mirror := threads == schedstats.SourceSched
	if procs != schedstats.SourceNone {
		out = append(out, b.gauge(c.gomaxprocs, float64(s.GOMAXPROCS), nil))
	}
	if procs == schedstats.SourceSched || procs == schedstats.SourceSchedtrace {
		out = append(out, b.gauge(c.idleProcs, float64(s.IdlePs), nil))
	}
	if threads != schedstats.SourceNone {
		out = append(out, b.gauge(c.threads, float64(s.Threads), nil))
	}
	if mirror || threads == schedstats.SourceSchedtrace {
		out = append(out,
			b.gauge(c.threadsIdle, float64(s.IdleThreads), nil),
			b.gauge(c.threadsSpinning, float64(s.SpinningThreads), nil))
	}
	if mirror {
		out = append(out,
			b.counter(c.threadsCreated, float64(s.MsCreated)),
			b.counter(c.threadsFreed, float64(s.MsFreed)))
	}
	if s.Sources.RunQueues != schedstats.SourceNone {
		out = append(out, b.gauge(c.globalRunqueue, float64(s.GlobalRunQueue), nil))
		out = c.localRunqueues(out, s.LocalRunQueues)
	}
	if s.Sources.Goroutines != schedstats.SourceNone {
		g := s.Goroutines
		n := [...]int{g.Total, g.Running, g.Runnable, g.Waiting, g.NotInGo}
		for _, i := range stateOrder { // in the registry's order
			out = append(out, b.gauge(c.goroutines, float64(n[i]), c.stateLabels[i]))
		}
		out = append(out, b.counter(c.goroutinesCreated, float64(s.GoroutinesCreated)))
	}
	if mirror {
		out = append(out, b.gauge(c.goroutinesSystem, float64(s.SystemGoroutines), nil))
	}
	if s.Sources.Latency != schedstats.SourceNone {
		out = append(out, c.rebucket(0, c.latency, s.SchedLatency, nil))
	}
	if s.Sources.Pauses != schedstats.SourceNone {
		out = append(out,
			c.rebucket(1, c.pause, s.GCPauses, c.gcLabels),
			c.rebucket(2, c.pause, s.OtherPauses, c.otherLabels),
			c.rebucket(3, c.pauseStopping, s.GCStopping, c.gcLabels),
			c.rebucket(4, c.pauseStopping, s.OtherStopping, c.otherLabels))
	}
	if s.Sources.Mutex != schedstats.SourceNone {
		out = append(out, b.counter(c.mutexWait, s.MutexWait.Seconds()))
	}
	send(ch, out)
	clear(out)
	c.out = out
}

// localRunqueues appends a gauge per P, from an allocation of their own.
func (c *SchedCollector) localRunqueues(out []prometheus.Metric, n []int) []prometheus.Metric {
	for p := len(c.localRunLabels); p < len(n); p++ {
		c.localRunLabels = append(c.localRunLabels, labelPairs("p", strconv.Itoa(p)))
	}
	cells := make([]gaugeCell, len(n))
	for p, v := range n {
		out = append(out, cells[p].set(c.localRunqueue, float64(v), c.localRunLabels[p]))
	}
	return out
}

// rebucket returns histogram series i from a runtime/metrics-layout
// histogram, re-bucketed to the schedBuckets bounds by
// schedstats.Histogram.Rebucket: every value a bucket counts is truly at
// most its bound, and the total count is kept exactly; the sum is
// estimated. It is the last scrape's series when the numbers are the same,
// else a new one (the old one may still be in the hands of an earlier
// Gather's caller).
func (c *SchedCollector) rebucket(i int, d *prometheus.Desc, h schedstats.Histogram, labels []*dto.LabelPair) prometheus.Metric {
	count, sum := h.Rebucket(schedBuckets, c.counts)
	for j := 1; j < len(schedBuckets); j++ {
		c.counts[j] += c.counts[j-1]
	}
	if last := c.hists[i]; last.same(count, sum, c.counts) {
		return &last.cell.s
	}
	nh := new(schedHist)
	c.hists[i] = nh
	return nh.cell.set(d, labels, schedBuckets, c.counts[:len(schedBuckets)], count, sum, nh.buckets[:], nh.ptrs[:])
}
