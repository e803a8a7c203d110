package probes_test

import (
	"runtime"
	"runtime/metrics"
	"slices"
	"testing"

	"github.com/gdiag/gdiag/probes"
	"github.com/gdiag/gdiag/schedstats"
)

// TestReadPausesSplit checks that the reader fills each pause histogram
// from its own runtime metric, the stopping times apart from the totals:
// after some GC and non-GC pauses, each of the four histograms of a
// snapshot lies, bucket by bucket, between two direct reads of its metric
// taken before and after it (they only grow), with the same bounds.
func TestReadPausesSplit(t *testing.T) {
	for range 3 {
		runtime.GC() // GC pauses
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms) // a non-GC pause
	}
	names := []string{
		"/sched/pauses/total/gc:seconds", "/sched/pauses/total/other:seconds",
		"/sched/pauses/stopping/gc:seconds", "/sched/pauses/stopping/other:seconds",
	}
	direct := func() []metrics.Float64Histogram {
		samples := make([]metrics.Sample, len(names))
		for i, n := range names {
			samples[i].Name = n
		}
		metrics.Read(samples)
		out := make([]metrics.Float64Histogram, len(names))
		for i, s := range samples {
			if s.Value.Kind() != metrics.KindFloat64Histogram {
				t.Fatalf("runtime/metrics has no histogram %s", names[i])
			}
			h := s.Value.Float64Histogram()
			out[i] = metrics.Float64Histogram{Buckets: slices.Clone(h.Buckets), Counts: slices.Clone(h.Counts)}
		}
		return out
	}
	before := direct()
	var s schedstats.Snapshot
	probes.Read(&s)
	after := direct()
	got := []schedstats.Histogram{s.GCPauses, s.OtherPauses, s.GCStopping, s.OtherStopping}
	for i, h := range got {
		if !slices.Equal(h.Bounds, before[i].Buckets) {
			t.Errorf("%s: bounds differ from the runtime's (%d against %d)", names[i], len(h.Bounds), len(before[i].Buckets))
			continue
		}
		if len(h.Counts) != len(before[i].Counts) {
			t.Errorf("%s: %d buckets; the runtime has %d", names[i], len(h.Counts), len(before[i].Counts))
			continue
		}
		for b, c := range h.Counts {
			if c < before[i].Counts[b] || c > after[i].Counts[b] {
				t.Errorf("%s bucket %d: the snapshot has %d; the runtime had %d before and %d after", names[i], b, c, before[i].Counts[b], after[i].Counts[b])
			}
		}
		if h.Count() == 0 {
			t.Errorf("%s: empty after 3 collections and 3 ReadMemStats", names[i])
		}
	}
	if s.Sources.Pauses != schedstats.SourceRuntimeMetrics {
		t.Errorf("Sources.Pauses = %v; want runtime/metrics", s.Sources.Pauses)
	}
}
