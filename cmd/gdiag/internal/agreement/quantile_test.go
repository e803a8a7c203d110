package agreement_test

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/goleak"

	"github.com/gdiag/gdiag/apiv1"
	"github.com/gdiag/gdiag/cmd/gdiag/internal/cli"
	"github.com/gdiag/gdiag/cmd/gdiag/internal/doctor"
	"github.com/gdiag/gdiag/cmd/gdiag/internal/pools"
	"github.com/gdiag/gdiag/cmd/gdiag/internal/sched"
	gotel "github.com/gdiag/gdiag/exporters/otel"
	promexp "github.com/gdiag/gdiag/exporters/prometheus"
	"github.com/gdiag/gdiag/pool"
	"github.com/gdiag/gdiag/probes"
	"github.com/gdiag/gdiag/schedstats"
)

// starvedPool runs tasks through a pool of one worker so that they queue:
// each runs at least 20ms, so the last of 12 waits at least 220ms, and the
// queue-wait p99 is certainly past the doctor's 100ms threshold. It returns
// once every task has finished, when the pool's histograms no longer move.
func starvedPool(t *testing.T) *pool.Pool {
	t.Helper()
	p := pool.New("agreement", pool.WithMaxWorkers(1), pool.WithQueueSize(16), pool.WithStatsSampling(1))
	t.Cleanup(func() { p.Stop(context.Background()) })
	ctx := context.Background()
	const tasks = 12
	for range tasks {
		if err := p.Submit(ctx, func(context.Context) error { time.Sleep(20 * time.Millisecond); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(time.Minute)
	for p.Stats().Completed < tasks {
		if time.Now().After(deadline) {
			t.Fatalf("pool stats %+v; want %d tasks completed", p.Stats(), tasks)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return p
}

// fixedRead fills every snapshot with the same histograms, spread over the
// runtime's layout, so that all paths see the same scheduler figures.
func fixedRead(s *schedstats.Snapshot) {
	bounds := []float64{math.Inf(-1), 0}
	for b := 1e-6; b < 100; b *= 1.25 {
		bounds = append(bounds, b)
	}
	bounds = append(bounds, math.Inf(1))
	counts := make([]uint64, len(bounds)-1)
	for i := range counts {
		counts[i] = uint64((i * 7919) % 13) // uneven, with empty buckets
	}
	counts[len(counts)-2] = 1 // a value near 100s, above the exporters' last bound
	h := schedstats.Histogram{Bounds: bounds, Counts: counts}
	*s = schedstats.Snapshot{Time: time.Unix(1700000000, 0), GOMAXPROCS: 2,
		SchedLatency: h, GCPauses: h, OtherPauses: h,
		Sources: schedstats.Sources{Procs: schedstats.SourceRuntimeMetrics, Threads: schedstats.SourceRuntimeMetrics,
			Goroutines: schedstats.SourceRuntimeMetrics, Latency: schedstats.SourceRuntimeMetrics,
			Pauses: schedstats.SourceRuntimeMetrics, Mutex: schedstats.SourceRuntimeMetrics}}
}

var qs = []float64{0.5, 0.9, 0.99, 1}

// TestQuantileAgreement: for the same pool histogram and the same
// scheduler histogram, every part of gdiag gives the same quantile.
func TestQuantileAgreement(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) }) // after the pool's own cleanup
	p := starvedPool(t)
	lib := p.Stats().QueueWait
	var want schedstats.Snapshot
	fixedRead(&want)
	lat := want.SchedLatency

	// The two libraries: pool's copy of the rule and schedstats' own.
	for _, q := range qs {
		if got, w := apiv1.Histogram(lib).Seconds().Quantile(q), lib.Quantile(q).Seconds(); got != w {
			t.Errorf("q=%v: schedstats gives %v, pool gives %v", q, got, w)
		}
	}

	// The agent: /v1/pools and /v1/snapshot, decoded through apiv1.
	s := schedstats.NewSampler(fixedRead, schedstats.SamplerOptions{Size: 4})
	s.SampleNow()
	srv := httptest.NewServer(probes.Handler(probes.HandlerOptions{Sampler: s}))
	defer srv.Close()
	defer srv.Client().CloseIdleConnections()
	var wire apiv1.Pools
	getJSON(t, srv.URL+"/v1/pools", &wire)
	i := slices.IndexFunc(wire.Pools, func(q apiv1.Pool) bool { return q.Name == "agreement" })
	if i < 0 {
		t.Fatalf("/v1/pools = %+v; want the pool agreement", wire)
	}
	agentWait := apiv1.Histogram(wire.Pools[i].QueueWait)
	var snap apiv1.Snapshot
	getJSON(t, srv.URL+"/v1/snapshot", &snap)
	for _, q := range qs {
		if got, w := agentWait.Seconds().Quantile(q), lib.Quantile(q).Seconds(); got != w {
			t.Errorf("q=%v: /v1/pools gives %v; the library %v", q, got, w)
		}
		if got, w := snap.Snapshot.SchedLatency.Quantile(q), lat.Quantile(q); got != w {
			t.Errorf("q=%v: /v1/snapshot gives %v; the library %v", q, got, w)
		}
	}

	// gdiag pools and gdiag sched, run in-process against the agent.
	var pr pools.Report
	runJSON(t, pools.Command(), []string{"pools", srv.URL, "--interval", "0", "--json"}, &pr)
	j := slices.IndexFunc(pr.Pools, func(r pools.Row) bool { return r.Name == "agreement" })
	if j < 0 {
		t.Fatalf("gdiag pools --json = %+v; want the pool agreement", pr)
	}
	if w := pr.Pools[j].QueueWait; w.P50 != lib.Quantile(0.5).Seconds() || w.P99 != lib.Quantile(0.99).Seconds() {
		t.Errorf("gdiag pools: queue wait p50, p99 = %v, %v; the library %v, %v", w.P50, w.P99, lib.Quantile(0.5), lib.Quantile(0.99))
	}
	var sr sched.Report
	runJSON(t, sched.Command(), []string{"sched", srv.URL, "--json"}, &sr)
	if d := sr.Derived.SchedLatency; d.P50 != lat.Quantile(0.5) || d.P90 != lat.Quantile(0.9) || d.P99 != lat.Quantile(0.99) || d.Max != lat.Quantile(1) {
		t.Errorf("gdiag sched: latency %+v; the library p50 %v p90 %v p99 %v max %v", d, lat.Quantile(0.5), lat.Quantile(0.9), lat.Quantile(0.99), lat.Quantile(1))
	}

	// gdiag doctor: a window from an empty pool to this one, queued
	// throughout, is a starved pool whose evidence carries the p99.
	before := wire.Pools[i]
	before.QueueWait.Counts = make([]uint64, len(before.QueueWait.Counts))
	after := wire.Pools[i]
	before.Queued, after.Queued = 1, 1
	now := time.Now()
	obs := &doctor.Observation{Agent: true, GOMAXPROCS: 2, Elapsed: 10 * time.Second, PoolPolls: []doctor.PoolPoll{
		{Time: now, Pools: []apiv1.Pool{before}}, {Time: now.Add(10 * time.Second), Pools: []apiv1.Pool{after}}}}
	findings, _, _ := doctor.Analyze(obs, "1234")
	got := math.NaN()
	for _, f := range findings {
		for _, e := range f.Evidence {
			if e.Name == "queue_wait_p99" {
				got = e.Value
			}
		}
	}
	if w := lib.Quantile(0.99).Seconds(); got != w {
		t.Errorf("gdiag doctor: queue_wait_p99 = %v in %+v; the library %v", got, findings, w)
	}

	// The exporters publish histograms, whose quantile a backend takes by
	// the same rule. Pool buckets are the pool's own, so the quantile from
	// the exposition is the library's; the scheduler's are coarser, and the
	// rule then gives the first exposed bound at or above the library's.
	reg := prometheus.NewRegistry()
	reg.MustRegister(promexp.NewPoolCollector(func() []*pool.Pool { return []*pool.Pool{p} }, 0), promexp.NewSchedCollector(fixedRead))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	r := sdkmetric.NewManualReader(sdkmetric.WithProducer(gotel.NewProducer(gotel.MetricsOptions{Read: fixedRead, Pools: func() []*pool.Pool { return []*pool.Pool{p} }})))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r))
	defer mp.Shutdown(context.Background())
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	for _, e := range []struct {
		exporter  string
		wait, lat schedstats.Histogram
	}{
		{"Prometheus", promHistogram(t, mfs, "gdiag_pool_queue_wait_seconds"), promHistogram(t, mfs, "gdiag_sched_latency_seconds")},
		{"OpenTelemetry", otelHistogram(t, rm, gotel.OTelName("gdiag_pool_queue_wait_seconds")), otelHistogram(t, rm, gotel.OTelName("gdiag_sched_latency_seconds"))},
	} {
		for _, q := range qs {
			if got, w := e.wait.Quantile(q), lib.Quantile(q).Seconds(); got != w {
				t.Errorf("q=%v: the %s exposition of the pool gives %v; the library %v", q, e.exporter, got, w)
			}
			exposed := e.lat.Bounds[1 : len(e.lat.Bounds)-1]
			w := lat.Quantile(q)
			if k := slices.IndexFunc(exposed, func(b float64) bool { return b >= w }); k >= 0 {
				w = exposed[k]
			} else {
				w = exposed[len(exposed)-1]
			}
			if got := e.lat.Quantile(q); got != w {
				t.Errorf("q=%v: the %s exposition of the latency gives %v; want %v, the first exposed bound ≥ the library's %v", q, e.exporter, got, w, lat.Quantile(q))
			}
		}
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	c := &http.Client{Timeout: 30 * time.Second}
	defer c.CloseIdleConnections()
	r, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// runJSON runs a gdiag command in-process and decodes its JSON output.
func runJSON(t *testing.T, c cli.Command, args []string, v any) {
	t.Helper()
	var out, errs bytes.Buffer
	if code := cli.Main(context.Background(), args, &out, &errs, []cli.Command{c}); code != cli.ExitOK {
		t.Fatalf("gdiag %v: exit %d\n%s", args, code, errs.String())
	}
	if err := json.NewDecoder(&out).Decode(v); err != nil {
		t.Fatalf("gdiag %v: %v\n%s", args, err, out.String())
	}
}

// promHistogram rebuilds, in schedstats' layout, the first histogram of
// the named family.
func promHistogram(t *testing.T, mfs []*dto.MetricFamily, name string) schedstats.Histogram {
	t.Helper()
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			h := schedstats.Histogram{Bounds: []float64{0}}
			var prev uint64
			for _, b := range m.GetHistogram().GetBucket() {
				h.Bounds = append(h.Bounds, b.GetUpperBound())
				h.Counts = append(h.Counts, b.GetCumulativeCount()-prev)
				prev = b.GetCumulativeCount()
			}
			h.Bounds = append(h.Bounds, math.Inf(1))
			h.Counts = append(h.Counts, m.GetHistogram().GetSampleCount()-prev)
			return h
		}
	}
	t.Fatalf("no histogram %s in the exposition", name)
	return schedstats.Histogram{}
}

// otelHistogram rebuilds, in schedstats' layout, the first point of the
// named OpenTelemetry histogram.
func otelHistogram(t *testing.T, rm metricdata.ResourceMetrics, name string) schedstats.Histogram {
	t.Helper()
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			h, ok := m.Data.(metricdata.Histogram[float64])
			if m.Name != name || !ok || len(h.DataPoints) == 0 {
				continue
			}
			dp := h.DataPoints[0]
			bounds := append(append([]float64{0}, dp.Bounds...), math.Inf(1))
			return schedstats.Histogram{Bounds: bounds, Counts: slices.Clone(dp.BucketCounts)}
		}
	}
	t.Fatalf("no OpenTelemetry histogram %s", name)
	return schedstats.Histogram{}
}
