package otel

import (
	"context"
	"strconv"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/gdiag/gdiag/pool"
	"github.com/gdiag/gdiag/schedstats"
)

// collector holds the instruments of one RegisterMetrics call and the
// snapshot its callback reuses between collections.
type collector struct {
	opts       MetricsOptions
	goroutines metric.Int64ObservableUpDownCounter
	procs      metric.Int64ObservableUpDownCounter
	inst       map[string]metric.Observable // by catalogue name; read-only after setup

	mu   sync.Mutex // several readers may collect at once
	snap schedstats.Snapshot
}

// observe is the meter callback.
func (c *collector) observe(_ context.Context, o metric.Observer) error {
	c.mu.Lock()
	c.opts.Read(&c.snap)
	s := &c.snap
	c.observeSched(o, s)
	c.mu.Unlock()
	pools := c.opts.Pools()
	if len(pools) > c.opts.MaxPools {
		pools = pools[:c.opts.MaxPools]
	}
	for _, p := range pools {
		c.observePool(o, p.Stats())
	}
	return nil
}

func (c *collector) observeSched(o metric.Observer, s *schedstats.Snapshot) {
	o.ObserveInt64(c.goroutines, int64(s.Goroutines.Total))
	o.ObserveInt64(c.procs, int64(s.GOMAXPROCS))
	c.int(o, "gdiag_sched_gomaxprocs", int64(s.GOMAXPROCS))
	c.int(o, "gdiag_sched_idle_procs", int64(s.IdlePs))
	c.int(o, "gdiag_sched_threads", int64(s.Threads))
	c.int(o, "gdiag_sched_threads_idle", int64(s.IdleThreads))
	c.int(o, "gdiag_sched_threads_spinning", int64(s.SpinningThreads))
	c.int(o, "gdiag_sched_threads_created_total", int64(s.MsCreated))
	c.int(o, "gdiag_sched_threads_freed_total", int64(s.MsFreed))
	c.int(o, "gdiag_sched_global_runqueue", int64(s.GlobalRunQueue))
	for p, n := range s.LocalRunQueues {
		c.int(o, "gdiag_sched_local_runqueue", int64(n), labelKeys["p"].String(strconv.Itoa(p)))
	}
	state := labelKeys["state"]
	c.int(o, "gdiag_sched_goroutines", int64(s.Goroutines.Total), state.String("total"))
	c.int(o, "gdiag_sched_goroutines", int64(s.Goroutines.Running), state.String("running"))
	c.int(o, "gdiag_sched_goroutines", int64(s.Goroutines.Runnable), state.String("runnable"))
	c.int(o, "gdiag_sched_goroutines", int64(s.Goroutines.Waiting), state.String("waiting"))
	c.int(o, "gdiag_sched_goroutines", int64(s.Goroutines.NotInGo), state.String("not_in_go"))
	c.int(o, "gdiag_sched_goroutines_system", int64(s.SystemGoroutines))
	c.int(o, "gdiag_sched_goroutines_created_total", int64(s.GoroutinesCreated))
	c.quantiles(o, "gdiag_sched_latency_seconds", s.SchedLatency.Count() > 0, s.SchedLatency.Quantile)
	kind := labelKeys["kind"]
	c.quantiles(o, "gdiag_sched_pause_seconds", s.GCPauses.Count() > 0, s.GCPauses.Quantile, kind.String("gc"))
	c.quantiles(o, "gdiag_sched_pause_seconds", s.OtherPauses.Count() > 0, s.OtherPauses.Quantile, kind.String("other"))
	c.float(o, "gdiag_sync_mutex_wait_seconds_total", s.MutexWait.Seconds())
}

func (c *collector) observePool(o metric.Observer, st pool.Stats) {
	name := attrPoolName.String(st.Name)
	c.int(o, "gdiag_pool_workers", int64(st.Workers), name)
	c.int(o, "gdiag_pool_workers_running", int64(st.Running), name)
	c.int(o, "gdiag_pool_workers_idle", int64(st.Idle), name)
	c.int(o, "gdiag_pool_queued", int64(st.Queued), name)
	c.int(o, "gdiag_pool_queue_capacity", int64(st.QueueCapacity), name)
	c.int(o, "gdiag_pool_max_workers", int64(st.MaxWorkers), name)
	c.int(o, "gdiag_pool_tasks_submitted_total", int64(st.Submitted), name)
	c.int(o, "gdiag_pool_tasks_rejected_total", int64(st.Rejected), name)
	for _, oc := range [...]struct {
		outcome pool.Outcome
		n       uint64
	}{{pool.Completed, st.Completed}, {pool.Failed, st.Failed}, {pool.Panicked, st.Panicked}, {pool.Canceled, st.Canceled}} {
		c.int(o, "gdiag_pool_tasks_total", int64(oc.n), name, attrOutcome.String(oc.outcome.String()))
	}
	c.quantiles(o, "gdiag_pool_queue_wait_seconds", st.QueueWait.Count > 0, seconds(st.QueueWait), name)
	c.quantiles(o, "gdiag_pool_run_seconds", st.RunTime.Count > 0, seconds(st.RunTime), name)
	for _, k := range st.Keys { // the busiest keys only: at most pool.MaxStatsKeys
		c.int(o, "gdiag_pool_key_running", int64(k.Running), name, attrKey.String(k.Key))
	}
}

func seconds(h pool.Histogram) func(float64) float64 {
	return func(q float64) float64 { return h.Quantile(q).Seconds() }
}

// int observes an integer gauge or counter by catalogue name. A name the
// catalogue no longer has is skipped; the mapping test catches that.
func (c *collector) int(o metric.Observer, name string, v int64, attrs ...attribute.KeyValue) {
	if inst, ok := c.inst[name].(metric.Int64Observable); ok {
		o.ObserveInt64(inst, v, metric.WithAttributes(attrs...))
	}
}

func (c *collector) float(o metric.Observer, name string, v float64, attrs ...attribute.KeyValue) {
	if inst, ok := c.inst[name].(metric.Float64Observable); ok {
		o.ObserveFloat64(inst, v, metric.WithAttributes(attrs...))
	}
}

// quantiles observes a histogram's quantiles; an empty histogram reports
// nothing rather than misleading zeros.
func (c *collector) quantiles(o metric.Observer, name string, nonEmpty bool, q func(float64) float64, attrs ...attribute.KeyValue) {
	if !nonEmpty {
		return
	}
	for _, qq := range quantiles {
		a := append(attrs[:len(attrs):len(attrs)], attrQuantile.Float64(qq))
		c.float(o, name, q(qq), a...)
	}
}
