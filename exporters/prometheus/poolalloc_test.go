package prometheus_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	gdiagprom "github.com/gdiag/gdiag/exporters/prometheus"
	"github.com/gdiag/gdiag/pool"
)

// TestIdlePoolsCollectWithoutAllocating checks that collecting 20 real
// pools that ran no task since the last scrape allocates nothing: their
// Stats are refilled in place (pool.Pool.StatsInto) and their series sent
// again. Only the registry's own copies of the series are left to a scrape.
func TestIdlePoolsCollectWithoutAllocating(t *testing.T) {
	ctx := context.Background()
	pools := make([]*pool.Pool, 20)
	for i := range pools {
		// Workers that retired mid-test would change the pool: they stay.
		p := pool.New(fmt.Sprintf("pool%02d", i), pool.WithoutRegistry(), pool.WithIdleTimeout(time.Hour), pool.WithStatsSampling(1))
		defer p.Stop(ctx)
		for range 10 {
			if err := p.Submit(ctx, func(context.Context) error { return nil }); err != nil {
				t.Fatal(err)
			}
		}
		pools[i] = p
	}
	for _, p := range pools { // wait until every task has ended and been timed
		for s := p.Stats(); s.Completed != 10 || s.Running != 0 || s.Idle != s.Workers || s.RunTime.Count != 10 || s.QueueWait.Count != 10; s = p.Stats() {
			time.Sleep(time.Millisecond)
		}
		for !reflect.DeepEqual(p.Stats(), p.Stats()) { // a histogram's sum follows its count
			time.Sleep(time.Millisecond)
		}
	}
	pc := gdiagprom.NewPoolCollector(func() []*pool.Pool { return pools }, 0)
	ch := make(chan prometheus.Metric, 2000)
	collect := func() {
		pc.Collect(ch)
		for len(ch) > 0 {
			<-ch
		}
	}
	collect()
	if allocs := testing.AllocsPerRun(20, collect); allocs != 0 {
		t.Errorf("collecting 20 idle pools: %v allocations; want 0", allocs)
	}
}
