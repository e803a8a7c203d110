package probes

import (
	"slices"
	"strings"
	"testing"

	"github.com/gdiag/gdiag/schedstats"
)

// go125Names stands for Go 1.25's runtime/metrics: the metrics new in Go
// 1.26 (threads, goroutine states, goroutines created) are missing.
func go125Names() [mCount]string {
	names := metricNames
	for _, i := range []int{mRunning, mRunnable, mWaiting, mNotInGo, mCreated, mThreads} {
		names[i] = "/gdiag-test/not-in-go1.25/" + strings.TrimPrefix(names[i], "/")
	}
	return names
}

// TestFallbackOnOlderToolchain: under Go 1.25 the fallback reader must
// report the thread count, goroutines created and the goroutine states
// as unavailable (Sources none, listed as missing), not as zeros labelled
// runtime/metrics. (The Go 1.25 toolchain itself cannot be fetched on
// this machine, so its metric set stands in: an unknown name reads as
// KindBad, exactly as a metric an older runtime lacks.)
func TestFallbackOnOlderToolchain(t *testing.T) {
	names := go125Names()
	r := newReader(nil, nil) // no mirror, as on any toolchain but Go 1.26
	r.m = newMetricsReaderOf(names)
	var s schedstats.Snapshot
	r.Read(&s)
	if s.Sources.Threads != schedstats.SourceNone || s.Sources.Goroutines != schedstats.SourceNone {
		t.Errorf("Sources = %+v; want threads and goroutines none: the metrics are missing", s.Sources)
	}
	for name, src := range map[string]schedstats.Source{"procs": s.Sources.Procs, "latency": s.Sources.Latency, "pauses": s.Sources.Pauses, "mutex": s.Sources.Mutex} {
		if src != schedstats.SourceRuntimeMetrics {
			t.Errorf("Sources.%s = %v; want runtime/metrics, which Go 1.25 has", name, src)
		}
	}
	if s.GOMAXPROCS == 0 || len(s.SchedLatency.Counts) == 0 {
		t.Errorf("GOMAXPROCS %d, latency %d buckets; want what Go 1.25 offers filled", s.GOMAXPROCS, len(s.SchedLatency.Counts))
	}
	missing := missingMetrics(names[:])
	if len(missing) != 6 || !slices.Contains(missing, names[mThreads]) {
		t.Errorf("missingMetrics = %v; want the six metrics Go 1.25 lacks", missing)
	}
	// On this toolchain nothing is missing, and every part is filled.
	if m := missingMetrics(metricNames[:]); len(m) != 0 {
		t.Errorf("missingMetrics on %s = %v; want none", "this toolchain", m)
	}
	var now schedstats.Snapshot
	Read(&now)
	if now.Sources.Threads == schedstats.SourceNone || now.Sources.Goroutines == schedstats.SourceNone {
		t.Errorf("Sources on this toolchain = %+v; want every part filled", now.Sources)
	}
}
