package prometheus_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	gdiagprom "github.com/gdiag/gdiag/exporters/prometheus"
	"github.com/gdiag/gdiag/pool"
	"github.com/gdiag/gdiag/schedstats"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// fixedRegistry registers both collectors over fixed data.
func fixedRegistry(t testing.TB, snap schedstats.Snapshot, pools []pool.Stats, maxPools int) (*prometheus.Registry, *gdiagprom.PoolCollector) {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	pc := gdiagprom.NewPoolCollectorStats(func() []pool.Stats { return pools }, maxPools)
	if err := reg.Register(gdiagprom.NewSchedCollector(readFixed(snap))); err != nil {
		t.Fatal(err)
	}
	if err := reg.Register(pc); err != nil {
		t.Fatal(err)
	}
	return reg, pc
}

func expose(t *testing.T, g prometheus.Gatherer) []byte {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	// testutil.GatherAndFormat keeps only the families it is given by
	// name, so encode everything here.
	var b bytes.Buffer
	enc := expfmt.NewEncoder(&b, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			t.Fatalf("Encode: %v", err)
		}
	}
	return b.Bytes()
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("exposition differs from %s (run go test -update after checking the change):\n%s", path, lineDiff(string(want), string(got)))
	}
}

// lineDiff lists the lines only in want (-) or only in got (+).
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for _, l := range w {
		if !slices.Contains(g, l) {
			b.WriteString("- " + l + "\n")
		}
	}
	for _, l := range g {
		if !slices.Contains(w, l) {
			b.WriteString("+ " + l + "\n")
		}
	}
	return b.String()
}

func TestGolden(t *testing.T) {
	runtimeOnly := fullSnapshot()
	runtimeOnly.LocalRunQueues = nil
	runtimeOnly.Sources.Procs = schedstats.SourceRuntimeMetrics
	runtimeOnly.Sources.Threads = schedstats.SourceRuntimeMetrics
	runtimeOnly.Sources.RunQueues = schedstats.SourceNone
	for _, tc := range []struct {
		file  string
		snap  schedstats.Snapshot
		pools []pool.Stats
	}{
		{"full.golden", fullSnapshot(), withControls(fakeStats("http", "batch"))},
		{"runtime_metrics_only.golden", runtimeOnly, nil},
		{"empty.golden", schedstats.Snapshot{}, nil},
	} {
		t.Run(tc.file, func(t *testing.T) {
			reg, _ := fixedRegistry(t, tc.snap, tc.pools, 0)
			golden(t, tc.file, expose(t, reg))
		})
	}
}

func labelNames(m *dto.Metric) []string {
	var out []string
	for _, lp := range m.GetLabel() {
		out = append(out, lp.GetName())
	}
	return out
}

var typeOf = map[dto.MetricType]schedstats.MetricType{
	dto.MetricType_GAUGE:     schedstats.TypeGauge,
	dto.MetricType_COUNTER:   schedstats.TypeCounter,
	dto.MetricType_HISTOGRAM: schedstats.TypeHistogram,
}

// TestCatalogue checks the exposition against the schedstats catalogue in
// both directions.
func TestCatalogue(t *testing.T) {
	reg, _ := fixedRegistry(t, fullSnapshot(), withControls(fakeStats("http", "batch")), 0)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	emitted := map[string]bool{}
	for _, mf := range mfs {
		name := mf.GetName()
		emitted[name] = true
		m, ok := schedstats.Lookup(name)
		if !ok {
			t.Errorf("family %s is not in the catalogue", name)
			continue
		}
		if got, ok := typeOf[mf.GetType()]; !ok || got != m.Type {
			t.Errorf("family %s has type %v; catalogue says %v", name, mf.GetType(), m.Type)
		}
		if mf.GetHelp() != m.Help {
			t.Errorf("family %s help = %q; want %q", name, mf.GetHelp(), m.Help)
		}
		want := slices.Clone(m.Labels)
		slices.Sort(want) // the registry sorts label pairs by name
		for _, metric := range mf.GetMetric() {
			if got := labelNames(metric); !slices.Equal(got, want) {
				t.Errorf("family %s has labels %v; catalogue says %v", name, got, m.Labels)
				break
			}
		}
	}
	for _, m := range schedstats.Catalogue() {
		if !emitted[m.Name] {
			t.Errorf("catalogued metric %s was not emitted from a full snapshot", m.Name)
		}
	}
}

func TestLint(t *testing.T) {
	for name, c := range map[string]prometheus.Collector{
		"sched": gdiagprom.NewSchedCollector(readFixed(fullSnapshot())),
		"pool":  gdiagprom.NewPoolCollectorStats(func() []pool.Stats { return withControls(fakeStats("http", "batch")) }, 0),
	} {
		problems, err := testutil.CollectAndLint(c)
		if err != nil {
			t.Fatalf("CollectAndLint(%s): %v", name, err)
		}
		for _, p := range problems {
			t.Errorf("CollectAndLint(%s): %s: %s", name, p.Metric, p.Text)
		}
	}
}

// TestMaxPools checks that the cap and duplicate names bound the pool label
// values, and that what was left out is reported.
func TestMaxPools(t *testing.T) {
	var logs bytes.Buffer
	stats := fakeStats("a", "b", "c", "b", "d", "e")
	reg := prometheus.NewPedanticRegistry()
	if err := gdiagprom.Register(reg, gdiagprom.Options{
		Read:     readFixed(schedstats.Snapshot{}),
		Pools:    func() []*pool.Pool { return nil },
		MaxPools: 3,
	}); err != nil {
		t.Fatal(err)
	}
	pc := gdiagprom.NewPoolCollectorStats(func() []pool.Stats { return stats }, 3)
	gdiagprom.SetLogger(pc, slog.New(slog.NewTextHandler(&logs, nil)))
	reg2 := prometheus.NewPedanticRegistry()
	reg2.MustRegister(pc)
	for range 2 { // the second scrape must not log again
		mfs, err := reg2.Gather()
		if err != nil {
			t.Fatal(err)
		}
		pools := map[string]bool{}
		for _, mf := range mfs {
			for _, m := range mf.GetMetric() {
				for _, lp := range m.GetLabel() {
					if lp.GetName() == "pool" {
						pools[lp.GetValue()] = true
					}
				}
			}
		}
		if got := slices.Sorted(func(yield func(string) bool) {
			for p := range pools {
				if !yield(p) {
					return
				}
			}
		}); !slices.Equal(got, []string{"a", "b", "c"}) {
			t.Errorf("exported pools = %v; want [a b c]", got)
		}
		if got := pc.Dropped(); got != 3 {
			t.Errorf("Dropped() = %d; want 3 (one duplicate, two over the cap)", got)
		}
	}
	if n := strings.Count(logs.String(), "pools left out"); n != 1 {
		t.Errorf("warnings logged = %d; want 1:\n%s", n, logs.String())
	}
	// The default cap is DefaultMaxPools.
	many := make([]string, gdiagprom.DefaultMaxPools+5)
	for i := range many {
		many[i] = "p" + string(rune('A'+i/26)) + string(rune('a'+i%26))
	}
	pc = gdiagprom.NewPoolCollectorStats(func() []pool.Stats { return fakeStats(many...) }, 0)
	if got, want := testutil.CollectAndCount(pc, "gdiag_pool_workers"), gdiagprom.DefaultMaxPools; got != want {
		t.Errorf("gdiag_pool_workers series with the default cap = %d; want %d", got, want)
	}
}

// TestMaxKeys checks the per-pool cap on gdiag_pool_key_running, the
// opt-out, and that a key Prometheus refuses is left out, not fatal.
func TestMaxKeys(t *testing.T) {
	keys := make([]pool.KeyStats, pool.MaxStatsKeys)
	for i := range keys {
		keys[i] = pool.KeyStats{Key: fmt.Sprintf("k%d", i), Running: len(keys) - i}
	}
	bad := slices.Clone(keys[:3])
	bad[1].Key = "bad\xff"
	stats := func(ks []pool.KeyStats) []pool.Stats {
		st := fakeStats("a", "b")
		for i := range st {
			st[i].Keys = ks
		}
		return st
	}
	tests := []struct {
		name        string
		maxKeys     int
		keys        []pool.KeyStats
		wantKeys    []string // exported for each pool, in any order
		wantDropped int      // over both pools
	}{
		{"default", 0, keys, []string{"k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9"}, 0},
		{"cap 3", 3, keys, []string{"k0", "k1", "k2"}, 14},
		{"above Stats", 50, keys[:4], []string{"k0", "k1", "k2", "k3"}, 0},
		{"none", -1, keys[:4], nil, 8},
		{"invalid UTF-8", 0, bad, []string{"k0", "k2"}, 2},
		{"no keys", 0, nil, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pc := gdiagprom.NewPoolCollectorStats(func() []pool.Stats { return stats(tt.keys) }, 0)
			if tt.maxKeys != 0 {
				gdiagprom.SetMaxKeys(pc, tt.maxKeys)
			}
			reg := prometheus.NewPedanticRegistry()
			reg.MustRegister(pc)
			mfs, err := reg.Gather()
			if err != nil {
				t.Fatalf("Gather: %v", err)
			}
			got := map[string][]string{}
			for _, mf := range mfs {
				if mf.GetName() != "gdiag_pool_key_running" {
					continue
				}
				for _, m := range mf.GetMetric() {
					var p, k string
					for _, lp := range m.GetLabel() {
						switch lp.GetName() {
						case "pool":
							p = lp.GetValue()
						case "key":
							k = lp.GetValue()
						}
					}
					got[p] = append(got[p], k)
				}
			}
			for _, p := range []string{"a", "b"} {
				slices.Sort(got[p])
				if !slices.Equal(got[p], tt.wantKeys) {
					t.Errorf("pool %s keys = %v; want %v", p, got[p], tt.wantKeys)
				}
			}
			if got := pc.DroppedKeys(); got != tt.wantDropped {
				t.Errorf("DroppedKeys() = %d; want %d", got, tt.wantDropped)
			}
		})
	}
	// Register passes Options.MaxKeys on, to a live pool's keys.
	p := pool.New("live-keys", pool.WithMaxWorkers(2), pool.WithoutRegistry())
	gate, started := make(chan struct{}), make(chan struct{}, 2)
	for _, k := range []string{"x", "y"} {
		if err := p.Go(context.Background(), pool.Task{Key: k, Fn: func(context.Context) error { started <- struct{}{}; <-gate; return nil }}); err != nil {
			t.Fatal(err)
		}
	}
	<-started
	<-started
	reg := prometheus.NewPedanticRegistry()
	if err := gdiagprom.Register(reg, gdiagprom.Options{
		Read:    readFixed(schedstats.Snapshot{}),
		Pools:   func() []*pool.Pool { return []*pool.Pool{p} },
		MaxKeys: 1,
	}); err != nil {
		t.Fatal(err)
	}
	if got := testutil.CollectAndCount(reg, "gdiag_pool_key_running"); got != 1 {
		t.Errorf("gdiag_pool_key_running series with MaxKeys 1 = %d; want 1", got)
	}
	close(gate)
	if err := p.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if gdiagprom.DefaultMaxKeys != pool.MaxStatsKeys {
		t.Errorf("DefaultMaxKeys = %d; want pool.MaxStatsKeys (%d)", gdiagprom.DefaultMaxKeys, pool.MaxStatsKeys)
	}
}

func TestRegisterErrors(t *testing.T) {
	if err := gdiagprom.Register(nil, gdiagprom.Options{}); !errors.Is(err, gdiagprom.ErrNilRegisterer) {
		t.Errorf("Register(nil) = %v; want ErrNilRegisterer", err)
	}
	reg := prometheus.NewRegistry()
	opts := gdiagprom.Options{Read: readFixed(fullSnapshot()), Pools: func() []*pool.Pool { return nil }}
	if err := gdiagprom.Register(reg, opts); err != nil {
		t.Fatalf("first Register = %v", err)
	}
	err := gdiagprom.Register(reg, opts)
	var are prometheus.AlreadyRegisteredError
	if !errors.As(err, &are) {
		t.Errorf("second Register = %v; want an AlreadyRegisteredError", err)
	}
}

func TestNewPanics(t *testing.T) {
	for name, f := range map[string]func(){
		"NewSchedCollector(nil)": func() { gdiagprom.NewSchedCollector(nil) },
		"NewPoolCollector(nil)":  func() { gdiagprom.NewPoolCollector(nil, 0) },
	} {
		func() {
			defer func() {
				if r := recover(); r == nil {
					t.Errorf("%s did not panic", name)
				}
			}()
			f()
		}()
	}
}

// histogramOf returns the first histogram of the named family with the given
// label value (or any, when value is empty).
func histogramOf(t *testing.T, g prometheus.Gatherer, name, value string) *dto.Histogram {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if value == "" || slices.ContainsFunc(m.GetLabel(), func(lp *dto.LabelPair) bool { return lp.GetValue() == value }) {
				return m.GetHistogram()
			}
		}
	}
	t.Fatalf("no histogram %s{%s}", name, value)
	return nil
}

// TestRebucket checks the re-bucketing of scheduler histograms against a
// direct computation over the runtime buckets.
func TestRebucket(t *testing.T) {
	snap := fullSnapshot()
	reg, _ := fixedRegistry(t, snap, nil, 0)
	for _, tc := range []struct {
		label string
		name  string
		h     schedstats.Histogram
	}{
		{"", "gdiag_sched_latency_seconds", snap.SchedLatency},
		{"gc", "gdiag_sched_pause_seconds", snap.GCPauses},
		{"other", "gdiag_sched_pause_seconds", snap.OtherPauses},
		{"gc", "gdiag_sched_pause_stopping_seconds", snap.GCStopping},
		{"other", "gdiag_sched_pause_stopping_seconds", snap.OtherStopping},
	} {
		got := histogramOf(t, reg, tc.name, tc.label)
		if got.GetSampleCount() != tc.h.Count() {
			t.Errorf("%s{%s} count = %d; want %d", tc.name, tc.label, got.GetSampleCount(), tc.h.Count())
		}
		bounds := gdiagprom.SchedBuckets()
		if len(got.GetBucket()) != len(bounds) {
			t.Fatalf("%s{%s} has %d buckets; want %d", tc.name, tc.label, len(got.GetBucket()), len(bounds))
		}
		var prev uint64
		for i, b := range got.GetBucket() {
			if b.GetUpperBound() != bounds[i] {
				t.Errorf("bucket %d bound = %g; want %g", i, b.GetUpperBound(), bounds[i])
			}
			// Every runtime bucket whose upper edge is at or below the bound.
			var want uint64
			for j, n := range tc.h.Counts {
				if tc.h.Bounds[j+1] <= bounds[i] {
					want += n
				}
			}
			if b.GetCumulativeCount() != want {
				t.Errorf("%s{%s} le=%g = %d; want %d", tc.name, tc.label, bounds[i], b.GetCumulativeCount(), want)
			}
			if b.GetCumulativeCount() < prev {
				t.Errorf("%s{%s} le=%g is not cumulative", tc.name, tc.label, bounds[i])
			}
			prev = b.GetCumulativeCount()
		}
		// The sum estimate lies between the sums of lower and upper edges.
		var lo, hi float64
		for j, n := range tc.h.Counts {
			l, h := max(tc.h.Bounds[j], 0), tc.h.Bounds[j+1]
			if math.IsInf(h, 1) {
				h = l
			}
			lo += float64(n) * l
			hi += float64(n) * max(h, 0)
		}
		if s := got.GetSampleSum(); s < lo || s > hi {
			t.Errorf("%s{%s} sum = %g; want within [%g, %g]", tc.name, tc.label, s, lo, hi)
		}
	}
}

// TestPoolHistogram checks that pool histograms keep their bounds, in seconds.
func TestPoolHistogram(t *testing.T) {
	stats := fakeStats("http")
	reg, _ := fixedRegistry(t, schedstats.Snapshot{}, stats, 0)
	h := histogramOf(t, reg, "gdiag_pool_run_seconds", "http")
	rt := stats[0].RunTime
	if h.GetSampleCount() != rt.Count || h.GetSampleSum() != rt.Sum.Seconds() {
		t.Errorf("run histogram count, sum = %d, %g; want %d, %g", h.GetSampleCount(), h.GetSampleSum(), rt.Count, rt.Sum.Seconds())
	}
	var cum uint64
	for i, b := range h.GetBucket() {
		cum += rt.Counts[i]
		if b.GetUpperBound() != rt.Bounds[i].Seconds() || b.GetCumulativeCount() != cum {
			t.Errorf("bucket %d = le %g: %d; want le %g: %d", i, b.GetUpperBound(), b.GetCumulativeCount(), rt.Bounds[i].Seconds(), cum)
		}
	}
}
