package prometheus

import (
	"log/slog"

	"github.com/gdiag/gdiag/pool"
)

// NewPoolCollectorStats builds a PoolCollector over fixed statistics, so that
// the golden files do not depend on timing.
func NewPoolCollectorStats(stats func() []pool.Stats, maxPools int) *PoolCollector {
	return newPoolCollector(func(dst []pool.Stats) []pool.Stats {
		return append(dst, stats()...)
	}, maxPools)
}

// SchedBuckets returns the bounds scheduler histograms are re-bucketed into.
func SchedBuckets() []float64 { return append([]float64(nil), schedBuckets[:]...) }

// SetLogger sets the logger that Register would pass on.
func SetLogger(c *PoolCollector, l *slog.Logger) { c.logger = l }

// SetMaxKeys sets the per-pool key cap that Register would pass on.
func SetMaxKeys(c *PoolCollector, n int) { c.maxKeys = n }
