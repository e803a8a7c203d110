package probes

import (
	"math"
	"runtime/metrics"
	"time"

	"github.com/gdiag/gdiag/schedstats"
)

// The runtime/metrics the Reader samples, in the order of metricNames.
const (
	mGOMAXPROCS = iota
	mGoroutines
	mRunning
	mRunnable
	mWaiting
	mNotInGo
	mCreated
	mThreads
	mLatency
	mPausesGC
	mPausesOther
	mStoppingGC
	mStoppingOther
	mMutexWait
	mCount
)

var metricNames = [mCount]string{
	mGOMAXPROCS:    "/sched/gomaxprocs:threads",
	mGoroutines:    "/sched/goroutines:goroutines",
	mRunning:       "/sched/goroutines/running:goroutines",
	mRunnable:      "/sched/goroutines/runnable:goroutines",
	mWaiting:       "/sched/goroutines/waiting:goroutines",
	mNotInGo:       "/sched/goroutines/not-in-go:goroutines",
	mCreated:       "/sched/goroutines-created:goroutines",
	mThreads:       "/sched/threads/total:threads",
	mLatency:       "/sched/latencies:seconds",
	mPausesGC:      "/sched/pauses/total/gc:seconds",
	mPausesOther:   "/sched/pauses/total/other:seconds",
	mStoppingGC:    "/sched/pauses/stopping/gc:seconds",
	mStoppingOther: "/sched/pauses/stopping/other:seconds",
	mMutexWait:     "/sync/mutex/wait/total:seconds",
}

// metricsReader owns a reusable sample slice: metrics.Read keeps the
// *Float64Histogram values it finds there, so after the first Read no
// call allocates. Not safe for concurrent use; Reader serialises it.
type metricsReader struct {
	samples []metrics.Sample
}

func newMetricsReader() *metricsReader { return newMetricsReaderOf(metricNames) }

// newMetricsReaderOf reads the metrics names in the order of
// metricNames; tests give names the runtime lacks, to stand for an older
// toolchain.
func newMetricsReaderOf(names [mCount]string) *metricsReader {
	m := &metricsReader{samples: make([]metrics.Sample, mCount)}
	for i, n := range names {
		m.samples[i].Name = n
	}
	return m
}

// read fills the parts of s that runtime/metrics offers. A metric the
// running toolchain lacks reads as KindBad and leaves its field zero.
func (m *metricsReader) read(s *schedstats.Snapshot) {
	metrics.Read(m.samples)
	u := func(i int) uint64 {
		if m.samples[i].Value.Kind() == metrics.KindUint64 {
			return m.samples[i].Value.Uint64()
		}
		return 0
	}
	s.GOMAXPROCS = int(u(mGOMAXPROCS))
	s.Goroutines = schedstats.GoroutineStates{
		Total:    int(u(mGoroutines)),
		Running:  int(u(mRunning)),
		Runnable: int(u(mRunnable)),
		Waiting:  int(u(mWaiting)),
		NotInGo:  int(u(mNotInGo)),
	}
	s.GoroutinesCreated = u(mCreated)
	s.Threads = int(u(mThreads))
	m.hist(mLatency, &s.SchedLatency)
	m.hist(mPausesGC, &s.GCPauses)
	m.hist(mPausesOther, &s.OtherPauses)
	m.hist(mStoppingGC, &s.GCStopping)
	m.hist(mStoppingOther, &s.OtherStopping)
	s.MutexWait = 0
	if v := m.samples[mMutexWait].Value; v.Kind() == metrics.KindFloat64 {
		s.MutexWait = secondsToDuration(v.Float64())
	}
	// A part is labelled runtime/metrics only when the toolchain has
	// every metric it is made of: Go 1.25 has no thread count, goroutine
	// states or goroutines created, and zeros must not pass for readings.
	s.Sources.Procs = m.source(mGOMAXPROCS)
	s.Sources.Threads = m.source(mThreads)
	s.Sources.Goroutines = m.source(mGoroutines, mRunning, mRunnable, mWaiting, mNotInGo, mCreated)
	s.Sources.Latency = m.source(mLatency)
	s.Sources.Pauses = m.source(mPausesGC, mPausesOther)
	s.Sources.Mutex = m.source(mMutexWait)
}

// missingMetrics lists the names the running toolchain does not offer.
func missingMetrics(names []string) []string {
	have := map[string]bool{}
	for _, d := range metrics.All() {
		have[d.Name] = true
	}
	var out []string
	for _, n := range names {
		if !have[n] {
			out = append(out, n)
		}
	}
	return out
}

// source is SourceRuntimeMetrics when the running toolchain offers all
// the metrics ids, else SourceNone: a metric it lacks reads as KindBad.
func (m *metricsReader) source(ids ...int) schedstats.Source {
	for _, i := range ids {
		if m.samples[i].Value.Kind() == metrics.KindBad {
			return schedstats.SourceNone
		}
	}
	return schedstats.SourceRuntimeMetrics
}

// hist copies histogram sample i into h, reusing h's slices.
func (m *metricsReader) hist(i int, h *schedstats.Histogram) {
	v := m.samples[i].Value
	if v.Kind() != metrics.KindFloat64Histogram {
		h.Bounds, h.Counts = h.Bounds[:0], h.Counts[:0]
		return
	}
	fh := v.Float64Histogram()
	h.Bounds = append(h.Bounds[:0], fh.Buckets...)
	h.Counts = append(h.Counts[:0], fh.Counts...)
}

func secondsToDuration(sec float64) time.Duration {
	if sec >= math.MaxInt64/float64(time.Second) {
		return math.MaxInt64
	}
	return time.Duration(sec * float64(time.Second))
}
