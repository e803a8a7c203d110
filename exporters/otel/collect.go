package otel

import (
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/semconv/v1.37.0/goconv"

	"github.com/gdiag/gdiag/pool"
	"github.com/gdiag/gdiag/schedstats"
)

// schedBounds are the upper bounds, in seconds, that the runtime's
// scheduler histograms are re-bucketed into (schedstats.ExportBounds, as
// in the Prometheus exporter); shared by every data point, never written.
var schedBounds = schedstats.ExportBounds()

// entry gathers the data points of one metric during a collection.
type entry struct {
	name, unit, desc string
	kind             schedstats.MetricType
	float            bool // a counter of seconds
	upDown           bool // a semantic-convention UpDownCounter
	ints             []metricdata.DataPoint[int64]
	floats           []metricdata.DataPoint[float64]
	hists            []metricdata.HistogramDataPoint[float64]
}

// builder makes the metrics of one collection.
type builder struct {
	now, start                       time.Time
	entries                          []*entry          // in the order they are emitted
	byName                           map[string]*entry // by catalogue name
	goroutines, procs, schedDuration *entry
}

func newBuilder(now, start time.Time) *builder {
	b := &builder{now: now, start: start, byName: make(map[string]*entry)}
	var gc goconv.GoroutineCount
	var pl goconv.ProcessorLimit
	var sd goconv.ScheduleDuration
	b.goroutines = b.add(&entry{name: gc.Name(), unit: gc.Unit(), desc: gc.Description(), kind: schedstats.TypeGauge, upDown: true})
	b.procs = b.add(&entry{name: pl.Name(), unit: pl.Unit(), desc: pl.Description(), kind: schedstats.TypeGauge, upDown: true})
	b.schedDuration = b.add(&entry{name: sd.Name(), unit: sd.Unit(), desc: sd.Description(), kind: schedstats.TypeHistogram})
	for _, m := range schedstats.Catalogue() {
		e := b.add(&entry{name: OTelName(m.Name), unit: otelUnit(m.Unit), desc: m.Help, kind: m.Type,
			float: m.Type == schedstats.TypeCounter && m.Unit == "seconds"})
		b.byName[m.Name] = e
	}
	return b
}

func (b *builder) add(e *entry) *entry {
	b.entries = append(b.entries, e)
	return e
}

// int adds a gauge or integer counter point to the catalogued metric name.
// A name the catalogue no longer has is skipped; the tests catch that.
func (b *builder) int(name string, start time.Time, v int64, attrs attribute.Set) {
	if e := b.byName[name]; e != nil {
		b.intTo(e, start, v, attrs)
	}
}

func (b *builder) intTo(e *entry, start time.Time, v int64, attrs attribute.Set) {
	p := metricdata.DataPoint[int64]{Attributes: attrs, Time: b.now, Value: v}
	if e.kind == schedstats.TypeCounter || e.upDown {
		p.StartTime = start
	}
	e.ints = append(e.ints, p)
}

// float adds a float gauge point to the catalogued metric name.
func (b *builder) float(name string, v float64, attrs attribute.Set) {
	if e := b.byName[name]; e != nil {
		e.floats = append(e.floats, metricdata.DataPoint[float64]{Attributes: attrs, Time: b.now, Value: v})
	}
}

// hist adds a histogram point with per-bucket counts (len(bounds)+1).
func (b *builder) hist(e *entry, start time.Time, attrs attribute.Set, bounds []float64, counts []uint64, count uint64, sum float64) {
	if e == nil {
		return
	}
	e.hists = append(e.hists, metricdata.HistogramDataPoint[float64]{
		Attributes: attrs, StartTime: start, Time: b.now,
		Count: count, Bounds: bounds, BucketCounts: counts, Sum: sum,
	})
}

// sched adds the scheduler's metrics. Parts of the snapshot that its reader
// did not fill (Sources reports SourceNone) are left out rather than
// exported as zeros, as in the Prometheus exporter.
func (b *builder) sched(s *schedstats.Snapshot) {
	none := *attribute.EmptySet()
	procs, threads := s.Sources.Procs, s.Sources.Threads
	mirror := threads == schedstats.SourceSched
	if procs != schedstats.SourceNone {
		b.intTo(b.procs, b.start, int64(s.GOMAXPROCS), none)
		b.int("gdiag_sched_gomaxprocs", b.start, int64(s.GOMAXPROCS), none)
	}
	if procs == schedstats.SourceSched || procs == schedstats.SourceSchedtrace {
		b.int("gdiag_sched_idle_procs", b.start, int64(s.IdlePs), none)
	}
	if threads != schedstats.SourceNone {
		b.int("gdiag_sched_threads", b.start, int64(s.Threads), none)
	}
	if mirror || threads == schedstats.SourceSchedtrace {
		b.int("gdiag_sched_threads_idle", b.start, int64(s.IdleThreads), none)
		b.int("gdiag_sched_threads_spinning", b.start, int64(s.SpinningThreads), none)
	}
	if mirror {
		b.int("gdiag_sched_threads_created_total", b.start, int64(s.MsCreated), none)
		b.int("gdiag_sched_threads_freed_total", b.start, int64(s.MsFreed), none)
		b.int("gdiag_sched_goroutines_system", b.start, int64(s.SystemGoroutines), none)
	}
	if s.Sources.RunQueues != schedstats.SourceNone {
		b.int("gdiag_sched_global_runqueue", b.start, int64(s.GlobalRunQueue), none)
		for p, n := range s.LocalRunQueues {
			b.int("gdiag_sched_local_runqueue", b.start, int64(n), attribute.NewSet(labelKeys["p"].String(strconv.Itoa(p))))
		}
	}
	if s.Sources.Goroutines != schedstats.SourceNone {
		g := s.Goroutines
		b.intTo(b.goroutines, b.start, int64(g.Total), none)
		state := labelKeys["state"]
		for _, st := range [...]struct {
			name string
			n    int
		}{{"total", g.Total}, {"running", g.Running}, {"runnable", g.Runnable}, {"waiting", g.Waiting}, {"not_in_go", g.NotInGo}} {
			b.int("gdiag_sched_goroutines", b.start, int64(st.n), attribute.NewSet(state.String(st.name)))
		}
		b.int("gdiag_sched_goroutines_created_total", b.start, int64(s.GoroutinesCreated), none)
	}
	if s.Sources.Latency != schedstats.SourceNone {
		counts, count, sum := rebucket(s.SchedLatency)
		b.hist(b.byName["gdiag_sched_latency_seconds"], b.start, none, schedBounds, counts, count, sum)
		b.hist(b.schedDuration, b.start, none, schedBounds, counts, count, sum)
	}
	if s.Sources.Pauses != schedstats.SourceNone {
		kind := labelKeys["kind"]
		for _, k := range [...]struct {
			metric, kind string
			h            schedstats.Histogram
		}{
			{"gdiag_sched_pause_seconds", "gc", s.GCPauses}, {"gdiag_sched_pause_seconds", "other", s.OtherPauses},
			{"gdiag_sched_pause_stopping_seconds", "gc", s.GCStopping}, {"gdiag_sched_pause_stopping_seconds", "other", s.OtherStopping},
		} {
			counts, count, sum := rebucket(k.h)
			b.hist(b.byName[k.metric], b.start, attribute.NewSet(kind.String(k.kind)), schedBounds, counts, count, sum)
		}
	}
	if s.Sources.Mutex != schedstats.SourceNone {
		if e := b.byName["gdiag_sync_mutex_wait_seconds_total"]; e != nil {
			e.floats = append(e.floats, metricdata.DataPoint[float64]{Attributes: none, StartTime: b.start, Time: b.now, Value: s.MutexWait.Seconds()})
		}
	}
}

// rebucket converts a runtime/metrics-layout histogram to per-bucket counts
// over schedBounds and +Inf (schedstats.Histogram.Rebucket), in a slice of
// its own: the data point keeps it.
func rebucket(h schedstats.Histogram) (counts []uint64, count uint64, sum float64) {
	counts = make([]uint64, len(schedBounds)+1)
	count, sum = h.Rebucket(schedBounds, counts)
	return counts, count, sum
}

// poolAttrs is what the producer keeps of a pool between collections.
type poolAttrs struct {
	pool      attribute.Set
	outcomes  [4]attribute.Set                      // by pool.Outcome
	reasons   [pool.NumRefusalReasons]attribute.Set // by pool.Refusals.ByReason
	start     time.Time                             // of the pool's cumulative series
	submitted uint64                                // at the last collection
	last      time.Time                             // of the last collection that saw the pool
	seen      uint64
	bounds    []float64 // histogram bounds in seconds, while the pool keeps them
}

// poolAttrs returns the attributes of the pool st describes and the start
// of its cumulative series: when the producer started, for a pool it saw
// from its first collection or that appeared since (its counts began later,
// so that start is early but never late), or the previous collection, when
// the counts went down because a new pool took the name.
func (p *Producer) poolAttrs(st *pool.Stats, now time.Time) *poolAttrs {
	a, ok := p.pools[st.Name]
	switch {
	case !ok:
		a = &poolAttrs{pool: attribute.NewSet(attrPoolName.String(st.Name)), start: p.start}
		for o := range a.outcomes {
			a.outcomes[o] = attribute.NewSet(attrPoolName.String(st.Name), attrOutcome.String(pool.Outcome(o).String()))
		}
		for i, r := range (pool.Refusals{}).ByReason() {
			a.reasons[i] = attribute.NewSet(attrPoolName.String(st.Name), attrReason.String(r.Reason))
		}
		p.pools[st.Name] = a
	case st.Submitted < a.submitted:
		a.start = a.last
	}
	a.submitted, a.last, a.seen = st.Submitted, now, p.round
	return a
}

// pool adds a pool's metrics.
func (b *builder) pool(st *pool.Stats, a *poolAttrs) {
	for _, g := range [...]struct {
		name string
		v    int
	}{
		{"gdiag_pool_workers", st.Workers}, {"gdiag_pool_workers_running", st.Running},
		{"gdiag_pool_workers_idle", st.Idle}, {"gdiag_pool_queued", st.Queued}, {"gdiag_pool_parked", st.Parked},
		{"gdiag_pool_queue_capacity", st.QueueCapacity}, {"gdiag_pool_max_workers", st.MaxWorkers},
	} {
		b.int(g.name, a.start, int64(g.v), a.pool)
	}
	b.int("gdiag_pool_tasks_submitted_total", a.start, int64(st.Submitted), a.pool)
	b.int("gdiag_pool_tasks_rejected_total", a.start, int64(st.Rejected), a.pool)
	b.int("gdiag_pool_hook_panics_total", a.start, int64(st.HookPanics), a.pool)
	for o, n := range [...]uint64{pool.Completed: st.Completed, pool.Failed: st.Failed, pool.Panicked: st.Panicked, pool.Canceled: st.Canceled} {
		b.int("gdiag_pool_tasks_total", a.start, int64(n), a.outcomes[o])
	}
	b.poolHist("gdiag_pool_queue_wait_seconds", st.QueueWait, a)
	b.poolHist("gdiag_pool_run_seconds", st.RunTime, a)
	for _, k := range st.Keys { // the busiest keys only: at most pool.MaxStatsKeys
		b.int("gdiag_pool_key_running", a.start, int64(k.Running), attribute.NewSet(attrPoolName.String(st.Name), attrKey.String(k.Key)))
	}
	b.overload(st, a)
}

// overload adds the overload controls' metrics of a pool: as in the
// Prometheus exporter, only those of the controls the pool uses (refusal
// reasons the pool can refuse for, or that occurred).
func (b *builder) overload(st *pool.Stats, a *poolAttrs) {
	b.int("gdiag_pool_limit", a.start, int64(st.Limit), a.pool)
	can := st.Refusing()
	for i, r := range st.Refused.ByReason() {
		if r.Count > 0 || can[i] {
			b.int("gdiag_pool_tasks_refused_total", a.start, int64(r.Count), a.reasons[i])
		}
	}
	if st.ShedTarget > 0 {
		shedding := int64(0)
		if st.Shedding {
			shedding = 1
		}
		b.int("gdiag_pool_shedding", a.start, shedding, a.pool)
	}
	for _, r := range [...]struct {
		scope string
		rate  pool.Rate
	}{{"pool", st.Rate}, {"key", st.KeyRate}} {
		if r.rate.PerSecond > 0 {
			b.float("gdiag_pool_rate_limit", r.rate.PerSecond, attribute.NewSet(attrPoolName.String(st.Name), attrScope.String(r.scope)))
		}
	}
	if st.Breakers != nil {
		b.int("gdiag_pool_breaker_opens_total", a.start, int64(st.BreakerOpens), a.pool)
	}
	for _, k := range st.Breakers { // the pool's and at most pool.MaxStatsKeys keys'
		b.int("gdiag_pool_breaker_state", a.start, int64(k.State), attribute.NewSet(attrPoolName.String(st.Name), attrKey.String(k.Key)))
	}
}

// poolHist adds a pool histogram, whose buckets are already per-bucket
// counts with inclusive upper bounds, as OpenTelemetry's explicit buckets
// are, converted to seconds. The count is the sum of the buckets rather
// than h.Count: the pool updates them one by one without a lock.
func (b *builder) poolHist(name string, h pool.Histogram, a *poolAttrs) {
	if len(h.Counts) != len(h.Bounds)+1 {
		return // not the documented layout: nothing to say
	}
	if !sameBounds(a.bounds, h.Bounds) {
		a.bounds = make([]float64, len(h.Bounds)) // shared by the points of later collections: never rewritten
		for i, d := range h.Bounds {
			a.bounds[i] = d.Seconds()
		}
	}
	var count uint64
	for _, n := range h.Counts {
		count += n
	}
	b.hist(b.byName[name], a.start, a.pool, a.bounds, h.Counts, count, h.Sum.Seconds())
}

// sameBounds reports whether secs holds bounds, converted to seconds.
func sameBounds(secs []float64, bounds []time.Duration) bool {
	if len(secs) != len(bounds) {
		return false
	}
	for i, d := range bounds {
		if secs[i] != d.Seconds() {
			return false
		}
	}
	return true
}

// metrics returns the metrics that have data points, in the order of
// newBuilder: the semantic-convention ones, then the catalogue's.
func (b *builder) metrics() []metricdata.Metrics {
	var out []metricdata.Metrics
	for _, e := range b.entries {
		m := metricdata.Metrics{Name: e.name, Description: e.desc, Unit: e.unit}
		switch {
		case len(e.hists) > 0:
			m.Data = metricdata.Histogram[float64]{DataPoints: e.hists, Temporality: metricdata.CumulativeTemporality}
		case len(e.floats) > 0 && e.kind == schedstats.TypeGauge:
			m.Data = metricdata.Gauge[float64]{DataPoints: e.floats}
		case len(e.floats) > 0:
			m.Data = metricdata.Sum[float64]{DataPoints: e.floats, Temporality: metricdata.CumulativeTemporality, IsMonotonic: true}
		case len(e.ints) == 0:
			continue
		case e.upDown:
			m.Data = metricdata.Sum[int64]{DataPoints: e.ints, Temporality: metricdata.CumulativeTemporality}
		case e.kind == schedstats.TypeCounter:
			m.Data = metricdata.Sum[int64]{DataPoints: e.ints, Temporality: metricdata.CumulativeTemporality, IsMonotonic: true}
		default:
			m.Data = metricdata.Gauge[int64]{DataPoints: e.ints}
		}
		out = append(out, m)
	}
	return out
}
