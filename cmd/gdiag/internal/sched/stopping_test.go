package sched

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/gdiag/gdiag/schedstats"
)

// TestStoppingRows checks the " to stop" rows under the STW rows: the time
// to stop the world beside the total pause, with which part dominated when
// the buckets can tell, and no row for a reader without stopping times.
func TestStoppingRows(t *testing.T) {
	b := []float64{math.Inf(-1), 0, 1e-4, 1e-3, 0.05, 0.1, 0.2, math.Inf(1)}
	pauseAt := func(bucket int) schedstats.Histogram {
		h := hist(b, 0, 0, 0, 0, 0, 0, 0)
		h.Counts[bucket] = 3
		return h
	}
	cases := []struct {
		name        string
		stop        int // bucket of the stopping times; -1 for none
		want, avoid string
	}{
		{"time to stop dominates", 5, " to stop   p99≤200ms max≤200ms  most of the pause", ""},
		{"work dominates", 2, " to stop   p99≤1ms max≤1ms  little of it", "most"},
		{"cannot tell", 4, " to stop   p99≤100ms max≤100ms", "little"},
		{"no stopping times", -1, "STW GC     3 in 2s", " to stop"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			h := &history{}
			for i := range 3 {
				s := schedstats.Snapshot{Time: t0.Add(time.Duration(i) * time.Second), GOMAXPROCS: 2,
					GCPauses: hist(b, 0, 0, 0, 0, 0, 0, 0), OtherPauses: hist(b, 0, 0, 0, 0, 0, 0, 0),
					Sources: schedstats.Sources{Pauses: schedstats.SourceRuntimeMetrics}}
				s.GCStopping, s.OtherStopping = hist(b, 0, 0, 0, 0, 0, 0, 0), hist(b, 0, 0, 0, 0, 0, 0, 0)
				if i == 2 {
					s.GCPauses = pauseAt(5) // three pauses in [100ms, 200ms)
					if c.stop >= 0 {
						s.GCStopping = pauseAt(c.stop)
					}
				}
				if c.stop < 0 {
					s.GCStopping, s.OtherStopping = schedstats.Histogram{}, schedstats.Histogram{}
				}
				h.add(s)
			}
			d := h.derive()
			if c.stop >= 0 && (d.GCStopping.Count != 3 || d.GCStopping.Max != b[c.stop+1]) {
				t.Errorf("derive().GCStopping = %+v; want 3 stops, max ≤%v", d.GCStopping, b[c.stop+1])
			}
			text := strings.Join(frame(h, frameOpts{Target: "1", Width: 100}), "\n")
			if !strings.Contains(text, c.want) {
				t.Errorf("frame lacks %q:\n%s", c.want, text)
			}
			if c.avoid != "" && strings.Contains(text, c.avoid) {
				t.Errorf("frame has %q:\n%s", c.avoid, text)
			}
		})
	}
}
