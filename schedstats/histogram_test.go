package schedstats_test

import (
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"sort"
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
		name   string
		h      schedstats.Histogram
		q      float64
		lo, hi float64 // QuantileBucket
		want   float64 // Quantile
	}{
		{"empty", hist(b, 0, 0, 0, 0, 0), 0.5, math.NaN(), math.NaN(), math.NaN()},
		{"zero value", schedstats.Histogram{}, 0.5, math.NaN(), math.NaN(), math.NaN()},
		{"nan q", hist(b, 0, 1, 0, 0, 0), math.NaN(), math.NaN(), math.NaN(), math.NaN()},
		{"middle of bucket", hist(b, 0, 0, 10, 0, 0), 0.5, 0.001, 0.01, 0.01},
		{"top of bucket", hist(b, 0, 0, 10, 0, 0), 1, 0.001, 0.01, 0.01},
		{"rank on a bucket's edge", hist(b, 0, 10, 10, 0, 0), 0.5, 0, 0.001, 0.001},
		{"second bucket", hist(b, 0, 10, 10, 0, 0), 0.75, 0.001, 0.01, 0.01},
		{"p99 in tail", hist(b, 0, 99, 0, 1, 0), 0.995, 0.01, 0.1, 0.1},
		{"p99 below the tail", hist(b, 0, 99, 0, 1, 0), 0.99, 0, 0.001, 0.001},
		{"open-ended bucket gives its lower bound", hist(b, 0, 0, 0, 0, 5), 0.99, 0.1, inf, 0.1},
		{"infinite lower bound gives upper", hist(b, 5, 0, 0, 0, 0), 0.5, math.Inf(-1), 0, 0},
		{"no finite bound", hist([]float64{math.Inf(-1), inf}, 3), 0.5, math.Inf(-1), inf, math.NaN()},
		{"q clamped high", hist(b, 0, 0, 10, 0, 0), 7, 0.001, 0.01, 0.01},
		{"q clamped low: the smallest value's bucket", hist(b, 0, 0, 10, 1, 0), -1, 0.001, 0.01, 0.01},
	}
	same := func(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if lo, hi := tt.h.QuantileBucket(tt.q); !same(lo, tt.lo) || !same(hi, tt.hi) {
				t.Errorf("QuantileBucket(%v) = %v, %v; want %v, %v", tt.q, lo, hi, tt.lo, tt.hi)
			}
			if got := tt.h.Quantile(tt.q); !same(got, tt.want) {
				t.Errorf("Quantile(%v) = %v; want %v", tt.q, got, tt.want)
			}
		})
	}
}

// TestQuantileIsAnUpperBound draws values, records them in a histogram of
// the runtime's layout and checks the rule's promise against the exact
// quantile of the values: lo ≤ exact ≤ Quantile = hi.
func TestQuantileIsAnUpperBound(t *testing.T) {
	bounds := []float64{math.Inf(-1), 0}
	for b := 1e-6; b < 10; b *= 1.25 {
		bounds = append(bounds, b)
	}
	bounds = append(bounds, inf)
	r := rand.New(rand.NewPCG(1, 2))
	for trial := range 50 {
		vals := make([]float64, 1+r.IntN(500))
		h := schedstats.Histogram{Bounds: bounds, Counts: make([]uint64, len(bounds)-1)}
		for i := range vals {
			vals[i] = math.Exp(r.NormFloat64()*2 - 7) // log-normal, mostly between 1µs and 1s
			h.Counts[sort.SearchFloat64s(bounds, vals[i])-1]++
			if vals[i] == bounds[sort.SearchFloat64s(bounds, vals[i])] {
				t.Fatalf("value %v on a bound; the test assumes none", vals[i])
			}
		}
		slices.Sort(vals)
		for _, q := range []float64{0, 0.5, 0.9, 0.99, 1} {
			exact := vals[max(int(math.Ceil(q*float64(len(vals))))-1, 0)]
			lo, hi := h.QuantileBucket(q)
			if !(lo <= exact && exact <= hi) || h.Quantile(q) != hi {
				t.Errorf("trial %d, %d values: q=%v exact %v; QuantileBucket = %v, %v, Quantile = %v", trial, len(vals), q, exact, lo, hi, h.Quantile(q))
			}
		}
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
	if lo, hi := d.QuantileBucket(1); lo != 0.1 || hi != inf || d.Quantile(1) != 0.1 {
		t.Errorf("QuantileBucket(1), Quantile(1) = %v, %v, %v; want 0.1, +Inf, 0.1", lo, hi, d.Quantile(1))
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
		GCStopping:     hist(b, 4, 5, 0),
		OtherStopping:  hist(b, 7, 0, 0),
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
	s.GCStopping.Counts[1], s.OtherStopping.Counts[0] = 100, 100
	for name, got := range map[string]schedstats.Snapshot{"Clone": c, "CopyInto": dst} {
		if got.LocalRunQueues[0] != 1 || got.SchedLatency.Counts[0] != 1 || got.GCPauses.Bounds[1] != 0.001 || got.OtherPauses.Counts[2] != 9 ||
			got.GCStopping.Counts[1] != 5 || got.OtherStopping.Counts[0] != 7 {
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
	cur.GCStopping.Counts[0] += 1
	d := schedstats.Diff(prev, cur)
	if d.Elapsed != 2*time.Second || d.GoroutinesCreatedPerSec != 50 || d.MsCreatedPerSec != 2 || d.MutexWaitPerSec != 0.25 {
		t.Errorf("Diff rates = %+v; want 2s, 50/s, 2/s, 0.25", d)
	}
	if d.SchedLatency.Count() != 10 || d.GCPauses.Count() != 1 || d.OtherPauses.Count() != 0 || d.GCStopping.Count() != 1 || d.OtherStopping.Count() != 0 {
		t.Errorf("Diff histograms count %d, %d, %d, %d, %d; want 10, 1, 0, 1, 0", d.SchedLatency.Count(), d.GCPauses.Count(), d.OtherPauses.Count(),
			d.GCStopping.Count(), d.OtherStopping.Count())
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
	if lo, hi := h.QuantileBucket(1); !math.IsNaN(lo) || !math.IsNaN(hi) {
		t.Errorf("QuantileBucket(1) of a short-bounds histogram = %v, %v; want NaN", lo, hi)
	}
	if got := h.Quantile(0.5); !math.IsNaN(got) {
		t.Errorf("Quantile(0.5) of a short-bounds histogram = %v; want NaN", got)
	}
}
