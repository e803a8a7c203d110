package prometheus_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"

	gdiagprom "github.com/gdiag/gdiag/exporters/prometheus"
	"github.com/gdiag/gdiag/pool"
	"github.com/gdiag/gdiag/schedstats"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestRegisterLive registers everything with the defaults that read the
// running process (probes' reader, client_golang's Go collector) and real
// pools, and checks what a scrape shows.
func TestRegisterLive(t *testing.T) {
	ctx := context.Background()
	a := pool.New("live_a", pool.WithoutRegistry(), pool.WithMaxWorkers(2), pool.WithStatsSampling(1))
	b := pool.New("live_b", pool.WithoutRegistry())
	errBoom := errors.New("boom")
	for i := range 10 {
		fn := func(context.Context) error { return nil }
		if i%5 == 0 {
			fn = func(context.Context) error { return errBoom }
		}
		if err := a.Submit(ctx, fn); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Stop(ctx); err != nil { // waits for every task
		t.Fatal(err)
	}
	defer b.Stop(ctx)

	reg := prometheus.NewPedanticRegistry()
	err := gdiagprom.Register(reg, gdiagprom.Options{
		Pools:       func() []*pool.Pool { return []*pool.Pool{a, b} },
		GoCollector: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	families := map[string]bool{}
	for _, mf := range mfs {
		families[mf.GetName()] = true
	}
	for _, name := range []string{
		"gdiag_sched_gomaxprocs", "gdiag_sched_goroutines", "gdiag_sched_latency_seconds",
		"gdiag_pool_tasks_total", "gdiag_pool_run_seconds",
		"go_goroutines", "go_memstats_alloc_bytes", "go_sched_gomaxprocs_threads",
		"go_cpu_classes_gc_total_cpu_seconds_total", "go_cpu_classes_gc_mark_idle_cpu_seconds_total",
		"go_cpu_classes_total_cpu_seconds_total", "go_cpu_classes_idle_cpu_seconds_total",
	} {
		if !families[name] {
			t.Errorf("family %s missing from a live scrape", name)
		}
	}
	for _, tc := range []struct {
		outcome string
		want    float64
	}{{"completed", 8}, {"failed", 2}, {"panicked", 0}} {
		c := gatherValue(t, mfs, "gdiag_pool_tasks_total", map[string]string{"pool": "live_a", "outcome": tc.outcome})
		if c != tc.want {
			t.Errorf("gdiag_pool_tasks_total{pool=live_a,outcome=%s} = %g; want %g", tc.outcome, c, tc.want)
		}
	}
	if got := gatherValue(t, mfs, "gdiag_sched_gomaxprocs", nil); got < 1 {
		t.Errorf("gdiag_sched_gomaxprocs = %g; want ≥ 1", got)
	}
	// Every family we own is in the catalogue.
	for name := range families {
		if strings.HasPrefix(name, "gdiag_") {
			if _, ok := schedstats.Lookup(name); !ok {
				t.Errorf("live family %s is not in the catalogue", name)
			}
		}
	}
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "gdiag_") {
			t.Errorf("lint: %s: %s", p.Metric, p.Text)
		}
	}
}

// TestConcurrentScrapes scrapes from several goroutines (for -race).
func TestConcurrentScrapes(t *testing.T) {
	reg, _ := fixedRegistry(t, fullSnapshot(), fakeStats("http", "batch"), 0)
	done := make(chan error)
	for range 4 {
		go func() {
			var err error
			for range 20 {
				if _, err = reg.Gather(); err != nil {
					break
				}
			}
			done <- err
		}()
	}
	deadline := time.After(30 * time.Second)
	for range 4 {
		select {
		case err := <-done:
			if err != nil {
				t.Error(err)
			}
		case <-deadline:
			t.Fatal("scrapes did not finish in 30s")
		}
	}
}
