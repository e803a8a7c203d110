package otel_test

import (
	"context"
	"errors"
	"math"
	"runtime"
	"slices"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/goleak"

	gotel "github.com/gdiag/gdiag/exporters/otel"
	"github.com/gdiag/gdiag/pool"
	"github.com/gdiag/gdiag/schedstats"
)

// fakeRead fills a snapshot with distinct known values, local run queues
// and non-empty histograms, so every catalogued metric has something to say.
func fakeRead(s *schedstats.Snapshot) {
	inf := math.Inf(1)
	h := schedstats.Histogram{Bounds: []float64{math.Inf(-1), 0, 0.001, 0.01, inf}, Counts: []uint64{0, 90, 9, 1}}
	stop := schedstats.Histogram{Bounds: h.Bounds, Counts: []uint64{0, 99, 1, 0}}
	*s = schedstats.Snapshot{
		GOMAXPROCS: 4, IdlePs: 3, Threads: 11, IdleThreads: 5, SpinningThreads: 1,
		MsCreated: 12, MsFreed: 1, GlobalRunQueue: 7, LocalRunQueues: []int{2, 0, 1, 0},
		Goroutines:       schedstats.GoroutineStates{Total: 42, Running: 2, Runnable: 9, Waiting: 30, NotInGo: 1},
		SystemGoroutines: 4, GoroutinesCreated: 1000,
		SchedLatency: h, GCPauses: h, OtherPauses: h, GCStopping: stop, OtherStopping: stop, MutexWait: 1500 * time.Millisecond,
		Sources: schedstats.Sources{
			Procs: schedstats.SourceSched, Threads: schedstats.SourceSched, RunQueues: schedstats.SourceDeep,
			Goroutines: schedstats.SourceRuntimeMetrics, Latency: schedstats.SourceRuntimeMetrics,
			Pauses: schedstats.SourceRuntimeMetrics, Mutex: schedstats.SourceRuntimeMetrics,
		},
	}
}

type point struct {
	attrs attribute.Set
	value float64
	hist  *metricdata.HistogramDataPoint[float64] // for a histogram; value is its count
	kind  string                                  // gauge, sum, updown or histogram
	start time.Time
}

// producerReader returns a manual reader with a Producer over opts, and
// the MeterProvider that owns the reader, to shut down.
func producerReader(t *testing.T, opts gotel.MetricsOptions) *sdkmetric.ManualReader {
	t.Helper()
	r := sdkmetric.NewManualReader(sdkmetric.WithProducer(gotel.NewProducer(opts)))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	return r
}

// collect returns every data point by metric name.
func collect(t *testing.T, r *sdkmetric.ManualReader) map[string][]point {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		t.Fatalf("Collect = %v", err)
	}
	out := make(map[string][]point)
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					out[m.Name] = append(out[m.Name], point{attrs: p.Attributes, value: float64(p.Value), kind: "gauge"})
				}
			case metricdata.Gauge[float64]:
				for _, p := range d.DataPoints {
					out[m.Name] = append(out[m.Name], point{attrs: p.Attributes, value: p.Value, kind: "gauge"})
				}
			case metricdata.Sum[int64]:
				kind := "sum"
				if !d.IsMonotonic {
					kind = "updown"
				}
				if d.Temporality != metricdata.CumulativeTemporality {
					t.Errorf("metric %s has temporality %v; want cumulative", m.Name, d.Temporality)
				}
				for _, p := range d.DataPoints {
					out[m.Name] = append(out[m.Name], point{attrs: p.Attributes, value: float64(p.Value), kind: kind, start: p.StartTime})
				}
			case metricdata.Sum[float64]:
				for _, p := range d.DataPoints {
					out[m.Name] = append(out[m.Name], point{attrs: p.Attributes, value: p.Value, kind: "sum", start: p.StartTime})
				}
			case metricdata.Histogram[float64]:
				if d.Temporality != metricdata.CumulativeTemporality {
					t.Errorf("metric %s has temporality %v; want cumulative", m.Name, d.Temporality)
				}
				for i := range d.DataPoints {
					p := &d.DataPoints[i]
					out[m.Name] = append(out[m.Name], point{attrs: p.Attributes, value: float64(p.Count), hist: p, kind: "histogram", start: p.StartTime})
				}
			default:
				t.Errorf("metric %s has unexpected data %T", m.Name, m.Data)
			}
		}
	}
	return out
}

func value(t *testing.T, pts []point, kvs ...attribute.KeyValue) float64 {
	t.Helper()
	if p := find(t, pts, kvs...); p != nil {
		return p.value
	}
	return math.NaN()
}

func find(t *testing.T, pts []point, kvs ...attribute.KeyValue) *point {
	t.Helper()
	want := attribute.NewSet(kvs...)
	for i, p := range pts {
		if p.attrs.Equals(&want) {
			return &pts[i]
		}
	}
	t.Errorf("no point with attributes %v among %v", want.Encoded(attribute.DefaultEncoder()), pts)
	return nil
}

func TestProducerCoversCatalogue(t *testing.T) {
	defer goleak.VerifyNone(t)
	p := pool.New("orders", pool.WithoutRegistry(), pool.WithStatsSampling(1))
	for i := 0; i < 5; i++ {
		_ = p.Submit(context.Background(), func(context.Context) error { return nil })
	}
	_ = p.Submit(context.Background(), func(context.Context) error { return errors.New("no stock") })
	_ = p.Stop(context.Background())
	// A pool with a keyed task running, for the per-key gauge.
	tenants := pool.New("tenants", pool.WithoutRegistry())
	gate, started := make(chan struct{}), make(chan struct{})
	if err := tenants.Go(context.Background(), pool.Task{Key: "tenant-a", Fn: func(context.Context) error { close(started); <-gate; return nil }}); err != nil {
		t.Fatal(err)
	}
	<-started
	defer tenants.Stop(context.Background())
	defer close(gate)
	// A pool with every overload control, and a refusal, for their metrics.
	guarded := pool.New("guarded", pool.WithoutRegistry(), pool.WithFailFast(),
		pool.WithRateLimit(pool.Rate{PerSecond: 0.5, Burst: 1}), pool.WithShedding(pool.ShedOptions{}),
		pool.WithBreaker(pool.BreakerOptions{PerKey: true}))
	defer guarded.Stop(context.Background())
	for range 2 { // the second finds no token
		_ = guarded.Submit(context.Background(), func(context.Context) error { return nil })
	}

	r := producerReader(t, gotel.MetricsOptions{Read: fakeRead, Pools: func() []*pool.Pool { return []*pool.Pool{p, tenants, guarded} }})
	got := collect(t, r)

	for _, m := range schedstats.Catalogue() {
		if len(got[gotel.OTelName(m.Name)]) == 0 {
			t.Errorf("catalogued %s (as %s) emitted no data point", m.Name, gotel.OTelName(m.Name))
		}
	}
	for name, pts := range got {
		if name == "go.goroutine.count" || name == "go.processor.limit" || name == "go.schedule.duration" {
			continue
		}
		m, ok := catalogued(name)
		if !ok {
			t.Errorf("emitted %s is not in the schedstats catalogue", name)
			continue
		}
		want := map[schedstats.MetricType]string{schedstats.TypeGauge: "gauge", schedstats.TypeCounter: "sum", schedstats.TypeHistogram: "histogram"}[m.Type]
		if pts[0].kind != want {
			t.Errorf("%s is a %s; the catalogue's %s is a %v, so want a %s", name, pts[0].kind, m.Name, m.Type, want)
		}
	}
	for name, kind := range map[string]string{"go.goroutine.count": "updown", "go.processor.limit": "updown", "go.schedule.duration": "histogram"} {
		if pts := got[name]; len(pts) != 1 || pts[0].kind != kind {
			t.Errorf("%s = %v; want one %s point", name, pts, kind)
		}
	}

	pn := attribute.String("gdiag.pool.name", "orders")
	gn := attribute.String("gdiag.pool.name", "guarded")
	checks := []struct {
		name string
		kvs  []attribute.KeyValue
		want float64
	}{
		{"go.goroutine.count", nil, 42},
		{"go.processor.limit", nil, 4},
		{"gdiag.sched.idle_procs", nil, 3},
		{"gdiag.sched.global_runqueue", nil, 7},
		{"gdiag.sched.threads", nil, 11},
		{"gdiag.sched.threads_created", nil, 12},
		{"gdiag.sched.local_runqueue", []attribute.KeyValue{attribute.String("gdiag.sched.p", "2")}, 1},
		{"gdiag.sched.goroutines", []attribute.KeyValue{attribute.String("gdiag.goroutine.state", "runnable")}, 9},
		{"gdiag.sync.mutex_wait", nil, 1.5},
		{"gdiag.sched.latency", nil, 100}, // histogram points: their count
		{"gdiag.sched.pause", []attribute.KeyValue{attribute.String("gdiag.pause.kind", "gc")}, 100},
		{"gdiag.sched.pause_stopping", []attribute.KeyValue{attribute.String("gdiag.pause.kind", "other")}, 100},
		{"go.schedule.duration", nil, 100},
		{"gdiag.pool.run", []attribute.KeyValue{pn}, 6},
		{"gdiag.pool.queue_wait", []attribute.KeyValue{pn}, 6},
		{"gdiag.pool.tasks_submitted", []attribute.KeyValue{pn}, 6},
		{"gdiag.pool.tasks", []attribute.KeyValue{pn, attribute.String("gdiag.task.outcome", "completed")}, 5},
		{"gdiag.pool.tasks", []attribute.KeyValue{pn, attribute.String("gdiag.task.outcome", "failed")}, 1},
		{"gdiag.pool.queue_capacity", []attribute.KeyValue{pn}, 1024},
		{"gdiag.pool.key_running", []attribute.KeyValue{attribute.String("gdiag.pool.name", "tenants"), attribute.String("gdiag.pool.key", "tenant-a")}, 1},
		{"gdiag.pool.rate_limit", []attribute.KeyValue{gn, attribute.String("gdiag.pool.rate_scope", "pool")}, 0.5},
		{"gdiag.pool.tasks_refused", []attribute.KeyValue{gn, attribute.String("gdiag.pool.refusal_reason", "rate_limited")}, 1},
		{"gdiag.pool.breaker_state", []attribute.KeyValue{gn, attribute.String("gdiag.pool.key", "")}, 0},
		{"gdiag.pool.shedding", []attribute.KeyValue{gn}, 0},
		{"gdiag.pool.limit", []attribute.KeyValue{pn}, float64(runtime.GOMAXPROCS(0))},
	}
	for _, c := range checks {
		if v := value(t, got[c.name], c.kvs...); math.Abs(v-c.want) > 1e-9 {
			t.Errorf("%s%v = %v; want %v", c.name, c.kvs, v, c.want)
		}
	}
	if n := len(got["gdiag.pool.run"]); n != 3 {
		t.Errorf("gdiag.pool.run has %d points; want one histogram per pool", n)
	}
}

// TestProducerHistograms checks the histograms' buckets: the scheduler's
// re-bucketed from the runtime layout, the pools' as the pool keeps them.
func TestProducerHistograms(t *testing.T) {
	defer goleak.VerifyNone(t)
	p := pool.New("orders", pool.WithoutRegistry(), pool.WithStatsSampling(1))
	for range 5 {
		_ = p.Submit(context.Background(), func(context.Context) error { return nil })
	}
	_ = p.Stop(context.Background())
	r := producerReader(t, gotel.MetricsOptions{Read: fakeRead, Pools: func() []*pool.Pool { return []*pool.Pool{p} }})
	got := collect(t, r)

	// fakeRead's histogram: 90 events in [0, 1ms), 9 in [1ms, 10ms), 1 above.
	lat := find(t, got["gdiag.sched.latency"])
	if lat == nil {
		return
	}
	h := lat.hist
	if len(h.Bounds) != 22 || h.Bounds[0] != 1e-6 || h.Bounds[21] != 10 || len(h.BucketCounts) != 23 {
		t.Fatalf("latency bounds = %v (%d counts); want 22 bounds from 1µs to 10s and 23 counts", h.Bounds, len(h.BucketCounts))
	}
	want := make([]uint64, 23)
	want[9], want[12], want[22] = 90, 9, 1 // le 1ms, le 10ms, +Inf
	if !slices.Equal(h.BucketCounts, want) || h.Count != 100 {
		t.Errorf("latency buckets = %v, count %d; want %v, 100", h.BucketCounts, h.Count, want)
	}
	if math.Abs(h.Sum-0.1045) > 1e-9 {
		t.Errorf("latency sum = %g; want the midpoint estimate 0.1045", h.Sum)
	}

	st := p.Stats()
	run := find(t, got["gdiag.pool.run"], attribute.String("gdiag.pool.name", "orders"))
	if run == nil {
		return
	}
	if len(run.hist.Bounds) != len(st.RunTime.Bounds) || run.hist.Bounds[0] != st.RunTime.Bounds[0].Seconds() {
		t.Errorf("run bounds = %v; want the pool's %v in seconds", run.hist.Bounds, st.RunTime.Bounds)
	}
	if !slices.Equal(run.hist.BucketCounts, st.RunTime.Counts) || run.hist.Count != st.RunTime.Count || run.hist.Sum != st.RunTime.Sum.Seconds() {
		t.Errorf("run histogram = %v, count %d, sum %g; want the pool's %v, %d, %g",
			run.hist.BucketCounts, run.hist.Count, run.hist.Sum, st.RunTime.Counts, st.RunTime.Count, st.RunTime.Sum.Seconds())
	}
	if run.start.IsZero() || run.start.After(run.hist.Time) {
		t.Errorf("run start time = %v, time %v; want a start before the point", run.start, run.hist.Time)
	}
}

// TestProducerSources checks that parts of a snapshot its reader did not
// fill are left out, not exported as zeros.
func TestProducerSources(t *testing.T) {
	read := func(s *schedstats.Snapshot) {
		fakeRead(s)
		s.Sources = schedstats.Sources{Procs: schedstats.SourceRuntimeMetrics, Threads: schedstats.SourceRuntimeMetrics, Goroutines: schedstats.SourceRuntimeMetrics}
	}
	got := collect(t, producerReader(t, gotel.MetricsOptions{Read: read, Pools: func() []*pool.Pool { return nil }}))
	for _, name := range []string{"gdiag.sched.gomaxprocs", "gdiag.sched.threads", "gdiag.sched.goroutines", "go.goroutine.count"} {
		if len(got[name]) == 0 {
			t.Errorf("%s missing; its source filled it", name)
		}
	}
	for _, name := range []string{"gdiag.sched.idle_procs", "gdiag.sched.threads_idle", "gdiag.sched.global_runqueue",
		"gdiag.sched.local_runqueue", "gdiag.sched.latency", "gdiag.sched.pause", "gdiag.sched.pause_stopping", "gdiag.sync.mutex_wait", "go.schedule.duration"} {
		if len(got[name]) != 0 {
			t.Errorf("%s = %v; want it left out, as no source filled it", name, got[name])
		}
	}
}

func catalogued(otelName string) (schedstats.Metric, bool) {
	for _, m := range schedstats.Catalogue() {
		if gotel.OTelName(m.Name) == otelName {
			return m, true
		}
	}
	return schedstats.Metric{}, false
}

func TestProducerDefaults(t *testing.T) {
	defer goleak.VerifyNone(t)
	p := pool.New("registered-for-otel-test")
	defer p.Stop(context.Background())
	got := collect(t, producerReader(t, gotel.MetricsOptions{}))
	if v := value(t, got["go.goroutine.count"]); v < 1 {
		t.Errorf("go.goroutine.count = %v; want >= 1 from the live runtime", v)
	}
	value(t, got["gdiag.pool.workers"], attribute.String("gdiag.pool.name", "registered-for-otel-test"))
}

func TestProducerMaxPools(t *testing.T) {
	defer goleak.VerifyNone(t)
	var pools []*pool.Pool
	for _, n := range []string{"a", "b", "c"} {
		p := pool.New(n, pool.WithoutRegistry())
		defer p.Stop(context.Background())
		pools = append(pools, p)
	}
	r := producerReader(t, gotel.MetricsOptions{Read: fakeRead, Pools: func() []*pool.Pool { return pools }, MaxPools: 2})
	if n := len(collect(t, r)["gdiag.pool.workers"]); n != 2 {
		t.Errorf("gdiag.pool.workers has %d series with MaxPools 2; want 2", n)
	}
}

func TestOTelName(t *testing.T) {
	for in, want := range map[string]string{
		"gdiag_sched_idle_procs":              "gdiag.sched.idle_procs",
		"gdiag_pool_tasks_total":              "gdiag.pool.tasks",
		"gdiag_pool_queue_wait_seconds":       "gdiag.pool.queue_wait",
		"gdiag_sync_mutex_wait_seconds_total": "gdiag.sync.mutex_wait",
	} {
		if got := gotel.OTelName(in); got != want {
			t.Errorf("OTelName(%q) = %q; want %q", in, got, want)
		}
	}
}

// FuzzProducerHistogram feeds arbitrary histogram layouts to the producer:
// it must never panic, and must keep the count of every bucket that has
// bounds.
func FuzzProducerHistogram(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3}, []byte{5, 0, 7})
	f.Add([]byte{}, []byte{1})
	f.Add([]byte{255, 0, 128, 3, 9}, []byte{1, 2, 3, 4, 5, 6})
	f.Fuzz(func(t *testing.T, bounds, counts []byte) {
		h := schedstats.Histogram{}
		for i, b := range bounds {
			switch b {
			case 255:
				h.Bounds = append(h.Bounds, math.Inf(1))
			case 254:
				h.Bounds = append(h.Bounds, math.NaN())
			case 0:
				h.Bounds = append(h.Bounds, math.Inf(-1))
			default:
				h.Bounds = append(h.Bounds, float64(b)*float64(i+1)*1e-4)
			}
		}
		var want uint64
		for i, c := range counts {
			h.Counts = append(h.Counts, uint64(c))
			if i+1 < len(h.Bounds) {
				want += uint64(c)
			}
		}
		read := func(s *schedstats.Snapshot) {
			*s = schedstats.Snapshot{SchedLatency: h, Sources: schedstats.Sources{Latency: schedstats.SourceRuntimeMetrics}}
		}
		var rm metricdata.ResourceMetrics
		r := sdkmetric.NewManualReader(sdkmetric.WithProducer(gotel.NewProducer(gotel.MetricsOptions{Read: read, Pools: func() []*pool.Pool { return nil }})))
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r))
		defer mp.Shutdown(context.Background())
		if err := r.Collect(context.Background(), &rm); err != nil {
			t.Fatal(err)
		}
		for _, sm := range rm.ScopeMetrics {
			for _, m := range sm.Metrics {
				d := m.Data.(metricdata.Histogram[float64]).DataPoints[0]
				var sum uint64
				for _, n := range d.BucketCounts {
					sum += n
				}
				if d.Count != want || sum != want || len(d.BucketCounts) != len(d.Bounds)+1 {
					t.Fatalf("%s: count %d, buckets %v summing to %d; want %d", m.Name, d.Count, d.BucketCounts, sum, want)
				}
			}
		}
	})
}
