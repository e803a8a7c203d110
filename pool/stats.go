package pool

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// numBounds is the number of histogram bucket bounds: 1µs·2^i for i in
// [0, 27], so the last bound is about 134 s.
const numBounds = 28

// bucketBounds holds the fixed upper bounds shared by every histogram.
var bucketBounds = func() [numBounds]time.Duration {
	var b [numBounds]time.Duration
	for i := range b {
		b[i] = time.Microsecond << i
	}
	return b
}()

// Stats is a point-in-time snapshot of a pool. It is a plain value, safe to
// keep, compare and marshal to JSON. See the package documentation for how
// the counters reconcile.
type Stats struct {
	Name          string `json:"name"`
	MinWorkers    int    `json:"minWorkers"`
	MaxWorkers    int    `json:"maxWorkers"`
	Workers       int    `json:"workers"`       // live worker goroutines
	Running       int    `json:"running"`       // workers running a task
	Idle          int    `json:"idle"`          // workers waiting for work
	Queued        int    `json:"queued"`        // accepted tasks waiting for a worker; see the package documentation
	Parked        int    `json:"parked"`        // accepted tasks held back by the key limit (the sum of every key's KeyStats.Parked)
	QueueCapacity int    `json:"queueCapacity"` // Queued + Parked never exceeds it
	KeyLimit      int    `json:"keyLimit"`      // maximum running tasks per key; 0 means no limit
	Stopped       bool   `json:"stopped"`

	Submitted uint64 `json:"submitted"` // accepted tasks
	Completed uint64 `json:"completed"` // tasks that returned nil
	Failed    uint64 `json:"failed"`    // tasks that returned an error (including their own timeouts)
	Panicked  uint64 `json:"panicked"`  // tasks that panicked or called runtime.Goexit (or whose TaskStart panicked)
	Canceled  uint64 `json:"canceled"`  // accepted tasks never run: ctx ended first, or dropped by Stop
	Rejected  uint64 `json:"rejected"`  // refused submissions (not in Submitted); Refused says why

	// HookPanics counts panics recovered from an Observer method or the
	// WithPanicHandler function. It is not a task outcome: a task whose
	// TaskEnd or panic handler panicked keeps its own outcome; a task whose
	// TaskStart panicked is not run and ends Panicked.
	HookPanics uint64 `json:"hookPanics"`

	QueueWait Histogram `json:"queueWait"` // from acceptance to start, for tasks that started
	RunTime   Histogram `json:"runTime"`   // from start to end, for tasks that ran

	// Keys lists the busiest task keys: those with tasks running or held
	// back by the key limit, at most MaxStatsKeys of them, ordered by
	// Running (descending), then Key. Tasks without a key are not in it;
	// it is nil when no running or parked task has a key.
	Keys []KeyStats `json:"keys,omitempty"`

	// Refused counts the refused submissions by reason; its fields add up
	// to Rejected.
	Refused Refusals `json:"refused"`

	// Overload controls; see the package documentation. Their fields are
	// zero for a pool without them.
	Limit      int           `json:"limit"`                // workers allowed to run tasks now: the adaptive limit under WithAdaptiveLimit, else MaxWorkers
	Adaptive   bool          `json:"adaptive,omitempty"`   // the limit is adaptive (WithAdaptiveLimit)
	Rate       Rate          `json:"rate,omitzero"`        // the pool's token bucket (WithRateLimit, SetRate)
	KeyRate    Rate          `json:"keyRate,omitzero"`     // each key's token bucket (WithKeyRateLimit, SetKeyRate)
	ShedTarget time.Duration `json:"shedTarget,omitempty"` // the longest a task should wait (WithShedding)
	Shedding   bool          `json:"shedding,omitempty"`   // the queue stands: tasks that would wait longer than ShedTarget are refused
	// BreakerOpens counts the times any breaker of the pool opened.
	BreakerOpens uint64 `json:"breakerOpens,omitempty"`
	// Breakers lists the pool's breaker (Key "") and, under
	// BreakerOptions.PerKey, at most MaxStatsKeys keyed breakers: open
	// first, then half-open, then by outcomes in their window, then by
	// key. It is nil without WithBreaker.
	Breakers []BreakerStats `json:"breakers,omitempty"`
}

// Histogram is a snapshot of a duration histogram with fixed buckets.
// Counts[i] counts values v with Bounds[i-1] < v <= Bounds[i]; the last
// element of Counts counts values above the last bound. The zero value is an
// empty histogram.
type Histogram struct {
	Bounds []time.Duration `json:"bounds"` // upper bounds (inclusive), ascending
	Counts []uint64        `json:"counts"` // len(Bounds)+1; the last counts values above the last bound
	Count  uint64          `json:"count"`
	Sum    time.Duration   `json:"sum"`
}

// Quantile returns the q-quantile (0 <= q <= 1, clamped) as the upper
// bound of the bucket that holds it: the first bucket, in order, whose
// cumulative count reaches q times the number of values (for q = 0, the
// first non-empty one). The true quantile is at most that bound, and above
// the bucket's lower bound. When the quantile lies in the overflow bucket,
// which has no upper bound, Quantile returns the last bound, which the
// quantile exceeds. It returns 0 for an empty histogram, a NaN q, or
// Counts that are not len(Bounds)+1 long.
//
// This is the quantile rule of schedstats.Histogram.Quantile, which
// explains the choice; this package imports only the standard library, so
// it has its own copy, and a test in gdiag checks that the two agree.
func (h Histogram) Quantile(q float64) time.Duration {
	if len(h.Bounds) == 0 || len(h.Counts) != len(h.Bounds)+1 || q != q {
		return 0
	}
	var total uint64
	for _, c := range h.Counts {
		total += c
	}
	if total == 0 {
		return 0
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
			break
		}
	}
	return h.Bounds[min(last, len(h.Bounds)-1)]
}

// Mean returns Sum/Count, or 0 for an empty histogram.
func (h Histogram) Mean() time.Duration {
	if h.Count == 0 {
		return 0
	}
	return h.Sum / time.Duration(h.Count)
}

// histogram is the live, lock-free form: one atomic add for the bucket and
// one for the sum per observation. Count is derived from the buckets so the
// snapshot is self-consistent.
type histogram struct {
	counts [numBounds + 1]atomic.Uint64
	sum    atomic.Int64
}

// bucketOf returns the bucket index for d. Rounding up to whole microseconds
// keeps the comparison exact because every bound is a whole microsecond.
func bucketOf(d time.Duration) int {
	if d <= time.Microsecond {
		return 0
	}
	us := (uint64(d) + 999) / 1000
	i := bits.Len64(us - 1)
	if i > numBounds {
		return numBounds
	}
	return i
}

func (h *histogram) observe(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[bucketOf(d)].Add(1)
	h.sum.Add(int64(d))
}

func newHistogram() Histogram {
	return Histogram{
		Bounds: append([]time.Duration(nil), bucketBounds[:]...),
		Counts: make([]uint64, numBounds+1),
	}
}

// addTo adds h's counts into s, which has the standard layout.
func (h *histogram) addTo(s *Histogram) {
	for i := range h.counts {
		c := h.counts[i].Load()
		s.Counts[i] += c
		s.Count += c
	}
	s.Sum += time.Duration(h.sum.Load())
}

func (h *histogram) snapshot() Histogram {
	s := newHistogram()
	h.addTo(&s)
	return s
}

// numShards spreads the per-task atomic adds over separate cache lines so
// workers on different CPUs do not contend; Stats sums the shards.
const numShards = 8

// shard holds the outcome counters and histograms updated by the workers
// assigned to it.
type shard struct {
	completed, failed, panicked, canceled atomic.Uint64
	queueWait, runTime                    histogram
	_                                     [64]byte // keep neighbours off our cache lines
}

// Stats returns a snapshot of the pool's gauges, counters and histograms.
// Gauges are read together under the pool's lock; counters are read one by
// one, so they reconcile exactly only at a quiescent moment (see the
// package documentation). Histograms are empty when built WithStats(false).
// StatsInto reads the same numbers into memory the caller reuses.
func (p *Pool) Stats() Stats {
	var s Stats
	p.StatsInto(&s)
	return s
}
