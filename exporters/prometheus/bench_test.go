package prometheus_test

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	gdiagprom "github.com/gdiag/gdiag/exporters/prometheus"
	"github.com/gdiag/gdiag/pool"
	"github.com/gdiag/gdiag/schedstats"
)

// BenchmarkScrape gathers a registry holding both collectors over a full
// scheduler snapshot and 20 live pools that have run tasks.
func BenchmarkScrape(b *testing.B) {
	ctx := context.Background()
	pools := make([]*pool.Pool, 20)
	for i := range pools {
		p := pool.New(fmt.Sprintf("pool%02d", i), pool.WithoutRegistry(), pool.WithStatsSampling(1))
		for range 100 {
			_ = p.Submit(ctx, func(context.Context) error { return nil })
		}
		pools[i] = p
	}
	defer func() {
		for _, p := range pools {
			_ = p.Stop(ctx)
		}
	}()
	reg := prometheus.NewRegistry()
	err := gdiagprom.Register(reg, gdiagprom.Options{
		Read:  readFixed(fullSnapshot()),
		Pools: func() []*pool.Pool { return pools },
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := reg.Gather(); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzSchedHistogram feeds arbitrary histogram layouts to the scheduler
// collector: it must never panic, and must preserve the count of every
// bucket that has bounds.
func FuzzSchedHistogram(f *testing.F) {
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
		snap := schedstats.Snapshot{SchedLatency: h, Sources: schedstats.Sources{Latency: schedstats.SourceRuntimeMetrics}}
		reg := prometheus.NewPedanticRegistry()
		reg.MustRegister(gdiagprom.NewSchedCollector(readFixed(snap)))
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		if len(mfs) != 1 || mfs[0].GetMetric()[0].GetHistogram().GetSampleCount() != want {
			t.Fatalf("families %v; want one histogram of count %d", mfs, want)
		}
	})
}
