package prometheus_test

import (
	"testing"

	dto "github.com/prometheus/client_model/go"

	"math"
	"time"

	"github.com/gdiag/gdiag/pool"
	"github.com/gdiag/gdiag/schedstats"
)

// runtimeBounds returns bounds in the layout of the runtime's time
// histograms: -Inf, 0, then eight sub-buckets per power of two of
// nanoseconds up to about 1100 s, then +Inf.
func runtimeBounds() []float64 {
	b := []float64{math.Inf(-1), 0}
	for e := 0; e < 40; e++ {
		for j := 0; j < 8; j++ {
			ns := math.Ldexp(1+float64(j)/8, e)
			b = append(b, ns/1e9)
		}
	}
	return append(b, math.Inf(1))
}

// runtimeHistogram fills a runtime-layout histogram with a fixed pattern.
func runtimeHistogram(seed uint64) schedstats.Histogram {
	h := schedstats.Histogram{Bounds: runtimeBounds()}
	h.Counts = make([]uint64, len(h.Bounds)-1)
	for i := range h.Counts {
		// Index 2+8e+j starts at 2^e·(1+j/8) ns: most events between 1µs
		// (index ~82) and 1ms (~162), a few below, a thin tail above.
		switch {
		case i < 80:
			if i%20 == 1 {
				h.Counts[i] = 1
			}
		case i < 160:
			h.Counts[i] = (uint64(i)*seed)%7 + 1
		case i < 200:
			h.Counts[i] = (uint64(i) * seed) % 3
		case i%37 == 0:
			h.Counts[i] = 1
		}
	}
	return h
}

// fullSnapshot is a snapshot with every part filled, as in deep mode.
func fullSnapshot() schedstats.Snapshot {
	return schedstats.Snapshot{
		Time:              time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		GOMAXPROCS:        4,
		IdlePs:            1,
		Threads:           9,
		IdleThreads:       3,
		SpinningThreads:   1,
		MsCreated:         12,
		MsFreed:           3,
		GlobalRunQueue:    5,
		LocalRunQueues:    []int{2, 0, 7, 1},
		Goroutines:        schedstats.GoroutineStates{Total: 120, Running: 3, Runnable: 9, Waiting: 100, NotInGo: 8},
		SystemGoroutines:  6,
		GoroutinesCreated: 4567,
		SchedLatency:      runtimeHistogram(5),
		GCPauses:          runtimeHistogram(3),
		OtherPauses:       runtimeHistogram(2),
		GCStopping:        runtimeHistogram(1),
		OtherStopping:     runtimeHistogram(4),
		MutexWait:         1500 * time.Millisecond,
		Sources: schedstats.Sources{
			Procs:      schedstats.SourceSched,
			Threads:    schedstats.SourceSched,
			RunQueues:  schedstats.SourceDeep,
			Goroutines: schedstats.SourceRuntimeMetrics,
			Latency:    schedstats.SourceRuntimeMetrics,
			Pauses:     schedstats.SourceRuntimeMetrics,
			Mutex:      schedstats.SourceRuntimeMetrics,
		},
	}
}

// readFixed returns a ReadFunc that copies snap.
func readFixed(snap schedstats.Snapshot) schedstats.ReadFunc {
	return func(dst *schedstats.Snapshot) { snap.CopyInto(dst) }
}

// poolHistogram returns a histogram in the pool's layout (28 bounds 1µs·2^i)
// with count values in bucket i for each i in at.
func poolHistogram(at map[int]uint64) pool.Histogram {
	h := pool.Histogram{Counts: make([]uint64, 29)}
	for i := range 28 {
		h.Bounds = append(h.Bounds, time.Microsecond<<i)
	}
	for i, n := range at {
		h.Counts[i] += n
		h.Count += n
		h.Sum += time.Duration(n) * (time.Microsecond << min(i, 27))
	}
	return h
}

// fakeStats returns fixed statistics for the named pools.
func fakeStats(names ...string) []pool.Stats {
	out := make([]pool.Stats, 0, len(names))
	for i, n := range names {
		k := uint64(i + 1)
		out = append(out, pool.Stats{
			Name: n, MinWorkers: 1, MaxWorkers: 8 * (i + 1),
			Workers: 4, Running: 3, Idle: 1, Queued: 2 * i, QueueCapacity: 1024,
			Submitted: 1000 * k, Completed: 950 * k, Failed: 30 * k, Panicked: k, Canceled: 2 * k,
			Rejected:  17 * k,
			QueueWait: poolHistogram(map[int]uint64{0: 500 * k, 3: 300 * k, 10: 15 * k}),
			RunTime:   poolHistogram(map[int]uint64{5: 700 * k, 12: 250 * k, 28: k}),
			Keys:      []pool.KeyStats{{Key: "tenant-a", Running: 2, Parked: i}, {Key: "tenant-b", Running: 1}},
			Limit:     8 * (i + 1),
			Refused:   pool.Refusals{QueueFull: 15 * k, Stopped: 2 * k},
		})
	}
	return out
}

// withControls returns stats with every overload control on every pool:
// an adaptive limit below the maximum, shedding, both token buckets, and
// breakers, one of them open, with refusals of every reason.
func withControls(stats []pool.Stats) []pool.Stats {
	for i := range stats {
		st := &stats[i]
		k := uint64(i + 1)
		st.Limit, st.Adaptive = 4*(i+1), true
		st.Shedding, st.ShedTarget = i == 0, 5*time.Millisecond
		st.Rate, st.KeyRate = pool.Rate{PerSecond: 100 * float64(k), Burst: 10}, pool.Rate{PerSecond: 2.5, Burst: 1}
		st.Refused = pool.Refusals{QueueFull: 5 * k, Stopped: k, Canceled: 2 * k, RateLimited: 4 * k, ShedWait: 3 * k, ShedKey: k, BreakerOpen: k}
		st.Rejected = st.Refused.Sum()
		st.BreakerOpens = 2 * k
		st.Breakers = []pool.BreakerStats{{State: pool.BreakerClosed, Opened: k, Requests: 40, Failures: 2},
			{Key: "tenant-a", State: pool.BreakerOpen, Opened: k}}
	}
	return stats
}

// gatherValue returns the gauge or counter value of the series of name whose
// labels include want.
func gatherValue(t *testing.T, mfs []*dto.MetricFamily, name string, want map[string]string) float64 {
	t.Helper()
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			got := map[string]string{}
			for _, lp := range m.GetLabel() {
				got[lp.GetName()] = lp.GetValue()
			}
			for k, v := range want {
				if got[k] != v {
					continue next
				}
			}
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	t.Fatalf("no series %s%v", name, want)
	return 0
}
