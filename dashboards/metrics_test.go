package dashboards_test

import (
	"context"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"go.uber.org/goleak"

	gdiagprom "github.com/gdiag/gdiag/exporters/prometheus"
	"github.com/gdiag/gdiag/pool"
	"github.com/gdiag/gdiag/schedstats"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// realFamilies gathers what exporters/prometheus really emits with the Go
// collector, the runtime's own reader and two live pools that have run
// tasks, one of them running a keyed task, keyed by family name.
func realFamilies(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	ctx := context.Background()
	a := pool.New("dash_a", pool.WithoutRegistry(), pool.WithMaxWorkers(2))
	b := pool.New("dash_b", pool.WithoutRegistry())
	for i := range 20 {
		fn := func(context.Context) error { return nil }
		if i%4 == 0 {
			fn = func(context.Context) error { return errors.New("boom") }
		}
		if err := a.Submit(ctx, fn); err != nil {
			t.Fatal(err)
		}
	}
	gate, started := make(chan struct{}), make(chan struct{})
	if err := b.Go(ctx, pool.Task{Key: "tenant-a", Fn: func(context.Context) error { close(started); <-gate; return nil }}); err != nil {
		t.Fatal(err)
	}
	<-started // running during the gather, for gdiag_pool_key_running
	// A pool with every overload control and a refusal, for their series.
	c := pool.New("dash_c", pool.WithoutRegistry(), pool.WithFailFast(),
		pool.WithRateLimit(pool.Rate{PerSecond: 0.5, Burst: 1}), pool.WithShedding(pool.ShedOptions{}),
		pool.WithBreaker(pool.BreakerOptions{}))
	for range 2 { // the second finds no token
		_ = c.Submit(ctx, func(context.Context) error { return nil })
	}
	d, release := shedding(t)
	t.Cleanup(func() {
		close(gate)
		close(release)
		_ = a.Stop(ctx)
		_ = b.Stop(ctx)
		_ = c.Stop(ctx)
		_ = d.Stop(ctx)
	})
	reg := prometheus.NewRegistry()
	err := gdiagprom.Register(reg, gdiagprom.Options{
		Pools:       func() []*pool.Pool { return []*pool.Pool{a, b, c, d} },
		GoCollector: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, mf := range mfs {
		out[mf.GetName()] = mf
	}
	return out
}

// shedding returns a one-worker pool that has shed two tasks, for each
// shedding reason: a queue that stood (tasks waited longer than its 1 µs
// target) and tasks submitted behind a waiting one. Its worker holds a task until release is closed.
func shedding(t *testing.T) (*pool.Pool, chan struct{}) {
	t.Helper()
	ctx := context.Background()
	d := pool.New("dash_d", pool.WithoutRegistry(), pool.WithMaxWorkers(1), pool.WithFailFast(),
		pool.WithShedding(pool.ShedOptions{Target: time.Microsecond, Interval: time.Microsecond}))
	first, second, release := make(chan struct{}), make(chan struct{}), make(chan struct{})
	block := func(c chan struct{}) func(context.Context) error {
		return func(context.Context) error { <-c; return nil }
	}
	started := func(context.Context) error { close(second); <-release; return nil }
	for i, fn := range []func(context.Context) error{block(first), started, block(release)} {
		if err := d.Go(ctx, pool.Task{Fn: fn, Key: []string{"", "", "k"}[i]}); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(time.Millisecond) // the queued tasks wait far longer than the target
	close(first)                 // the second starts, after its wait: the queue stands
	<-second
	deadline := time.Now().Add(20 * time.Second)
	for !d.Stats().Shedding {
		if time.Now().After(deadline) {
			t.Fatal("shedding pool never found its queue standing")
		}
		time.Sleep(time.Millisecond)
	}
	// A task whose key holds the one queued task is shed for its share; one
	// without a key for its wait.
	for _, key := range []string{"k", ""} {
		if err := d.Go(ctx, pool.Task{Fn: block(release), Key: key}); !errors.Is(err, pool.ErrShed) {
			t.Fatalf("Go(key %q) behind a standing queue = %v; want ErrShed", key, err)
		}
	}
	if r := d.Stats().Refused; r.ShedKey != 1 || r.ShedWait != 1 {
		t.Fatalf("Refused = %+v; want one shed for its key's share and one for its wait", r)
	}
	return d, release
}

// family maps a series name to its family: the name itself, or with a
// histogram's or summary's _bucket, _sum or _count suffix removed.
func family(fams map[string]*dto.MetricFamily, name string) (string, *dto.MetricFamily) {
	if mf, ok := fams[name]; ok {
		return name, mf
	}
	for _, suf := range []string{"_bucket", "_sum", "_count"} {
		base, ok := strings.CutSuffix(name, suf)
		if !ok {
			continue
		}
		if mf, ok := fams[base]; ok && (mf.GetType() == dto.MetricType_HISTOGRAM || mf.GetType() == dto.MetricType_SUMMARY) {
			if suf == "_bucket" && mf.GetType() != dto.MetricType_HISTOGRAM {
				return name, nil
			}
			return base, mf
		}
	}
	return name, nil
}

var matcherRE = regexp.MustCompile(`(\w+)\s*(=~|!=|!~|=)\s*"([^"]*)"`)

// TestMetricsExist checks every metric a panel names: gdiag_* names are in
// the schedstats catalogue, and every name is a family that
// exporters/prometheus really emits with its Go collector. Label matchers
// other than job and instance must name labels the family has (quantile
// for summaries), and an exact matcher a value present in the output.
func TestMetricsExist(t *testing.T) {
	fams := realFamilies(t)
	used := 0
	for name, raw := range committedDashboards(t) {
		d := decode(t, raw)
		for _, p := range flatPanels(d.Panels) {
			for _, tg := range p.Targets {
				for _, m := range selectorRE.FindAllStringSubmatch(tg.Expr, -1) {
					used++
					where := name + ": panel " + p.Title + ": " + m[1]
					base, mf := family(fams, m[1])
					if strings.HasPrefix(base, "gdiag_") {
						if _, ok := schedstats.Lookup(base); !ok {
							t.Errorf("%s: %s is not in schedstats.Catalogue", where, base)
						}
					}
					if mf == nil {
						t.Errorf("%s: not in the exporter's output", where)
						continue
					}
					checkMatchers(t, where, mf, m[2])
				}
			}
		}
	}
	if used < 40 {
		t.Errorf("found %d metric selectors in the dashboards; want at least 40 (is the selector pattern broken?)", used)
	}
}

func checkMatchers(t *testing.T, where string, mf *dto.MetricFamily, matchers string) {
	t.Helper()
	for _, mm := range matcherRE.FindAllStringSubmatch(matchers, -1) {
		label, op, value := mm[1], mm[2], mm[3]
		if label == "job" || label == "instance" {
			continue // added by Prometheus at scrape time
		}
		values := map[string]bool{}
		for _, s := range mf.Metric {
			for _, lp := range s.Label {
				if lp.GetName() == label {
					values[lp.GetValue()] = true
				}
			}
			if label == "quantile" {
				for _, q := range s.GetSummary().GetQuantile() {
					values[strconv.FormatFloat(q.GetQuantile(), 'g', -1, 64)] = true
				}
			}
		}
		if len(values) == 0 {
			t.Errorf("%s: matcher %s: the family has no label %s", where, mm[0], label)
			continue
		}
		if op == "=" && !values[value] {
			t.Errorf("%s: matcher %s: no series has %s=%q (have %v)", where, mm[0], label, value, values)
		}
		if op == "=~" && !strings.Contains(value, "$") {
			for _, alt := range strings.Split(value, "|") {
				if !values[alt] {
					t.Errorf("%s: matcher %s: no series has %s=%q (have %v)", where, mm[0], label, alt, values)
				}
			}
		}
	}
}
