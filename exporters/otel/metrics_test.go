package otel_test

import (
	"context"
	"errors"
	"math"
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
	*s = schedstats.Snapshot{
		GOMAXPROCS: 4, IdlePs: 3, Threads: 11, IdleThreads: 5, SpinningThreads: 1,
		MsCreated: 12, MsFreed: 1, GlobalRunQueue: 7, LocalRunQueues: []int{2, 0, 1, 0},
		Goroutines:       schedstats.GoroutineStates{Total: 42, Running: 2, Runnable: 9, Waiting: 30, NotInGo: 1},
		SystemGoroutines: 4, GoroutinesCreated: 1000,
		SchedLatency: h, GCPauses: h, OtherPauses: h, MutexWait: 1500 * time.Millisecond,
	}
}

type point struct {
	attrs attribute.Set
	value float64
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
					out[m.Name] = append(out[m.Name], point{p.Attributes, float64(p.Value)})
				}
			case metricdata.Gauge[float64]:
				for _, p := range d.DataPoints {
					out[m.Name] = append(out[m.Name], point{p.Attributes, p.Value})
				}
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					out[m.Name] = append(out[m.Name], point{p.Attributes, float64(p.Value)})
				}
			case metricdata.Sum[float64]:
				for _, p := range d.DataPoints {
					out[m.Name] = append(out[m.Name], point{p.Attributes, p.Value})
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
	want := attribute.NewSet(kvs...)
	for _, p := range pts {
		if p.attrs.Equals(&want) {
			return p.value
		}
	}
	t.Errorf("no point with attributes %v among %v", want.Encoded(attribute.DefaultEncoder()), pts)
	return math.NaN()
}

func TestRegisterMetricsCoversCatalogue(t *testing.T) {
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

	r := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r))
	defer mp.Shutdown(context.Background())
	unregister, err := gotel.RegisterMetrics(mp, gotel.MetricsOptions{Read: fakeRead, Pools: func() []*pool.Pool { return []*pool.Pool{p, tenants} }})
	if err != nil {
		t.Fatalf("RegisterMetrics = %v", err)
	}
	got := collect(t, r)

	for _, m := range schedstats.Catalogue() {
		if len(got[gotel.OTelName(m.Name)]) == 0 {
			t.Errorf("catalogued %s (as %s) emitted no data point", m.Name, gotel.OTelName(m.Name))
		}
	}
	for name := range got {
		if name == "go.goroutine.count" || name == "go.processor.limit" {
			continue
		}
		if !catalogued(name) {
			t.Errorf("emitted %s is not in the schedstats catalogue", name)
		}
	}

	pn := attribute.String("gdiag.pool.name", "orders")
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
		{"gdiag.sched.latency", []attribute.KeyValue{attribute.Float64("gdiag.quantile", 0.5)}, 0.001}, // the upper bound of the bucket holding the median
		{"gdiag.pool.tasks_submitted", []attribute.KeyValue{pn}, 6},
		{"gdiag.pool.tasks", []attribute.KeyValue{pn, attribute.String("gdiag.task.outcome", "completed")}, 5},
		{"gdiag.pool.tasks", []attribute.KeyValue{pn, attribute.String("gdiag.task.outcome", "failed")}, 1},
		{"gdiag.pool.queue_capacity", []attribute.KeyValue{pn}, 1024},
		{"gdiag.pool.key_running", []attribute.KeyValue{attribute.String("gdiag.pool.name", "tenants"), attribute.String("gdiag.pool.key", "tenant-a")}, 1},
	}
	for _, c := range checks {
		if v := value(t, got[c.name], c.kvs...); math.Abs(v-c.want) > 1e-9 {
			t.Errorf("%s%v = %v; want %v", c.name, c.kvs, v, c.want)
		}
	}
	if n := len(got["gdiag.pool.run"]); n != 3 {
		t.Errorf("gdiag.pool.run has %d points; want 3 quantiles", n)
	}

	if err := unregister(); err != nil {
		t.Fatalf("unregister = %v", err)
	}
	if after := collect(t, r); len(after) != 0 {
		t.Errorf("after unregister, %d metrics still report", len(after))
	}
}

func catalogued(otelName string) bool {
	for _, m := range schedstats.Catalogue() {
		if gotel.OTelName(m.Name) == otelName {
			return true
		}
	}
	return false
}

func TestRegisterMetricsDefaults(t *testing.T) {
	defer goleak.VerifyNone(t)
	p := pool.New("registered-for-otel-test")
	defer p.Stop(context.Background())
	r := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r))
	defer mp.Shutdown(context.Background())
	unregister, err := gotel.RegisterMetrics(mp, gotel.MetricsOptions{})
	if err != nil {
		t.Fatalf("RegisterMetrics = %v", err)
	}
	defer unregister()
	got := collect(t, r)
	if v := value(t, got["go.goroutine.count"]); v < 1 {
		t.Errorf("go.goroutine.count = %v; want >= 1 from the live runtime", v)
	}
	value(t, got["gdiag.pool.workers"], attribute.String("gdiag.pool.name", "registered-for-otel-test"))
}

func TestRegisterMetricsMaxPools(t *testing.T) {
	defer goleak.VerifyNone(t)
	var pools []*pool.Pool
	for _, n := range []string{"a", "b", "c"} {
		p := pool.New(n, pool.WithoutRegistry())
		defer p.Stop(context.Background())
		pools = append(pools, p)
	}
	r := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r))
	defer mp.Shutdown(context.Background())
	if _, err := gotel.RegisterMetrics(mp, gotel.MetricsOptions{Read: fakeRead, Pools: func() []*pool.Pool { return pools }, MaxPools: 2}); err != nil {
		t.Fatal(err)
	}
	if n := len(collect(t, r)["gdiag.pool.workers"]); n != 2 {
		t.Errorf("gdiag.pool.workers has %d series with MaxPools 2; want 2", n)
	}
}

func TestRegisterMetricsNilProvider(t *testing.T) {
	if _, err := gotel.RegisterMetrics(nil, gotel.MetricsOptions{}); !errors.Is(err, gotel.ErrNilMeterProvider) {
		t.Errorf("RegisterMetrics(nil) = %v; want ErrNilMeterProvider", err)
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
