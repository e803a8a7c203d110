package pools

import (
	"math"
	"time"

	"github.com/gdiag/gdiag/apiv1"
)

// Percentile is one estimated percentile of a pool histogram.
type Percentile struct {
	Value time.Duration
	// Over is true when the percentile lies above the histogram's last
	// bound: Value is then that bound, a lower bound of the real value.
	Over bool
}

// quantile estimates the q-quantile (0 ≤ q ≤ 1) of h. Counts[i] counts
// values in (Bounds[i-1], Bounds[i]] (from zero for i == 0) and the count
// after the last bound is the overflow. It interpolates linearly inside the
// bucket, because the bounds double from one bucket to the next and taking
// the upper bound would overstate a p50 by up to 2x. ok is false for an
// empty histogram. A malformed histogram (more counts than bounds + 1) has
// its extra counts treated as overflow; it never panics.
func quantile(h apiv1.Histogram, q float64) (p Percentile, ok bool) {
	var total uint64
	for _, c := range h.Counts {
		total += c
	}
	if total == 0 || math.IsNaN(q) {
		return Percentile{}, false
	}
	q = min(max(q, 0), 1)
	rank := q * float64(total)
	var cum float64
	for i, c := range h.Counts {
		if c == 0 {
			continue
		}
		next := cum + float64(c)
		if next >= rank {
			if i >= len(h.Bounds) {
				return overflow(h), true
			}
			lo := time.Duration(0)
			if i > 0 {
				lo = h.Bounds[i-1]
			}
			hi := h.Bounds[i]
			frac := (rank - cum) / float64(c)
			return Percentile{Value: lo + time.Duration(float64(hi-lo)*frac)}, true
		}
		cum = next
	}
	return overflow(h), true // only reached through float rounding
}

func overflow(h apiv1.Histogram) Percentile {
	if len(h.Bounds) == 0 {
		return Percentile{Over: true}
	}
	return Percentile{Value: h.Bounds[len(h.Bounds)-1], Over: true}
}

// String formats p as a duration rounded to three significant figures,
// with ">" before a lower bound.
func (p Percentile) String() string {
	s := round3(p.Value).String()
	if p.Over {
		return ">" + s
	}
	return s
}

// round3 rounds d to about three significant figures for display.
func round3(d time.Duration) time.Duration {
	for u := time.Duration(1); u < time.Hour; u *= 10 {
		if d < 1000*u {
			return d.Round(u)
		}
	}
	return d.Round(time.Second)
}
