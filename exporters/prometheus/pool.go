package prometheus

import (
	"log/slog"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/gdiag/gdiag/pool"
)

// Names of the pool metrics, as in the schedstats catalogue.
const (
	mPoolWorkers       = "gdiag_pool_workers"
	mPoolRunning       = "gdiag_pool_workers_running"
	mPoolIdle          = "gdiag_pool_workers_idle"
	mPoolQueued        = "gdiag_pool_queued"
	mPoolParked        = "gdiag_pool_parked"
	mPoolQueueCapacity = "gdiag_pool_queue_capacity"
	mPoolMaxWorkers    = "gdiag_pool_max_workers"
	mPoolSubmitted     = "gdiag_pool_tasks_submitted_total"
	mPoolTasks         = "gdiag_pool_tasks_total"
	mPoolRejected      = "gdiag_pool_tasks_rejected_total"
	mPoolHookPanics    = "gdiag_pool_hook_panics_total"
	mPoolQueueWait     = "gdiag_pool_queue_wait_seconds"
	mPoolRun           = "gdiag_pool_run_seconds"
	mPoolKeyRunning    = "gdiag_pool_key_running"
	mPoolLimit         = "gdiag_pool_limit"
	mPoolShedding      = "gdiag_pool_shedding"
	mPoolRefused       = "gdiag_pool_tasks_refused_total"
	mPoolBreakerOpens  = "gdiag_pool_breaker_opens_total"
	mPoolRateLimit     = "gdiag_pool_rate_limit"
	mPoolBreakerState  = "gdiag_pool_breaker_state"
)

// PoolCollector is a prometheus.Collector of the pool metrics of the
// schedstats catalogue, labelled by pool name. At each scrape it lists the
// pools and reads their Stats.
//
// Cardinality is bounded: only the first maxPools pools in list order
// (creation order for pool.Registered) are exported, and a pool whose name
// was already seen in the same scrape, or is not valid UTF-8, is skipped,
// since its series would collide or be refused. Dropped reports how many
// were left out by the last scrape, and the Logger given to Register is
// warned when that number changes. Per pool, gdiag_pool_key_running has a
// series for each of the busiest keys only (at most DefaultMaxKeys, or
// Options.MaxKeys through Register); DroppedKeys reports the keys left out.
//
// A pool whose numbers did not change since the last scrape sends the same
// (immutable) series again, so an idle pool costs no allocation. Create it
// with NewPoolCollector; the zero value is not usable. Its methods are safe
// for concurrent use.
type PoolCollector struct {
	stats    func(dst []pool.Stats) []pool.Stats
	maxPools int
	maxKeys  int // per pool; negative for none
	logger   *slog.Logger

	scalarDescs                    [len(poolScalars)]*prometheus.Desc
	queueWait, runTime, keyRunning *prometheus.Desc
	extraDescs                     [numExtras]*prometheus.Desc // by extraKind

	mu  sync.Mutex
	buf []pool.Stats // the last scrape's, kept for StatsInto to refill

	pools       map[string]*poolState // by name: the pools of the last scrape
	scrape      uint64                // counts scrapes, to forget pools and keys
	exported    []*poolState          // the pools of this scrape, then sorted by name
	dropped     int
	droppedKeys int
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
		// The Stats of the last scrape are refilled in place, so that
		// reading a pool reuses its histograms' memory.
		ps := pools()
		dst = slices.Grow(dst[:0], len(ps))[:len(ps)]
		for i, p := range ps {
			p.StatsInto(&dst[i])
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
		stats:      stats,
		maxPools:   maxPools,
		maxKeys:    DefaultMaxKeys,
		pools:      make(map[string]*poolState),
		queueWait:  newDesc(mPoolQueueWait),
		runTime:    newDesc(mPoolRun),
		keyRunning: newDesc(mPoolKeyRunning),
	}
	for k, m := range extraMetrics {
		c.extraDescs[k] = newDesc(m.name)
	}
	for i, sc := range poolScalars {
		c.scalarDescs[i] = newDesc(sc.name)
	}
	return c
}

// Dropped returns how many pools the last scrape left out, over the cap,
// with a duplicate name or with a name that is not valid UTF-8.
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
	for _, d := range c.scalarDescs {
		ch <- d
	}
	ch <- c.queueWait
	ch <- c.runTime
	ch <- c.keyRunning
	for _, d := range c.extraDescs {
		ch <- d
	}
}

// Collect reads every listed pool's Stats and sends its metrics.
func (c *PoolCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf = c.stats(c.buf[:0])
	c.scrape++
	dropped, droppedKeys, exported := 0, 0, 0
	for i := range c.buf {
		if exported >= c.maxPools {
			dropped++
			continue
		}
		st := &c.buf[i]
		ps := c.state(st.Name)
		if ps == nil || ps.seen == c.scrape {
			dropped++ // not a valid label value, or a duplicate
			continue
		}
		ps.seen = c.scrape
		exported++
		c.fill(ps, st)
		if ps.series == nil || !ps.cur.equal(&ps.last) {
			ps.cur, ps.last = ps.last, ps.cur
			c.build(ps)
		}
		c.exported = append(c.exported, ps)
		droppedKeys += ps.last.droppedKeys
	}
	c.emit(ch)
	for name, ps := range c.pools {
		if ps.seen != c.scrape {
			delete(c.pools, name) // a pool gone or left out: forget it
		}
	}
	if dropped != c.dropped && c.logger != nil {
		c.logger.Warn("prometheus: pools left out of the scrape",
			"dropped", dropped, "max_pools", c.maxPools, "listed", len(c.buf))
	}
	c.dropped, c.droppedKeys = dropped, droppedKeys
	clear(c.exported)
	c.exported = c.exported[:0]
}

// emit sends the series of the exported pools, all built by now, in the
// order the registry sorts each metric's series in (by label values, in
// the order of the label names): pools by name, and the task outcomes and
// refusal reasons by name. The registry then finds every family but
// gdiag_pool_key_running and gdiag_pool_breaker_state already sorted, which
// it checks in one pass instead of sorting.
func (c *PoolCollector) emit(ch chan<- prometheus.Metric) {
	pools := c.exported
	slices.SortFunc(pools, func(a, b *poolState) int { return strings.Compare(a.name, b.name) })
	for _, i := range scalarOrder {
		for _, ps := range pools {
			ch <- ps.series[i]
		}
	}
	for h := len(poolScalars); h < len(poolScalars)+2; h++ { // queue wait, run time
		for _, ps := range pools {
			ch <- ps.series[h]
		}
	}
	for _, ps := range pools { // keys and extra series: their own labels follow pool
		send(ch, ps.series[len(poolScalars)+2:])
	}
}

// state returns the state of the named pool, making it the first time, or
// nil when the name is not a valid label value. An invalid name is not
// remembered, so it is checked again at each scrape.
func (c *PoolCollector) state(name string) *poolState {
	if ps, ok := c.pools[name]; ok {
		return ps
	}
	if !utf8.ValidString(name) {
		return nil
	}
	ps := &poolState{name: name, keys: make(map[string]*keyLabels)}
	pl := labelPairs("pool", name)
	var outcomes [4][]*dto.LabelPair
	for o := range outcomes {
		outcomes[o] = labelPairs("pool", name, "outcome", pool.Outcome(o).String())
	}
	for i, sc := range poolScalars {
		ps.labels[i] = pl
		if sc.outcome >= 0 {
			ps.labels[i] = outcomes[sc.outcome]
		}
	}
	c.pools[name] = ps
	return ps
}
