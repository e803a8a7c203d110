package schedstats

import "math"

// exportBounds are the bucket upper bounds of the scheduler histograms that
// gdiag exports: 1, 2.5 and 5 times each power of ten from 1µs to 10s.
// The runtime keeps about 160 buckets per histogram, too many series for a
// metrics backend; these 22 keep the p99 readable around the thresholds of
// the detectors and alerts (10ms scheduling latency, 50ms pauses), which
// are among them.
var exportBounds = [...]float64{
	1e-6, 2.5e-6, 5e-6,
	1e-5, 2.5e-5, 5e-5,
	1e-4, 2.5e-4, 5e-4,
	1e-3, 2.5e-3, 5e-3,
	1e-2, 2.5e-2, 5e-2,
	1e-1, 2.5e-1, 5e-1,
	1, 2.5, 5,
	10,
}

// ExportBounds returns the upper bounds, in seconds and ascending, of the
// buckets in which the exporters publish the scheduler's histograms (the
// catalogue's gdiag_sched_*_seconds); a last, open-ended bucket follows
// them. The result is a fresh copy.
func ExportBounds() []float64 { return append([]float64(nil), exportBounds[:]...) }

// Rebucket counts h's values again in the buckets whose upper bounds are
// bounds (ascending and finite): counts[i] receives the values at most
// bounds[i] and above bounds[i-1], counts[len(bounds)] those above the last
// bound. It overwrites counts, which must have len(bounds)+1 elements, or
// Rebucket panics. It returns the number of values, kept exactly, and an
// estimate of their sum.
//
// A bucket [lo, hi) of h is counted under the first bound at or above hi,
// so that every value it holds is truly at most that bound: a quantile read
// from the result (by the rule of Quantile) is the first bound at or above
// h's own, never below the truth. h records no sum, so the sum is estimated
// from each bucket's midpoint (its finite bound when the other one is
// infinite, and nothing below zero). Counts without bounds, in a malformed
// h, are ignored. Rebucket allocates nothing.
func (h Histogram) Rebucket(bounds []float64, counts []uint64) (count uint64, sum float64) {
	if len(counts) != len(bounds)+1 {
		panic("schedstats: Rebucket with len(counts) != len(bounds)+1")
	}
	clear(counts)
	j := 0
	for i, n := range h.Counts {
		if i+1 >= len(h.Bounds) {
			break
		}
		lo, hi := h.Bounds[i], h.Bounds[i+1]
		for j < len(bounds) && bounds[j] < hi {
			j++
		}
		counts[j] += n
		count += n
		if n != 0 {
			sum += float64(n) * midpoint(lo, hi)
		}
	}
	return count, sum
}

// midpoint estimates the mean value of a bucket [lo, hi), clamped at zero.
func midpoint(lo, hi float64) float64 {
	lo, hi = max(lo, 0), max(hi, 0)
	if math.IsInf(hi, 1) {
		return lo
	}
	return (lo + hi) / 2
}
