package prometheus

import (
	"log/slog"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gdiag/gdiag/pool"
)

// Names of the pool metrics, as in the schedstats catalogue.
const (
	mPoolWorkers        = "gdiag_pool_workers"
	mPoolRunning        = "gdiag_pool_workers_running"
	mPoolIdle           = "gdiag_pool_workers_idle"
	mPoolQueued         = "gdiag_pool_queued"
	mPoolQueueCapacity  = "gdiag_pool_queue_capacity"
	mPoolMaxWorkers     = "gdiag_pool_max_workers"
	mPoolSubmitted      = "gdiag_pool_tasks_submitted_total"
	mPoolTasks          = "gdiag_pool_tasks_total"
	mPoolRejected       = "gdiag_pool_tasks_rejected_total"
	mPoolQueueWait      = "gdiag_pool_queue_wait_seconds"
	mPoolRun            = "gdiag_pool_run_seconds"
	mPoolKeyRunning     = "gdiag_pool_key_running"
	poolMetricsExported = 12
)

// PoolCollector is a prometheus.Collector of the pool metrics of the
// schedstats catalogue, labelled by pool name. At each scrape it lists the
// pools and reads their Stats.
//
// Cardinality is bounded: only the first maxPools pools in list order
// (creation order for pool.Registered) are exported, and a pool whose name
// was already seen in the same scrape is skipped, since its series would
// collide. Dropped reports how many were left out by the last scrape, and the
// Logger given to Register is warned when that number changes. Per pool,
// gdiag_pool_key_running has a series for each of the busiest keys only (at
// most DefaultMaxKeys, or Options.MaxKeys through Register); DroppedKeys
// reports the keys left out. Create it with NewPoolCollector; the zero value
// is not usable. Its methods are safe for concurrent use.
type PoolCollector struct {
	stats    func(dst []pool.Stats) []pool.Stats
	maxPools int
	maxKeys  int // per pool; negative for none
	logger   *slog.Logger

	mu          sync.Mutex
	buf         []pool.Stats
	seen        map[string]struct{}
	dropped     int
	droppedKeys int

	descs map[string]*prometheus.Desc
}

// NewPoolCollector returns a collector of the pools listed by pools at each
// scrape, exporting at most maxPools of them (DefaultMaxPools when
// maxPools <= 0), and at most DefaultMaxKeys keys per pool. It panics if
// pools is nil.
func NewPoolCollector(pools func() []*pool.Pool, maxPools int) *PoolCollector {
	if pools == nil {
		panic("prometheus: NewPoolCollector with a nil pools function")
	}
	return newPoolCollector(func(dst []pool.Stats) []pool.Stats {
		for _, p := range pools() {
			dst = append(dst, p.Stats())
		}
		return dst
	}, maxPools)
}

// newPoolCollector is the seam the tests use to inject fixed statistics.
func newPoolCollector(stats func(dst []pool.Stats) []pool.Stats, maxPools int) *PoolCollector {
	if maxPools <= 0 {
		maxPools = DefaultMaxPools
	}
	c := &PoolCollector{
		stats:    stats,
		maxPools: maxPools,
		maxKeys:  DefaultMaxKeys,
		seen:     make(map[string]struct{}),
		descs:    make(map[string]*prometheus.Desc, poolMetricsExported),
	}
	for _, n := range []string{
		mPoolWorkers, mPoolRunning, mPoolIdle, mPoolQueued, mPoolQueueCapacity,
		mPoolMaxWorkers, mPoolSubmitted, mPoolTasks, mPoolRejected,
		mPoolQueueWait, mPoolRun, mPoolKeyRunning,
	} {
		c.descs[n] = newDesc(n)
	}
	return c
}

// Dropped returns how many pools the last scrape left out, over the cap or
// with a duplicate name.
func (c *PoolCollector) Dropped() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dropped
}

// DroppedKeys returns how many keys of the exported pools the last scrape
// left out of gdiag_pool_key_running: beyond the per-pool cap, or with a
// label value Prometheus refuses (not valid UTF-8). It counts only keys the
// pools listed in their Stats, which are at most pool.MaxStatsKeys each; it
// is not logged, since keys come and go from one scrape to the next.
func (c *PoolCollector) DroppedKeys() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.droppedKeys
}

// Describe sends the descriptors of every metric the collector emits.
func (c *PoolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

// Collect reads every listed pool's Stats and sends its metrics.
func (c *PoolCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf = c.stats(c.buf[:0])
	clear(c.seen)
	dropped, droppedKeys := 0, 0
	for i := range c.buf {
		st := &c.buf[i]
		if _, dup := c.seen[st.Name]; dup || len(c.seen) >= c.maxPools {
			dropped++
			continue
		}
		c.seen[st.Name] = struct{}{}
		c.collectPool(ch, st)
		droppedKeys += c.collectKeys(ch, st)
	}
	if dropped != c.dropped && c.logger != nil {
		c.logger.Warn("prometheus: pools left out of the scrape",
			"dropped", dropped, "max_pools", c.maxPools, "listed", len(c.buf))
	}
	c.dropped, c.droppedKeys = dropped, droppedKeys
	clear(c.buf) // drop references to histogram slices until the next scrape
}

func (c *PoolCollector) collectPool(ch chan<- prometheus.Metric, st *pool.Stats) {
	name := st.Name
	gauge := func(m string, v int) {
		ch <- prometheus.MustNewConstMetric(c.descs[m], prometheus.GaugeValue, float64(v), name)
	}
	counter := func(m string, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(c.descs[m], prometheus.CounterValue, float64(v), append([]string{name}, labels...)...)
	}
	gauge(mPoolWorkers, st.Workers)
	gauge(mPoolRunning, st.Running)
	gauge(mPoolIdle, st.Idle)
	gauge(mPoolQueued, st.Queued)
	gauge(mPoolQueueCapacity, st.QueueCapacity)
	gauge(mPoolMaxWorkers, st.MaxWorkers)
	counter(mPoolSubmitted, st.Submitted)
	counter(mPoolTasks, st.Completed, pool.Completed.String())
	counter(mPoolTasks, st.Failed, pool.Failed.String())
	counter(mPoolTasks, st.Panicked, pool.Panicked.String())
	counter(mPoolTasks, st.Canceled, pool.Canceled.String())
	counter(mPoolRejected, st.Rejected)
	ch <- poolHistogram(c.descs[mPoolQueueWait], st.QueueWait, name)
	ch <- poolHistogram(c.descs[mPoolRun], st.RunTime, name)
}

// collectKeys sends gdiag_pool_key_running for the first c.maxKeys of the
// pool's busiest keys (Stats lists them busiest first) and returns how many
// keys it left out. Keys are user data (a tenant from a request, say), so a
// key that is not a valid label value is skipped rather than failing the
// scrape.
func (c *PoolCollector) collectKeys(ch chan<- prometheus.Metric, st *pool.Stats) (dropped int) {
	d := c.descs[mPoolKeyRunning]
	for i, k := range st.Keys {
		if i >= c.maxKeys {
			return len(st.Keys) - i
		}
		m, err := prometheus.NewConstMetric(d, prometheus.GaugeValue, float64(k.Running), st.Name, k.Key)
		if err != nil {
			dropped++
			continue
		}
		ch <- m
	}
	return dropped
}

// poolHistogram converts a pool histogram, whose buckets are already
// inclusive upper bounds as Prometheus wants, to seconds. The count is the
// sum of the buckets rather than h.Count: the pool updates them one by one
// without a lock, and Prometheus needs +Inf to cover every bucket.
func poolHistogram(d *prometheus.Desc, h pool.Histogram, name string) prometheus.Metric {
	buckets := make(map[float64]uint64, len(h.Bounds))
	var cum uint64
	for i, b := range h.Bounds {
		if i < len(h.Counts) {
			cum += h.Counts[i]
		}
		buckets[b.Seconds()] = cum
	}
	if len(h.Counts) > len(h.Bounds) {
		cum += h.Counts[len(h.Bounds)]
	}
	return prometheus.MustNewConstHistogram(d, cum, h.Sum.Seconds(), buckets, name)
}
