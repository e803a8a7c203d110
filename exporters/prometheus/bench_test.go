package prometheus_test

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	gdiagprom "github.com/gdiag/gdiag/exporters/prometheus"
	"github.com/gdiag/gdiag/internal/cputime"
	"github.com/gdiag/gdiag/pool"
	"github.com/gdiag/gdiag/schedstats"
)

// BenchmarkScrape gathers a registry holding both collectors over a full
// scheduler snapshot and 20 pools, and, in the same run for comparison, a
// registry holding client_golang's Go collector with every runtime metric
// on (lib=go-collector-all). In lib=gdiag the pools have run tasks and are
// idle between scrapes, as most of a service's pools are at any moment,
// while the scheduler moves (movingSnapshot: the latency and GC pause
// histograms change at every scrape); in lib=gdiag-busy every pool's
// counters and histograms and every scheduler histogram change between
// scrapes, so that no series can be sent again. lib=registry-floor is the
// registry alone: it gathers the same series as lib=gdiag, built once
// beforehand, and so measures what client_golang's registry spends on
// that many series whatever the collectors do.
func BenchmarkScrape(b *testing.B) {
	b.Run("lib=gdiag", func(b *testing.B) {
		reg, stop := scrapeRegistry(b)
		defer stop()
		gatherLoop(b, reg)
	})
	b.Run("lib=gdiag-busy", func(b *testing.B) {
		gatherLoop(b, busyRegistry(b))
	})
	b.Run("lib=registry-floor", func(b *testing.B) {
		pools, stop := benchPools(b)
		defer stop()
		gatherLoop(b, replayRegistry(b,
			gdiagprom.NewSchedCollector(readFixed(fullSnapshot())),
			gdiagprom.NewPoolCollector(func() []*pool.Pool { return pools }, 0)))
	})
	b.Run("lib=go-collector-all", func(b *testing.B) {
		reg := prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(collectors.MetricsAll)))
		gatherLoop(b, reg)
	})
}

// replay is a collector that sends the same metrics at every scrape.
type replay struct {
	descs   []*prometheus.Desc
	metrics []prometheus.Metric
}

func (r *replay) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range r.descs {
		ch <- d
	}
}

func (r *replay) Collect(ch chan<- prometheus.Metric) {
	for _, m := range r.metrics {
		ch <- m
	}
}

// replayRegistry collects once from cs and returns a registry that sends
// what they sent.
func replayRegistry(tb testing.TB, cs ...prometheus.Collector) *prometheus.Registry {
	r := &replay{}
	ch := make(chan prometheus.Metric, 1000)
	go func() {
		defer close(ch)
		for _, c := range cs {
			c.Collect(ch)
		}
	}()
	seen := map[*prometheus.Desc]bool{}
	for m := range ch {
		r.metrics = append(r.metrics, m)
		if d := m.Desc(); !seen[d] {
			seen[d] = true
			r.descs = append(r.descs, d)
		}
	}
	out := prometheus.NewRegistry()
	if err := out.Register(r); err != nil {
		tb.Fatal(err)
	}
	return out
}

// busyRegistry registers both collectors over a moving scheduler snapshot
// (movingSnapshot, every histogram) and 20 pools whose statistics change at
// every scrape: each scrape sees one more completed task in every pool, in
// a different bucket of its histograms each time. The statistics are
// updated in place, histograms included, as pool.Pool.StatsInto updates
// those the collector keeps, so that the benchmark charges the scrape
// nothing for them either.
func busyRegistry(tb testing.TB) *prometheus.Registry { return busyRegistryOf(tb, fakeStats) }

// busyRegistryOf is busyRegistry with the 20 pools' statistics made by stats.
func busyRegistryOf(tb testing.TB, stats0 func(names ...string) []pool.Stats) *prometheus.Registry {
	names := make([]string, 20)
	for i := range names {
		names[i] = fmt.Sprintf("pool%02d", i)
	}
	base := stats0(names...)
	n := 0
	stats := func() []pool.Stats {
		n++
		for i := range base {
			st := &base[i]
			st.Completed++
			st.Submitted++
			for _, h := range [...]*pool.Histogram{&st.QueueWait, &st.RunTime} {
				h.Counts[n%len(h.Counts)]++
				h.Count++
			}
		}
		return base
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(gdiagprom.NewSchedCollector(movingSnapshot(true)))
	reg.MustRegister(gdiagprom.NewPoolCollectorStats(stats, 0))
	return reg
}

// movingSnapshot returns a ReadFunc of fullSnapshot in which, at every
// read, the goroutine counts move and the scheduling latency and the GC
// pause and stopping histograms gain an event, as in a service that
// collects garbage between two scrapes; with all, so do the histograms of
// the other stops of the world, which a service rarely makes.
func movingSnapshot(all bool) schedstats.ReadFunc {
	snap := fullSnapshot()
	n := 0
	return func(dst *schedstats.Snapshot) {
		n++
		hs := [...]*schedstats.Histogram{&snap.SchedLatency, &snap.GCPauses, &snap.GCStopping, &snap.OtherPauses, &snap.OtherStopping}
		moving := hs[:3]
		if all {
			moving = hs[:]
		}
		for _, h := range moving {
			h.Counts[80+n%80]++
		}
		snap.Goroutines.Total++
		snap.Goroutines.Runnable = n % 7
		snap.GoroutinesCreated++
		snap.CopyInto(dst)
	}
}

// gatherLoop gathers g b.N times. Besides the wall-clock time it reports
// the CPU time of the whole process per gather (cpu-ns/op), garbage
// collection included: on a shared machine the wall-clock time mostly
// measures the wait for a core.
func gatherLoop(b *testing.B, g prometheus.Gatherer) {
	b.ReportAllocs()
	start := cputime.Process()
	for b.Loop() {
		if _, err := g.Gather(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cputime.Process()-start)/float64(b.N), "cpu-ns/op")
}

// benchPools returns 20 pools that have run 100 tasks each; stop stops
// them.
func benchPools(tb testing.TB) (pools []*pool.Pool, stop func()) {
	ctx := context.Background()
	pools = make([]*pool.Pool, 20)
	for i := range pools {
		p := pool.New(fmt.Sprintf("pool%02d", i), pool.WithoutRegistry(), pool.WithStatsSampling(1))
		for range 100 {
			_ = p.Submit(ctx, func(context.Context) error { return nil })
		}
		pools[i] = p
	}
	return pools, func() {
		for _, p := range pools {
			_ = p.Stop(ctx)
		}
	}
}

// scrapeRegistry registers both collectors over a moving scheduler
// snapshot (movingSnapshot) and benchPools; stop stops the pools.
func scrapeRegistry(tb testing.TB) (reg *prometheus.Registry, stop func()) {
	pools, stop := benchPools(tb)
	reg = prometheus.NewRegistry()
	err := gdiagprom.Register(reg, gdiagprom.Options{
		Read:  movingSnapshot(false),
		Pools: func() []*pool.Pool { return pools },
	})
	if err != nil {
		stop()
		tb.Fatal(err)
	}
	return reg, stop
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
