package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gdiag/gdiag/apiv1"
	"github.com/gdiag/gdiag/pool"
)

// TestPrintFromTheWire decodes bodies as the agent sends them and checks
// the printed quantiles: the upper bounds of the buckets that hold them,
// and a first-bucket p50 that reads as that bucket's bound, not as the
// -Inf the runtime's histograms start with.
func TestPrintFromTheWire(t *testing.T) {
	const history = `{"interval":"1s","snapshots":[
	 {"time":"2026-01-01T00:00:00Z","gomaxprocs":2,"schedLatency":{"bounds":["-Inf",0,0.000001,0.001,"+Inf"],"counts":[0,0,0,0]}},
	 {"time":"2026-01-01T00:00:10Z","gomaxprocs":2,"schedLatency":{"bounds":["-Inf",0,0.000001,0.001,"+Inf"],"counts":[0,90,9,1]}}]}`
	var hist apiv1.History
	if err := json.Unmarshal([]byte(history), &hist); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	printHistory(&b, hist, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	if want := "scheduling latency: p50 ≤1µs, p99 ≤1ms over 100 events"; !strings.Contains(b.String(), want) {
		t.Errorf("printHistory:\n%s\nwant a line %q", b.String(), want)
	}

	bounds := []time.Duration{time.Millisecond, 10 * time.Millisecond, 100 * time.Millisecond}
	pool := func(counts ...uint64) []apiv1.Pool {
		return []apiv1.Pool{{Name: "http", QueueWait: pool.Histogram{Bounds: bounds, Counts: counts}}}
	}
	start := reading{at: time.Unix(0, 0), pools: pool(5, 0, 0, 0)}
	end := reading{at: time.Unix(10, 0), pools: pool(95, 9, 1, 0)}
	b.Reset()
	printPools(&b, start, end)
	if want := "queue wait p50 ≤1ms p99 ≤10ms"; !strings.Contains(b.String(), want) {
		t.Errorf("printPools:\n%s\nwant %q: the waits of the window, 90 up to 1ms, 9 up to 10ms, 1 up to 100ms", b.String(), want)
	}
}
