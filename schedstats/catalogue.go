package schedstats

// MetricType is the kind of a catalogued metric, in Prometheus terms.
type MetricType uint8

// The metric types.
const (
	TypeGauge     MetricType = iota // a value that goes up and down
	TypeCounter                     // a cumulative count; its name ends in _total
	TypeHistogram                   // a distribution in buckets
)

// String returns "gauge", "counter" or "histogram".
func (t MetricType) String() string {
	switch t {
	case TypeCounter:
		return "counter"
	case TypeHistogram:
		return "histogram"
	}
	return "gauge"
}

// MarshalText encodes the type as its String form.
func (t MetricType) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// Metric describes one metric that gdiag exports. Exporters, dashboards and
// alert rules are checked against the catalogue.
type Metric struct {
	Name   string     `json:"name"`   // Prometheus name, with the gdiag_ prefix
	Unit   string     `json:"unit"`   // base unit: "seconds" for time, otherwise what is counted
	Type   MetricType `json:"type"`   // gauge, counter or histogram
	Help   string     `json:"help"`   // one sentence, for HELP lines and documentation
	Labels []string   `json:"labels"` // label names, in order; nil when unlabelled
}

// catalogue is the single source of the metric descriptions; Catalogue
// copies it so callers cannot change it.
var catalogue = []Metric{
	{"gdiag_sched_gomaxprocs", "procs", TypeGauge, "Current GOMAXPROCS setting.", nil},
	{"gdiag_sched_idle_procs", "procs", TypeGauge, "Ps with no work to do.", nil},
	{"gdiag_sched_threads", "threads", TypeGauge, "OS threads (Ms) alive.", nil},
	{"gdiag_sched_threads_idle", "threads", TypeGauge, "Ms parked waiting for work.", nil},
	{"gdiag_sched_threads_spinning", "threads", TypeGauge, "Ms spinning while looking for work.", nil},
	{"gdiag_sched_threads_created_total", "threads", TypeCounter, "Ms created since the process started.", nil},
	{"gdiag_sched_threads_freed_total", "threads", TypeCounter, "Ms freed since the process started.", nil},
	{"gdiag_sched_global_runqueue", "goroutines", TypeGauge, "Goroutines in the global run queue.", nil},
	{"gdiag_sched_local_runqueue", "goroutines", TypeGauge, "Goroutines in a P's local run queue (deep mode only).", []string{"p"}},
	{"gdiag_sched_goroutines", "goroutines", TypeGauge, "Goroutines by scheduler state (total, running, runnable, waiting, not_in_go).", []string{"state"}},
	{"gdiag_sched_goroutines_system", "goroutines", TypeGauge, "Goroutines started by the runtime.", nil},
	{"gdiag_sched_goroutines_created_total", "goroutines", TypeCounter, "Goroutines created since the process started.", nil},
	{"gdiag_sched_latency_seconds", "seconds", TypeHistogram, "Time goroutines spent runnable before running.", nil},
	{"gdiag_sched_pause_seconds", "seconds", TypeHistogram, "Stop-the-world pause durations, by cause (gc or other).", []string{"kind"}},
	{"gdiag_sched_pause_stopping_seconds", "seconds", TypeHistogram, "Time from the request to stop the world until every goroutine stopped, by cause (gc or other): the first part of each pause.", []string{"kind"}},
	{"gdiag_sync_mutex_wait_seconds_total", "seconds", TypeCounter, "Time goroutines spent blocked on sync.Mutex and sync.RWMutex.", nil},
	{"gdiag_pool_workers", "workers", TypeGauge, "Worker goroutines alive in the pool.", []string{"pool"}},
	{"gdiag_pool_workers_running", "workers", TypeGauge, "Workers running a task.", []string{"pool"}},
	{"gdiag_pool_workers_idle", "workers", TypeGauge, "Workers waiting for a task.", []string{"pool"}},
	{"gdiag_pool_queued", "tasks", TypeGauge, "Tasks waiting in the pool's queue.", []string{"pool"}},
	{"gdiag_pool_parked", "tasks", TypeGauge, "Accepted tasks held back by the pool's per-key limit; they count against the queue's capacity.", []string{"pool"}},
	{"gdiag_pool_queue_capacity", "tasks", TypeGauge, "Capacity of the pool's queue.", []string{"pool"}},
	{"gdiag_pool_max_workers", "workers", TypeGauge, "Upper bound on the pool's workers.", []string{"pool"}},
	{"gdiag_pool_key_running", "tasks", TypeGauge, "Tasks running per task key, for the pool's busiest keys only (at most 10).", []string{"pool", "key"}},
	{"gdiag_pool_tasks_submitted_total", "tasks", TypeCounter, "Tasks accepted by the pool.", []string{"pool"}},
	{"gdiag_pool_tasks_total", "tasks", TypeCounter, "Tasks finished, by outcome (completed, failed, panicked, canceled).", []string{"pool", "outcome"}},
	{"gdiag_pool_tasks_rejected_total", "tasks", TypeCounter, "Tasks refused, for any reason; gdiag_pool_tasks_refused_total splits them by reason.", []string{"pool"}},
	{"gdiag_pool_tasks_refused_total", "tasks", TypeCounter, "Tasks refused, by reason: queue_full, stopped, canceled (the submitter gave up), rate_limited, shed_wait, shed_key, breaker_open.", []string{"pool", "reason"}},
	{"gdiag_pool_hook_panics_total", "panics", TypeCounter, "Panics recovered from the pool's observer and panic-handler callbacks.", []string{"pool"}},
	{"gdiag_pool_limit", "workers", TypeGauge, "Workers the pool lets run tasks now: its adaptive limit, or its maximum when the limit is fixed.", []string{"pool"}},
	{"gdiag_pool_rate_limit", "tasks/s", TypeGauge, "Tasks per second the pool's token bucket admits (scope pool) or each key's does (scope key); absent without one.", []string{"pool", "scope"}},
	{"gdiag_pool_shedding", "state", TypeGauge, "1 while the pool's queue stands and it sheds the tasks that would wait longer than its target, else 0.", []string{"pool"}},
	{"gdiag_pool_breaker_state", "state", TypeGauge, "State of the pool's breaker (key empty) and of the task keys' breakers most worth a look (at most 10): 0 closed, 1 half-open, 2 open.", []string{"pool", "key"}},
	{"gdiag_pool_breaker_opens_total", "openings", TypeCounter, "Times any of the pool's breakers opened.", []string{"pool"}},
	{"gdiag_pool_queue_wait_seconds", "seconds", TypeHistogram, "Time tasks waited in the queue before a worker took them.", []string{"pool"}},
	{"gdiag_pool_run_seconds", "seconds", TypeHistogram, "Time tasks spent running.", []string{"pool"}},
}

// Catalogue returns a description of every metric gdiag exports, sorted as
// documented in the package overview. The result is a fresh copy.
func Catalogue() []Metric {
	out := make([]Metric, len(catalogue))
	for i, m := range catalogue {
		m.Labels = cloneSlice(m.Labels)
		out[i] = m
	}
	return out
}

// Lookup returns the catalogued metric with the given name.
func Lookup(name string) (Metric, bool) {
	for _, m := range catalogue {
		if m.Name == name {
			m.Labels = cloneSlice(m.Labels)
			return m, true
		}
	}
	return Metric{}, false
}
