package prometheus_test

import (
	"bytes"
	"reflect"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	gdiagprom "github.com/gdiag/gdiag/exporters/prometheus"
	"github.com/gdiag/gdiag/pool"
)

// encode writes gathered families as exposition text.
func encode(t *testing.T, mfs []*dto.MetricFamily) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := expfmt.NewEncoder(&b, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

// poolRegistry registers a PoolCollector over *stats, read at each scrape.
func poolRegistry(stats *[]pool.Stats) *prometheus.Registry {
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(gdiagprom.NewPoolCollectorStats(func() []pool.Stats {
		out := make([]pool.Stats, len(*stats))
		for i, st := range *stats {
			out[i] = st
			out[i].QueueWait = cloneHistogram(st.QueueWait)
			out[i].RunTime = cloneHistogram(st.RunTime)
			out[i].Keys = append([]pool.KeyStats(nil), st.Keys...)
			out[i].Breakers = append([]pool.BreakerStats(nil), st.Breakers...)
		}
		return out
	}, 0))
	return reg
}

func cloneHistogram(h pool.Histogram) pool.Histogram {
	h.Bounds = append([]time.Duration(nil), h.Bounds...)
	h.Counts = append([]uint64(nil), h.Counts...)
	return h
}

// statsNotExported are the fields of pool.Stats that no pool series shows.
var statsNotExported = map[string]bool{"Name": true, "MinWorkers": true, "KeyLimit": true, "Stopped": true,
	"Adaptive": true, "ShedTarget": true}

// TestPoolChangesShow changes each field of pool.Stats in turn, the parts
// of histograms and keys included, and checks that the next scrape shows
// the change: a pool whose series are sent again because nothing changed
// must never hide a change. It walks pool.Stats by reflection, so that a
// field added later fails here until the collector exports it or the test
// lists it as not exported.
func TestPoolChangesShow(t *testing.T) {
	typ := reflect.TypeFor[pool.Stats]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		if statsNotExported[f.Name] {
			continue
		}
		var changes map[string]func(*pool.Stats)
		switch f.Type {
		case reflect.TypeFor[int](), reflect.TypeFor[uint64]():
			changes = map[string]func(*pool.Stats){"+1": func(st *pool.Stats) {
				v := reflect.ValueOf(st).Elem().Field(i)
				if v.CanInt() {
					v.SetInt(v.Int() + 1)
				} else {
					v.SetUint(v.Uint() + 1)
				}
			}}
		case reflect.TypeFor[pool.Histogram]():
			h := func(st *pool.Stats) *pool.Histogram {
				return reflect.ValueOf(st).Elem().Field(i).Addr().Interface().(*pool.Histogram)
			}
			changes = map[string]func(*pool.Stats){
				"count in a low bucket": func(st *pool.Stats) { h(st).Counts[1]++; h(st).Count++ },
				"count over the bounds": func(st *pool.Stats) { h(st).Counts[len(h(st).Counts)-1]++; h(st).Count++ },
				"sum":                   func(st *pool.Stats) { h(st).Sum += time.Millisecond },
				"bounds":                func(st *pool.Stats) { h(st).Bounds[3] += time.Microsecond },
			}
		case reflect.TypeFor[[]pool.KeyStats]():
			changes = map[string]func(*pool.Stats){
				"running":   func(st *pool.Stats) { st.Keys[0].Running++ },
				"key":       func(st *pool.Stats) { st.Keys[1].Key = "tenant-c" },
				"one more":  func(st *pool.Stats) { st.Keys = append(st.Keys, pool.KeyStats{Key: "tenant-d", Running: 1}) },
				"one fewer": func(st *pool.Stats) { st.Keys = st.Keys[:1] },
			}
		case reflect.TypeFor[bool]():
			changes = map[string]func(*pool.Stats){"flip": func(st *pool.Stats) {
				v := reflect.ValueOf(st).Elem().Field(i)
				v.SetBool(!v.Bool())
			}}
		case reflect.TypeFor[pool.Rate]():
			r := func(st *pool.Stats) *pool.Rate {
				return reflect.ValueOf(st).Elem().Field(i).Addr().Interface().(*pool.Rate)
			}
			changes = map[string]func(*pool.Stats){
				"rate": func(st *pool.Stats) { r(st).PerSecond++ },
				"none": func(st *pool.Stats) { *r(st) = pool.Rate{} },
			}
		case reflect.TypeFor[pool.Refusals]():
			changes = map[string]func(*pool.Stats){}
			rt := reflect.TypeFor[pool.Refusals]()
			for j := range rt.NumField() {
				changes[rt.Field(j).Name] = func(st *pool.Stats) {
					v := reflect.ValueOf(&st.Refused).Elem().Field(j)
					v.SetUint(v.Uint() + 1)
				}
			}
		case reflect.TypeFor[[]pool.BreakerStats]():
			changes = map[string]func(*pool.Stats){
				"state":     func(st *pool.Stats) { st.Breakers[1].State = pool.BreakerHalfOpen },
				"key":       func(st *pool.Stats) { st.Breakers[1].Key = "tenant-c" },
				"one more":  func(st *pool.Stats) { st.Breakers = append(st.Breakers, pool.BreakerStats{Key: "tenant-d"}) },
				"one fewer": func(st *pool.Stats) { st.Breakers = st.Breakers[:1] },
			}
		default:
			t.Errorf("pool.Stats.%s has type %s, which this test cannot change: export it and teach the test, or list it in statsNotExported", f.Name, f.Type)
			continue
		}
		for name, change := range changes {
			t.Run(f.Name+"/"+name, func(t *testing.T) {
				stats := withControls(fakeStats("http", "batch"))
				reg := poolRegistry(&stats)
				first := encode(t, gather(t, reg))
				if again := encode(t, gather(t, reg)); !bytes.Equal(first, again) {
					t.Fatalf("two scrapes of unchanged pools differ:\n%s", lineDiff(string(first), string(again)))
				}
				change(&stats[1])
				got := encode(t, gather(t, reg))
				if bytes.Equal(first, got) {
					t.Fatalf("changing %s of a pool did not change the scrape", f.Name)
				}
				// What the scrape shows is what a new collector shows.
				fresh := encode(t, gather(t, poolRegistry(&stats)))
				if !bytes.Equal(got, fresh) {
					t.Errorf("after changing %s, the scrape differs from a new collector's:\n%s", f.Name, lineDiff(string(fresh), string(got)))
				}
			})
		}
	}
}

func gather(t *testing.T, g prometheus.Gatherer) []*dto.MetricFamily {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	return mfs
}

// TestGatheredStaysPut checks that what a Gather returned does not change
// when later scrapes see other numbers: series are shared between scrapes
// only while they are identical.
func TestGatheredStaysPut(t *testing.T) {
	stats := fakeStats("http", "batch")
	reg := poolRegistry(&stats)
	sched := gdiagprom.NewSchedCollector(readFixed(fullSnapshot()))
	reg.MustRegister(sched)
	first := gather(t, reg)
	want := encode(t, first)
	gather(t, reg) // unchanged: the same series again
	stats[0].Completed += 5
	stats[0].RunTime.Counts[7]++
	stats[1].Keys[0].Running = 9
	if got := encode(t, gather(t, reg)); bytes.Equal(got, want) {
		t.Fatal("the changed pools did not change the scrape")
	}
	if got := encode(t, first); !bytes.Equal(got, want) {
		t.Errorf("a later scrape changed what the first Gather returned:\n%s", lineDiff(string(want), string(got)))
	}
}

// TestScrapeAllocs checks the allocation goal of a scrape: the scheduler
// collector and 20 pools, busy (every pool changed since the last scrape)
// or idle, allocate no more than client_golang's Go collector with every
// runtime metric on. Allocation counts, unlike times, do not depend on the
// load of the machine. BenchmarkScrape measures the times.
func TestScrapeAllocs(t *testing.T) {
	goReg := prometheus.NewRegistry()
	goReg.MustRegister(collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(collectors.MetricsAll)))
	limit := testing.AllocsPerRun(20, func() { _, _ = goReg.Gather() })

	idle, stop := scrapeRegistry(t)
	defer stop()
	for name, reg := range map[string]prometheus.Gatherer{"idle": idle, "busy": busyRegistry(t)} {
		got := testing.AllocsPerRun(20, func() {
			if _, err := reg.Gather(); err != nil {
				t.Fatal(err)
			}
		})
		t.Logf("%s: %.0f allocations a scrape; the Go collector with MetricsAll %.0f", name, got, limit)
		if got > limit {
			t.Errorf("%s scrape of 20 pools: %.0f allocations; want at most the Go collector's %.0f", name, got, limit)
		}
	}
	// Overload controls add series (13 a pool with every control, in
	// withControls), each of which the registry's Gather copies: at most 3
	// allocations a series, and nothing for a pool without them (above).
	plain, controlled := busyRegistry(t), busyRegistryOf(t, func(names ...string) []pool.Stats { return withControls(fakeStats(names...)) })
	count := func(reg prometheus.Gatherer) (allocs float64, series int) {
		allocs = testing.AllocsPerRun(20, func() { _, _ = reg.Gather() })
		for _, mf := range gather(t, reg) {
			series += len(mf.GetMetric())
		}
		return allocs, series
	}
	pa, ps := count(plain)
	ca, cs := count(controlled)
	t.Logf("busy with every control: %.0f allocations for %d more series", ca-pa, cs-ps)
	if cs <= ps || ca-pa > 3*float64(cs-ps) {
		t.Errorf("every control on 20 busy pools: %.0f more allocations for %d more series; want at most 3 a series", ca-pa, cs-ps)
	}
}
