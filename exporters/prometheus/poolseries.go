package prometheus

import (
	"cmp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/gdiag/gdiag/pool"
)

// poolScalar describes one of a pool's gauge or counter series.
type poolScalar struct {
	name    string
	counter bool
	outcome int // the outcome label's pool.Outcome, or -1 for none
}

// poolScalars are the gauges and counters every pool has, in the order of
// poolValues.scalars.
var poolScalars = [...]poolScalar{
	{mPoolWorkers, false, -1},
	{mPoolRunning, false, -1},
	{mPoolIdle, false, -1},
	{mPoolQueued, false, -1},
	{mPoolParked, false, -1},
	{mPoolQueueCapacity, false, -1},
	{mPoolMaxWorkers, false, -1},
	{mPoolLimit, false, -1},
	{mPoolSubmitted, true, -1},
	{mPoolTasks, true, int(pool.Completed)},
	{mPoolTasks, true, int(pool.Failed)},
	{mPoolTasks, true, int(pool.Panicked)},
	{mPoolTasks, true, int(pool.Canceled)},
	{mPoolRejected, true, -1},
	{mPoolHookPanics, true, -1},
}

// scalarOrder lists the indices of poolScalars by metric name, then by
// outcome name: the order the registry sorts series in.
var scalarOrder = func() (order [len(poolScalars)]int) {
	for i := range order {
		order[i] = i
	}
	outcome := func(sc poolScalar) string {
		if sc.outcome < 0 {
			return ""
		}
		return pool.Outcome(sc.outcome).String()
	}
	slices.SortFunc(order[:], func(a, b int) int {
		sa, sb := poolScalars[a], poolScalars[b]
		return cmp.Or(strings.Compare(sa.name, sb.name), strings.Compare(outcome(sa), outcome(sb)))
	})
	return order
}()

// reasonOrder lists the indices of pool.Refusals.ByReason by reason name,
// the order the registry sorts gdiag_pool_tasks_refused_total in.
var reasonOrder = func() (order [pool.NumRefusalReasons]int) {
	names := pool.Refusals{}.ByReason()
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order[:], func(a, b int) int { return strings.Compare(names[a].Reason, names[b].Reason) })
	return order
}()

// numPoolGauges is how many of poolScalars are gauges.
const numPoolGauges = 8

// extraKind is the metric of an extra series: the series a pool has only
// while there is something to show (a refusal reason that occurred, a
// control the pool uses), so that a pool without overload controls pays no
// series for them.
type extraKind uint8

const (
	extraRefused      extraKind = iota // gdiag_pool_tasks_refused_total{reason}, for reasons the pool can refuse for
	extraShedding                      // gdiag_pool_shedding, with WithShedding
	extraRate                          // gdiag_pool_rate_limit{scope}, per token bucket
	extraBreaker                       // gdiag_pool_breaker_state{key}, per breaker listed
	extraBreakerOpens                  // gdiag_pool_breaker_opens_total, with WithBreaker
	numExtras
)

// extraMetrics are the metric name, kind and second label of each
// extraKind.
var extraMetrics = [numExtras]struct {
	name    string
	counter bool
	label   string
}{
	extraRefused:      {mPoolRefused, true, "reason"},
	extraShedding:     {mPoolShedding, false, ""},
	extraRate:         {mPoolRateLimit, false, "scope"},
	extraBreaker:      {mPoolBreakerState, false, "key"},
	extraBreakerOpens: {mPoolBreakerOpens, true, ""},
}

// extraValue is one extra series: its metric, its second label's value
// (if the metric has one), and its value.
type extraValue struct {
	kind  extraKind
	label string
	value float64
}

// extraID names an extra series in a pool, for its cached label pairs.
type extraID struct {
	kind  extraKind
	label string
}

// poolState is what the collector keeps of an exported pool between
// scrapes: its label pairs, the numbers its series were last built from,
// and those series.
type poolState struct {
	name   string
	labels [len(poolScalars)][]*dto.LabelPair
	keys   map[string]*keyLabels  // the keys of the last scrape
	extras map[extraID]*keyLabels // the label pairs of the extra series of the last scrape
	seen   uint64                 // the last scrape that exported the pool

	cur, last poolValues          // this scrape's numbers; those series shows
	series    []prometheus.Metric // built from last; nil before the first build
}

type keyLabels struct {
	pairs []*dto.LabelPair // nil for a key that is not a valid label value
	seen  uint64
}

// poolValues are the numbers a pool's series show.
type poolValues struct {
	scalars     [len(poolScalars)]float64
	hists       [2]histValues // queue wait, run time
	keys        []keyValue
	extras      []extraValue
	droppedKeys int
}

type histValues struct {
	bounds []float64 // in seconds, shared by the pool's scrapes while they do not change
	cum    []uint64  // cumulative counts, one per bound
	count  uint64
	sum    float64
}

type keyValue struct {
	labels  []*dto.LabelPair // one slice per key: identifies it
	running float64
}

// fill sets ps.cur from st, and forgets the label pairs of keys st no
// longer lists.
func (c *PoolCollector) fill(ps *poolState, st *pool.Stats) {
	v := &ps.cur
	v.scalars = [...]float64{
		float64(st.Workers), float64(st.Running), float64(st.Idle), float64(st.Queued), float64(st.Parked),
		float64(st.QueueCapacity), float64(st.MaxWorkers), float64(st.Limit),
		float64(st.Submitted),
		float64(st.Completed), float64(st.Failed), float64(st.Panicked), float64(st.Canceled),
		float64(st.Rejected), float64(st.HookPanics),
	}
	c.fillExtras(ps, st)
	v.hists[0].fill(st.QueueWait, ps.last.hists[0].bounds)
	v.hists[1].fill(st.RunTime, ps.last.hists[1].bounds)
	v.keys, v.droppedKeys = v.keys[:0], 0
	for i, k := range st.Keys {
		if i >= c.maxKeys {
			v.droppedKeys += len(st.Keys) - i
			break
		}
		kl, ok := ps.keys[k.Key]
		if !ok {
			kl = &keyLabels{}
			if utf8.ValidString(k.Key) {
				kl.pairs = labelPairs("pool", ps.name, "key", k.Key)
			}
			ps.keys[k.Key] = kl
		}
		kl.seen = c.scrape
		if kl.pairs == nil {
			v.droppedKeys++ // keys are user data: skip one Prometheus refuses
			continue
		}
		v.keys = append(v.keys, keyValue{kl.pairs, float64(k.Running)})
	}
	for key, kl := range ps.keys {
		if kl.seen != c.scrape {
			delete(ps.keys, key)
		}
	}
}

// fillExtras sets ps.cur.extras from st, and forgets the label pairs of
// extra series st no longer has.
func (c *PoolCollector) fillExtras(ps *poolState, st *pool.Stats) {
	v := &ps.cur
	v.extras = v.extras[:0]
	add := func(kind extraKind, label string, value float64) {
		v.extras = append(v.extras, extraValue{kind, label, value})
	}
	can, reasons := st.Refusing(), st.Refused.ByReason()
	for _, i := range reasonOrder { // in the registry's order, as below
		if r := reasons[i]; r.Count > 0 || can[i] {
			add(extraRefused, r.Reason, float64(r.Count))
		}
	}
	if st.ShedTarget > 0 {
		shedding := 0.0
		if st.Shedding {
			shedding = 1
		}
		add(extraShedding, "", shedding)
	}
	if st.KeyRate.PerSecond > 0 {
		add(extraRate, "key", st.KeyRate.PerSecond)
	}
	if st.Rate.PerSecond > 0 {
		add(extraRate, "pool", st.Rate.PerSecond)
	}
	if st.Breakers != nil {
		add(extraBreakerOpens, "", float64(st.BreakerOpens))
	}
	for i, b := range st.Breakers {
		if i > c.maxKeys { // the pool's breaker, then as many keys as gdiag_pool_key_running has
			v.droppedKeys += len(st.Breakers) - i
			break
		}
		if !utf8.ValidString(b.Key) {
			v.droppedKeys++ // keys are user data: skip one Prometheus refuses
			continue
		}
		add(extraBreaker, b.Key, float64(b.State))
	}
	if ps.extras == nil {
		ps.extras = make(map[extraID]*keyLabels)
	}
	for _, e := range v.extras {
		id := extraID{e.kind, e.label}
		el, ok := ps.extras[id]
		if !ok {
			m := extraMetrics[e.kind]
			el = &keyLabels{pairs: labelPairs("pool", ps.name)}
			if m.label != "" {
				el.pairs = labelPairs("pool", ps.name, m.label, e.label)
			}
			ps.extras[id] = el
		}
		el.seen = c.scrape
	}
	for id, el := range ps.extras {
		if el.seen != c.scrape {
			delete(ps.extras, id)
		}
	}
}

// fill sets v from a pool histogram, whose buckets are already inclusive
// upper bounds as Prometheus wants, converted to seconds; it reuses bounds
// when they are the same. The count is the sum of the buckets rather than
// h.Count: the pool updates them one by one without a lock, and Prometheus
// needs +Inf to cover every bucket.
func (v *histValues) fill(h pool.Histogram, bounds []float64) {
	if !sameBounds(bounds, h.Bounds) {
		bounds = make([]float64, len(h.Bounds))
		for i, b := range h.Bounds {
			bounds[i] = b.Seconds()
		}
	}
	v.bounds = bounds
	v.cum = v.cum[:0]
	var cum uint64
	for i := range h.Bounds {
		if i < len(h.Counts) {
			cum += h.Counts[i]
		}
		v.cum = append(v.cum, cum)
	}
	if len(h.Counts) > len(h.Bounds) {
		cum += h.Counts[len(h.Bounds)]
	}
	v.count, v.sum = cum, h.Sum.Seconds()
}

// sameBounds reports whether secs holds bounds, converted to seconds.
func sameBounds(secs []float64, bounds []time.Duration) bool {
	if len(secs) != len(bounds) {
		return false
	}
	for i, b := range bounds {
		if secs[i] != b.Seconds() {
			return false
		}
	}
	return true
}

// equal reports whether v and w would give the same series.
func (v *poolValues) equal(w *poolValues) bool {
	if v.scalars != w.scalars || len(v.keys) != len(w.keys) || v.droppedKeys != w.droppedKeys || !slices.Equal(v.extras, w.extras) {
		return false
	}
	for i := range v.hists {
		a, b := &v.hists[i], &w.hists[i]
		if a.count != b.count || a.sum != b.sum || len(a.bounds) != len(b.bounds) ||
			len(a.bounds) > 0 && &a.bounds[0] != &b.bounds[0] || !slices.Equal(a.cum, b.cum) {
			return false
		}
	}
	for i, k := range v.keys {
		if k.running != w.keys[i].running || &k.labels[0] != &w.keys[i].labels[0] {
			return false
		}
	}
	return true
}

// poolBlock holds a pool's gauges, counters and histograms (but for their
// buckets): one allocation.
type poolBlock struct {
	gauges   [numPoolGauges]gaugeCell
	counters [len(poolScalars) - numPoolGauges]counterCell
	hists    [2]histCell
}

// build makes the pool's series from ps.last, in new memory: the old
// series may still be in the hands of an earlier Gather's caller.
func (c *PoolCollector) build(ps *poolState) {
	v := &ps.last
	b := new(poolBlock)
	nb := len(v.hists[0].bounds) + len(v.hists[1].bounds)
	cells, ptrs := make([]bucketCell, nb), make([]*dto.Bucket, nb)
	ms := ps.series[:0]
	for i, sc := range poolScalars {
		if sc.counter {
			ms = append(ms, b.counters[i-numPoolGauges].set(c.scalarDescs[i], v.scalars[i], ps.labels[i]))
		} else {
			ms = append(ms, b.gauges[i].set(c.scalarDescs[i], v.scalars[i], ps.labels[i]))
		}
	}
	for i, d := range [...]*prometheus.Desc{c.queueWait, c.runTime} {
		h := &v.hists[i]
		n := len(h.bounds)
		ms = append(ms, b.hists[i].set(d, ps.labels[0], h.bounds, h.cum, h.count, h.sum, cells[:n], ptrs[:n]))
		cells, ptrs = cells[n:], ptrs[n:]
	}
	if len(v.keys) > 0 {
		keys := make([]gaugeCell, len(v.keys))
		for i, k := range v.keys {
			ms = append(ms, keys[i].set(c.keyRunning, k.running, k.labels))
		}
	}
	if len(v.extras) > 0 {
		cells := make([]struct {
			g gaugeCell
			c counterCell
		}, len(v.extras)) // one allocation for both kinds
		for i, e := range v.extras {
			labels := ps.extras[extraID{e.kind, e.label}].pairs
			if extraMetrics[e.kind].counter {
				ms = append(ms, cells[i].c.set(c.extraDescs[e.kind], e.value, labels))
			} else {
				ms = append(ms, cells[i].g.set(c.extraDescs[e.kind], e.value, labels))
			}
		}
	}
	ps.series = ms
}
