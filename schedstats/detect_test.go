package schedstats_test

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/gdiag/gdiag/schedstats"
)

var latBounds = []float64{0, 0.0001, 0.001, 0.01, 0.02, 0.05, 0.1, 0.2, math.Inf(1)}

// healthy returns n snapshots, one per second, of a quiet 4-P process:
// 50 goroutines, 10 threads, fast scheduling, short pauses.
func healthy(n int) []schedstats.Snapshot {
	h := make([]schedstats.Snapshot, n)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range h {
		h[i] = schedstats.Snapshot{
			Time: t0.Add(time.Duration(i) * time.Second), GOMAXPROCS: 4, Threads: 10,
			GlobalRunQueue: i % 2, LocalRunQueues: []int{1, 0, 1, 0},
			Goroutines:    schedstats.GoroutineStates{Total: 50 + i%3, Runnable: 2},
			SchedLatency:  hist(latBounds, 0, uint64(1000*i), uint64(10*i), 0, 0, 0, 0, 0),
			GCPauses:      hist(latBounds, 0, uint64(i), 0, 0, 0, 0, 0, 0),
			OtherPauses:   hist(latBounds, 0, 0, 0, 0, 0, 0, 0, 0),
			GCStopping:    hist(latBounds, 0, uint64(i), 0, 0, 0, 0, 0, 0),
			OtherStopping: hist(latBounds, 0, 0, 0, 0, 0, 0, 0, 0),
		}
	}
	return h
}

func kinds(fs []schedstats.Finding) string {
	var k []string
	for _, f := range fs {
		k = append(k, f.Cause+"/"+f.Severity.String())
	}
	return strings.Join(k, ",")
}

func TestDetect(t *testing.T) {
	tests := []struct {
		name   string
		n      int
		mutate func(i int, s *schedstats.Snapshot)
		th     schedstats.Thresholds
		want   string
	}{
		{"healthy", 30, nil, schedstats.Thresholds{}, ""},
		{"backlog sustained", 30, func(i int, s *schedstats.Snapshot) {
			if i >= 10 && i < 16 {
				s.GlobalRunQueue = 12 // (12+2)/4 = 3.5 per P
			}
		}, schedstats.Thresholds{}, "runqueue-backlog/warning"},
		{"backlog from runnable only", 30, func(i int, s *schedstats.Snapshot) {
			s.LocalRunQueues, s.GlobalRunQueue = nil, 0
			if i >= 20 {
				s.Goroutines.Runnable = 40 // 10 per P
			}
		}, schedstats.Thresholds{}, "runqueue-backlog/critical"},
		{"backlog too short", 30, func(i int, s *schedstats.Snapshot) {
			if i >= 10 && i < 14 || i >= 15 && i < 19 {
				s.GlobalRunQueue = 12 // two runs of 4, broken by one sample
			}
		}, schedstats.Thresholds{}, ""},
		{"backlog at threshold is quiet", 30, func(i int, s *schedstats.Snapshot) {
			s.GlobalRunQueue, s.LocalRunQueues = 8, nil // exactly 2 per P
		}, schedstats.Thresholds{}, ""},
		{"sched latency p99", 30, func(i int, s *schedstats.Snapshot) {
			s.SchedLatency.Counts[4] = uint64(20 * i) // 2% of events at 20-50ms
		}, schedstats.Thresholds{}, "sched-latency/warning"},
		{"sched latency critical", 30, func(i int, s *schedstats.Snapshot) {
			s.SchedLatency.Counts[7] = uint64(20 * i) // 2% of events above 200ms
		}, schedstats.Thresholds{}, "sched-latency/critical"},
		{"sched latency too few events", 30, func(i int, s *schedstats.Snapshot) {
			s.SchedLatency.Counts = []uint64{0, uint64(i), 0, 0, 0, 0, 0, uint64(i), 0}
		}, schedstats.Thresholds{}, ""},
		{"sched latency raised threshold", 30, func(i int, s *schedstats.Snapshot) {
			s.SchedLatency.Counts[4] = uint64(20 * i)
		}, schedstats.Thresholds{SchedLatencyP99: 100 * time.Millisecond}, ""},
		{"leak", 30, func(i int, s *schedstats.Snapshot) {
			s.Goroutines.Total = 50 + 10*i + i%3 // +290, straight line
		}, schedstats.Thresholds{}, "goroutine-leak/warning"},
		{"leak large", 30, func(i int, s *schedstats.Snapshot) {
			s.Goroutines.Total = 1000 + 200*i
		}, schedstats.Thresholds{}, "goroutine-leak/critical"},
		{"burst that drains is no leak", 30, func(i int, s *schedstats.Snapshot) {
			if i >= 10 && i < 20 {
				s.Goroutines.Total = 5000
			}
		}, schedstats.Thresholds{}, ""},
		{"noisy growth below fit", 30, func(i int, s *schedstats.Snapshot) {
			s.Goroutines.Total = 100 + 5*i + []int{0, 900}[i%2]
		}, schedstats.Thresholds{}, ""},
		{"growth too small", 30, func(i int, s *schedstats.Snapshot) {
			s.Goroutines.Total = 50 + 3*i // +87 < 100
		}, schedstats.Thresholds{}, ""},
		{"big base needs 50% growth below the cap", 30, func(i int, s *schedstats.Snapshot) {
			s.Goroutines.Total = 10000 + 10*i // +290 < min(5000, 400)
		}, schedstats.Thresholds{}, ""},
		{"a straight-line gain of 400 is a leak at any size", 30, func(i int, s *schedstats.Snapshot) {
			s.Goroutines.Total = 10000 + 100*i // +2900 ≥ 400
		}, schedstats.Thresholds{}, "goroutine-leak/critical"},
		{"leak needs enough samples", 9, func(i int, s *schedstats.Snapshot) {
			s.Goroutines.Total = 50 + 100*i
		}, schedstats.Thresholds{}, ""},
		{"thread growth", 30, func(i int, s *schedstats.Snapshot) {
			s.Threads = 10 + 3*i // +87
		}, schedstats.Thresholds{}, "thread-growth/warning"},
		{"thread growth within floor", 30, func(i int, s *schedstats.Snapshot) {
			s.GOMAXPROCS = 64
			s.Threads = 10 + 3*i // 97 < 2*64+16
		}, schedstats.Thresholds{}, ""},
		{"gc pause", 30, func(i int, s *schedstats.Snapshot) {
			if i >= 20 {
				s.GCPauses.Counts[6] = 1 // one pause in [100ms, 200ms)
			}
		}, schedstats.Thresholds{}, "stw-pauses/warning"},
		{"other pause critical", 30, func(i int, s *schedstats.Snapshot) {
			if i >= 20 {
				s.OtherPauses.Counts[7] = 1 // ≥ 200ms
			}
		}, schedstats.Thresholds{}, "stw-pauses/critical"},
		{"old pause outside window", 30, func(i int, s *schedstats.Snapshot) {
			s.GCPauses.Counts[6] = 1 // already in the first snapshot
		}, schedstats.Thresholds{}, ""},
		{"ranked", 30, func(i int, s *schedstats.Snapshot) {
			s.Threads = 10 + 3*i
			if i >= 20 {
				s.OtherPauses.Counts[7] = 1
			}
			s.Goroutines.Total = 50 + 10*i
		}, schedstats.Thresholds{}, "stw-pauses/critical,goroutine-leak/warning,thread-growth/warning"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := healthy(tt.n)
			if tt.mutate != nil {
				for i := range h {
					tt.mutate(i, &h[i])
				}
			}
			got := schedstats.Detect(h, tt.th)
			if k := kinds(got); k != tt.want {
				t.Errorf("Detect = [%s]; want [%s]\n%+v", k, tt.want, got)
			}
			for _, f := range got {
				if f.Summary == "" || len(f.Evidence) == 0 || f.Since.IsZero() || f.Until.Before(f.Since) {
					t.Errorf("finding %s lacks summary, evidence or span: %+v", f.Cause, f)
				}
				if _, err := json.Marshal(f); err != nil {
					t.Errorf("json.Marshal(%s finding): %v", f.Cause, err)
				}
			}
		})
	}
}

// TestDetectPauseStopping checks that the long-pause finding says which
// part of the pause dominated: the time to stop the world, the work done
// while it was stopped, or neither for certain.
func TestDetectPauseStopping(t *testing.T) {
	for _, tt := range []struct {
		name     string
		stopping int // bucket of the stopping time of the one long pause (in [100ms, 200ms)); -1: no split known
		want     string
	}{
		{"stopping dominates", 6, "most of it was spent stopping the world (at least 100ms"},
		{"stopping at least half", 5, "most of it was spent stopping the world (at least 50ms"},
		{"stopping maybe half", 4, "stopping the world took between 20ms and 50ms of it"},
		{"work dominates", 1, "the world stopped within 1ms: the time went in the work done"},
		{"no split", -1, "threshold 50ms)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := healthy(10)
			for i := range h {
				if i < 5 {
					continue
				}
				h[i].GCPauses.Counts[6] = 1
				if tt.stopping >= 0 {
					h[i].GCStopping.Counts[tt.stopping]++
				} else {
					h[i].GCStopping, h[i].OtherStopping = schedstats.Histogram{}, schedstats.Histogram{}
				}
			}
			if tt.stopping < 0 {
				h[0].GCStopping, h[0].OtherStopping = schedstats.Histogram{}, schedstats.Histogram{}
			}
			fs := schedstats.Detect(h, schedstats.Thresholds{})
			if len(fs) != 1 || fs[0].Cause != schedstats.CauseSTWPauses {
				t.Fatalf("Detect = %+v; want one stw-pauses finding", fs)
			}
			if !strings.Contains(fs[0].Summary, tt.want) {
				t.Errorf("summary %q; want it to contain %q", fs[0].Summary, tt.want)
			}
			if tt.stopping < 0 && strings.Contains(fs[0].Summary, "stop") && strings.Contains(fs[0].Summary, ";") {
				t.Errorf("summary %q speaks of the stopping time it does not have", fs[0].Summary)
			}
		})
	}
}

func TestDetectBacklogSpan(t *testing.T) {
	h := healthy(30)
	for i := 10; i < 16; i++ {
		h[i].GlobalRunQueue = 12
	}
	f := schedstats.Detect(h, schedstats.Thresholds{})
	if len(f) != 1 || !f[0].Since.Equal(h[10].Time) || !f[0].Until.Equal(h[15].Time) {
		t.Fatalf("Detect = %+v; want one backlog finding spanning samples 10..15", f)
	}
	if got := len(f[0].Evidence[0].Trend); got != 30 {
		t.Errorf("backlog trend has %d points; want 30", got)
	}
}

func TestDetectEdges(t *testing.T) {
	if got := schedstats.Detect(nil, schedstats.Thresholds{}); got != nil {
		t.Errorf("Detect(nil) = %v; want nil", got)
	}
	// Zero GOMAXPROCS and empty histograms must not divide by zero or panic.
	h := make([]schedstats.Snapshot, 12)
	for i := range h {
		h[i].GlobalRunQueue = 10
	}
	if got := kinds(schedstats.Detect(h, schedstats.Thresholds{})); got != "runqueue-backlog/critical" {
		t.Errorf("Detect(zero GOMAXPROCS) = [%s]; want [runqueue-backlog/critical]", got)
	}
}

func TestSeverityText(t *testing.T) {
	for _, s := range []schedstats.Severity{schedstats.Info, schedstats.Warning, schedstats.Critical} {
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var back schedstats.Severity
		if err := json.Unmarshal(b, &back); err != nil || back != s {
			t.Errorf("round trip of %s via %s = %v, %v", s, b, back, err)
		}
	}
	var s schedstats.Severity
	if err := json.Unmarshal([]byte(`"dire"`), &s); err == nil {
		t.Errorf(`Unmarshal("dire") succeeded; want an error`)
	}
}

func BenchmarkDetect(b *testing.B) {
	h := healthy(300)
	for i := range h {
		h[i].Goroutines.Total = 50 + 10*i
	}
	b.ReportAllocs()
	for b.Loop() {
		schedstats.Detect(h, schedstats.Thresholds{})
	}
}
