package schedstats

import (
	"math"
	"time"
)

// Count returns the number of values recorded in the histogram.
func (h Histogram) Count() uint64 {
	var n uint64
	for _, c := range h.Counts {
		n += c
	}
	return n
}

// QuantileBucket returns the bounds, in seconds, of the bucket that holds
// the q-quantile (0 ≤ q ≤ 1, clamped): the first bucket, in order, whose
// cumulative count reaches q × Count(), or for q = 0 the first non-empty
// one. The q-quantile v lies within them: lo ≤ v ≤ hi. Either bound may
// be infinite. It returns NaN, NaN for an empty or malformed histogram
// (fewer than len(Counts)+1 bounds) or a NaN q. This is gdiag's one
// quantile rule; the package documentation says why it reports hi.
func (h Histogram) QuantileBucket(q float64) (lo, hi float64) {
	total := h.Count()
	if total == 0 || math.IsNaN(q) || len(h.Bounds) < len(h.Counts)+1 {
		return math.NaN(), math.NaN()
	}
	rank := min(max(q, 0), 1) * float64(total)
	var cum float64
	last := 0
	for i, c := range h.Counts {
		if c == 0 {
			continue
		}
		last = i
		if cum += float64(c); cum >= rank {
			return h.Bounds[i], h.Bounds[i+1]
		}
	}
	// Only float rounding of rank gets here: the last non-empty bucket.
	return h.Bounds[last], h.Bounds[last+1]
}

// Quantile returns the q-quantile (0 ≤ q ≤ 1, clamped), in seconds, as the
// upper bound of the bucket that holds it (see QuantileBucket): the true
// quantile is at most that. When that bucket is open-ended (its upper
// bound is +Inf), Quantile returns its lower bound instead, the largest
// finite bound, which the quantile is then at least; Prometheus's
// histogram_quantile does the same. Quantile returns NaN for an empty or
// malformed histogram, a NaN q, or a quantile with no finite bound.
func (h Histogram) Quantile(q float64) float64 {
	lo, hi := h.QuantileBucket(q)
	switch {
	case !math.IsInf(hi, 0):
		return hi
	case !math.IsInf(lo, 0):
		return lo
	}
	return math.NaN()
}

// Sub returns h − prev, the values recorded between two readings of the same
// cumulative histogram. If the bucket layouts differ (or prev is empty), it
// returns a copy of h; a bucket that went backwards (a reset) counts as zero.
func (h Histogram) Sub(prev Histogram) Histogram {
	var d Histogram
	h.subInto(prev, &d)
	return d
}

// subInto stores h − prev in dst, reusing dst's slices.
func (h Histogram) subInto(prev Histogram, dst *Histogram) {
	h.copyInto(dst)
	if !sameLayout(h, prev) {
		return
	}
	for i, c := range prev.Counts {
		if dst.Counts[i] >= c {
			dst.Counts[i] -= c
		} else {
			dst.Counts[i] = 0
		}
	}
}

func sameLayout(a, b Histogram) bool {
	if len(a.Counts) != len(b.Counts) || len(a.Bounds) != len(b.Bounds) {
		return false
	}
	for i := range a.Bounds {
		if a.Bounds[i] != b.Bounds[i] {
			return false
		}
	}
	return true
}

// clone returns a deep copy of h.
func (h Histogram) clone() Histogram {
	return Histogram{Bounds: cloneSlice(h.Bounds), Counts: cloneSlice(h.Counts)}
}

// copyInto copies h into dst, reusing dst's slices when they are large enough.
func (h Histogram) copyInto(dst *Histogram) {
	dst.Bounds = append(dst.Bounds[:0], h.Bounds...)
	dst.Counts = append(dst.Counts[:0], h.Counts...)
}

// cloneSlice copies s, keeping nil as nil and sharing nothing.
func cloneSlice[T any](s []T) []T {
	if s == nil {
		return nil
	}
	return append(make([]T, 0, len(s)), s...)
}

// Clone returns a deep copy of s that shares no slices with it.
func (s Snapshot) Clone() Snapshot {
	c := s
	c.LocalRunQueues = cloneSlice(s.LocalRunQueues)
	c.SchedLatency = s.SchedLatency.clone()
	c.GCPauses = s.GCPauses.clone()
	c.OtherPauses = s.OtherPauses.clone()
	c.GCStopping = s.GCStopping.clone()
	c.OtherStopping = s.OtherStopping.clone()
	return c
}

// CopyInto copies s into dst, reusing dst's slices so that, once they have
// grown to size, copying allocates nothing. Afterwards dst shares no memory
// with s. An empty slice in s leaves an empty, possibly non-nil, slice in dst.
func (s Snapshot) CopyInto(dst *Snapshot) {
	lrq := dst.LocalRunQueues
	hists := [...]Histogram{dst.SchedLatency, dst.GCPauses, dst.OtherPauses, dst.GCStopping, dst.OtherStopping}
	*dst = s
	dst.LocalRunQueues = append(lrq[:0], s.LocalRunQueues...)
	dst.SchedLatency, dst.GCPauses, dst.OtherPauses, dst.GCStopping, dst.OtherStopping = hists[0], hists[1], hists[2], hists[3], hists[4]
	s.SchedLatency.copyInto(&dst.SchedLatency)
	s.GCPauses.copyInto(&dst.GCPauses)
	s.OtherPauses.copyInto(&dst.OtherPauses)
	s.GCStopping.copyInto(&dst.GCStopping)
	s.OtherStopping.copyInto(&dst.OtherStopping)
}

// Delta describes what happened between two snapshots: rates per second and
// the histograms of the events recorded in between.
type Delta struct {
	Elapsed                 time.Duration `json:"elapsed"`
	GoroutinesCreatedPerSec float64       `json:"goroutinesCreatedPerSec"`
	MsCreatedPerSec         float64       `json:"msCreatedPerSec"`
	// MutexWaitPerSec is the time goroutines spent blocked on sync.Mutex
	// and sync.RWMutex per second of wall time (seconds per second).
	MutexWaitPerSec float64   `json:"mutexWaitPerSec"`
	SchedLatency    Histogram `json:"schedLatency"` // delta; SchedLatency.Quantile(0.99) is the windowed p99
	GCPauses        Histogram `json:"gcPauses"`
	OtherPauses     Histogram `json:"otherPauses"`
	GCStopping      Histogram `json:"gcStopping"`
	OtherStopping   Histogram `json:"otherStopping"`
}

// Diff returns the change from prev to cur. Rates are zero when the elapsed
// time is not positive; counters that went backwards count as zero.
func Diff(prev, cur Snapshot) Delta {
	d := Delta{
		Elapsed:      cur.Time.Sub(prev.Time),
		SchedLatency: cur.SchedLatency.Sub(prev.SchedLatency),
		GCPauses:     cur.GCPauses.Sub(prev.GCPauses),
		OtherPauses:  cur.OtherPauses.Sub(prev.OtherPauses),

		GCStopping:    cur.GCStopping.Sub(prev.GCStopping),
		OtherStopping: cur.OtherStopping.Sub(prev.OtherStopping),
	}
	secs := d.Elapsed.Seconds()
	if secs <= 0 {
		return d
	}
	d.GoroutinesCreatedPerSec = float64(subU(cur.GoroutinesCreated, prev.GoroutinesCreated)) / secs
	d.MsCreatedPerSec = float64(subU(cur.MsCreated, prev.MsCreated)) / secs
	if w := cur.MutexWait - prev.MutexWait; w > 0 {
		d.MutexWaitPerSec = w.Seconds() / secs
	}
	return d
}

func subU(a, b uint64) uint64 {
	if a < b {
		return 0
	}
	return a - b
}
