package main

import (
	"math"
	"testing"
	"time"

	"github.com/gdiag/gdiag/apiv1"
	"github.com/gdiag/gdiag/schedstats"
)

// TestSummary checks the watch line, including that the scheduling latency
// covers only the interval since the previous snapshot.
func TestSummary(t *testing.T) {
	bounds := []float64{0, 0.001, 0.01, 0.1}
	prev := schedstats.Snapshot{SchedLatency: schedstats.Histogram{Bounds: bounds, Counts: []uint64{100, 0, 0}}}
	s := schedstats.Snapshot{
		Time:           time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC),
		GOMAXPROCS:     2,
		IdlePs:         1,
		GlobalRunQueue: 3,
		Threads:        7,
		Goroutines:     schedstats.GoroutineStates{Total: 40, Running: 2, Runnable: 5, Waiting: 33},
		// The 100 fast samples are old; the new ones all lie in [10ms, 100ms).
		SchedLatency: schedstats.Histogram{Bounds: bounds, Counts: []uint64{100, 0, 10}},
	}
	pools := []apiv1.Pool{{Name: "http", Workers: 16, MaxWorkers: 16, Queued: 64, QueueCapacity: 64, Completed: 9, Failed: 1, Rejected: 5}}
	got := summary(s, prev, pools, "overload")
	lat := seconds(s.SchedLatency.Sub(prev.SchedLatency).Quantile(0.99))
	if lat != 100*time.Millisecond {
		t.Fatalf("p99 of the interval = %v; want the upper bound of [10ms, 100ms)", lat)
	}
	want := "watch 15:04:05 incident=overload | procs=2 idle=1 runq=3 threads=7 | goroutines=40 run=2 runnable=5 wait=33 | sched p99≤" +
		lat.String() + " | http: workers=16/16 queued=64/64 done=9 failed=1 rejected=5"
	if got != want {
		t.Errorf("summary() =\n%s\nwant\n%s", got, want)
	}
}

func TestSeconds(t *testing.T) {
	inf := math.Inf(1)
	for _, tt := range []struct {
		in   float64
		want time.Duration
	}{
		{0.0015, 1500 * time.Microsecond},
		{0, 0},
		{-1, 0},
		{inf, 0},
		{math.NaN(), 0},
	} {
		if got := seconds(tt.in); got != tt.want {
			t.Errorf("seconds(%v) = %v; want %v", tt.in, got, tt.want)
		}
	}
}
