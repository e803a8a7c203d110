package schedstats_test

import (
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/gdiag/gdiag/schedstats"
)

func hist(bounds []float64, counts ...uint64) schedstats.Histogram {
	return schedstats.Histogram{Bounds: bounds, Counts: counts}
}

var inf = math.Inf(1)

func TestHistogramQuantile(t *testing.T) {
	b := []float64{math.Inf(-1), 0, 0.001, 0.01, 0.1, inf}
	tests := []struct {
		name string
		h    schedstats.Histogram
		q    float64
		want float64
	}{
		{"empty", hist(b, 0, 0, 0, 0, 0), 0.5, math.NaN()},
		{"zero value", schedstats.Histogram{}, 0.5, math.NaN()},
		{"nan q", hist(b, 0, 1, 0, 0, 0), math.NaN(), math.NaN()},
		{"middle of bucket", hist(b, 0, 0, 10, 0, 0), 0.5, 0.0055},
		{"top of bucket", hist(b, 0, 0, 10, 0, 0), 1, 0.01},
		{"second bucket", hist(b, 0, 10, 10, 0, 0), 0.75, 0.0055},
		{"p99 in tail", hist(b, 0, 99, 0, 1, 0), 0.995, 0.055},
		{"infinite upper bound gives lower", hist(b, 0, 0, 0, 0, 5), 0.99, 0.1},
		{"infinite lower bound gives upper", hist(b, 5, 0, 0, 0, 0), 0.5, 0},
		{"q clamped high", hist(b, 0, 0, 10, 0, 0), 7, 0.01},
		{"q clamped low", hist(b, 0, 0, 10, 0, 0), -1, 0.001},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.h.Quantile(tt.q)
			if math.IsNaN(tt.want) != math.IsNaN(got) || (!math.IsNaN(got) && math.Abs(got-tt.want) > 1e-12) {
				t.Errorf("Quantile(%v) = %v; want %v", tt.q, got, tt.want)
			}
		})
	}
}

func TestHistogramSubCountMax(t *testing.T) {
	b := []float64{0, 0.001, 0.01, 0.1, inf}
	prev := hist(b, 5, 1, 0, 0)
	cur := hist(b, 7, 4, 0, 2)
	d := cur.Sub(prev)
	if want := hist(b, 2, 3, 0, 2); !reflect.DeepEqual(d, want) {
		t.Errorf("Sub = %v; want %v", d, want)
	}
	if got := d.Count(); got != 7 {
		t.Errorf("Count() = %d; want 7", got)
	}
	if got := d.Max(); got != 0.1 {
		t.Errorf("Max() = %v; want 0.1", got)
	}
	d.Counts[0] = 99
	if cur.Counts[0] != 7 {
		t.Errorf("Sub result shares memory with its receiver")
	}
	// A reset (counts going backwards) saturates at zero.
	if got := prev.Sub(cur); got.Count() != 0 {
		t.Errorf("prev.Sub(cur).Count() = %d; want 0", got.Count())
	}
	// A different layout cannot be subtracted: the receiver comes back.
	other := hist([]float64{0, 1, inf}, 1, 1)
	if got := cur.Sub(other); !reflect.DeepEqual(got, cur) {
		t.Errorf("Sub(other layout) = %v; want %v", got, cur)
	}
	if got := (schedstats.Histogram{}).Max(); got != 0 {
		t.Errorf("empty Max() = %v; want 0", got)
	}
}

func fullSnapshot() schedstats.Snapshot {
	b := []float64{0, 0.001, 0.01, inf}
	return schedstats.Snapshot{
		Time: time.Unix(100, 0), GOMAXPROCS: 4, IdlePs: 1, Threads: 9,
		MsCreated: 10, GoroutinesCreated: 50, MutexWait: time.Second,
		LocalRunQueues: []int{1, 2, 3, 4},
		Goroutines:     schedstats.GoroutineStates{Total: 20, Runnable: 3},
		SchedLatency:   hist(b, 1, 2, 3),
		GCPauses:       hist(b, 4, 5, 6),
		OtherPauses:    hist(b, 7, 8, 9),
	}
}

func TestCloneAndCopyInto(t *testing.T) {
	s := fullSnapshot()
	c := s.Clone()
	if !reflect.DeepEqual(c, s) {
		t.Fatalf("Clone() = %+v; want %+v", c, s)
	}
	var dst schedstats.Snapshot
	s.CopyInto(&dst)
	if !reflect.DeepEqual(dst, s) {
		t.Fatalf("CopyInto gave %+v; want %+v", dst, s)
	}
	// Neither copy may share memory with the original.
	s.LocalRunQueues[0], s.SchedLatency.Counts[0], s.GCPauses.Bounds[1], s.OtherPauses.Counts[2] = 100, 100, 100, 100
	for name, got := range map[string]schedstats.Snapshot{"Clone": c, "CopyInto": dst} {
		if got.LocalRunQueues[0] != 1 || got.SchedLatency.Counts[0] != 1 || got.GCPauses.Bounds[1] != 0.001 || got.OtherPauses.Counts[2] != 9 {
			t.Errorf("%s shares memory with its source", name)
		}
	}
	// CopyInto reuses the destination's slices.
	before := &dst.SchedLatency.Counts[0]
	fullSnapshot().CopyInto(&dst)
	if &dst.SchedLatency.Counts[0] != before {
		t.Errorf("CopyInto reallocated a slice that was large enough")
	}
	if n := testing.AllocsPerRun(100, func() { s.CopyInto(&dst) }); n != 0 {
		t.Errorf("CopyInto allocates %v times per call; want 0", n)
	}
	if c := (schedstats.Snapshot{}).Clone(); c.LocalRunQueues != nil || c.SchedLatency.Counts != nil {
		t.Errorf("Clone of the zero Snapshot made slices: %+v", c)
	}
}

func TestDiff(t *testing.T) {
	prev := fullSnapshot()
	cur := fullSnapshot()
	cur.Time = prev.Time.Add(2 * time.Second)
	cur.GoroutinesCreated += 100
	cur.MsCreated += 4
	cur.MutexWait += 500 * time.Millisecond
	cur.SchedLatency.Counts[2] += 10
	cur.GCPauses.Counts[1] += 1
	d := schedstats.Diff(prev, cur)
	if d.Elapsed != 2*time.Second || d.GoroutinesCreatedPerSec != 50 || d.MsCreatedPerSec != 2 || d.MutexWaitPerSec != 0.25 {
		t.Errorf("Diff rates = %+v; want 2s, 50/s, 2/s, 0.25", d)
	}
	if d.SchedLatency.Count() != 10 || d.GCPauses.Count() != 1 || d.OtherPauses.Count() != 0 {
		t.Errorf("Diff histograms count %d, %d, %d; want 10, 1, 0", d.SchedLatency.Count(), d.GCPauses.Count(), d.OtherPauses.Count())
	}
	if got := d.SchedLatency.Quantile(0.99); got < 0.01 {
		t.Errorf("windowed p99 = %v; want in the top bucket (≥ 0.01)", got)
	}
	// Backwards time or counters give zero rates, never negative ones.
	back := schedstats.Diff(cur, prev)
	if back.GoroutinesCreatedPerSec != 0 || back.MutexWaitPerSec != 0 {
		t.Errorf("Diff(cur, prev) = %+v; want zero rates", back)
	}
	cur.Time = prev.Time
	cur.GoroutinesCreated = 0
	if z := schedstats.Diff(cur, fullSnapshot()); z.GoroutinesCreatedPerSec != 0 || z.MsCreatedPerSec != 0 {
		t.Errorf("Diff with no elapsed time = %+v; want zero rates", z)
	}
}

// TestHistogramMalformed checks that inconsistent layouts never panic.
func TestHistogramMalformed(t *testing.T) {
	h := schedstats.Histogram{Bounds: []float64{0}, Counts: []uint64{1, 2, 3}}
	if got := h.Max(); got != 0 {
		t.Errorf("Max() of a short-bounds histogram = %v; want 0", got)
	}
	if got := h.Quantile(0.5); !math.IsNaN(got) {
		t.Errorf("Quantile(0.5) of a short-bounds histogram = %v; want NaN", got)
	}
}
