package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// PoolVar is the name of the Pools dashboard's variable selecting pools.
const PoolVar = "pool"

// poolMatch adds the pool matcher to a pool metric's selector.
const poolMatch = `pool=~"$pool"`

// Pools returns the "gdiag pools" dashboard (UID gdiag-pools): throughput
// by outcome, rejections, panics, queue-wait and run-time percentiles,
// workers and queue depth of every pool, the busiest task keys, and the
// overload controls (limit against tasks in flight, refusals by reason,
// the share shed, breaker states, rate limits), from gdiag_pool_* series. It returns the builder's error, if any.
func Pools() (dashboard.Dashboard, error) {
	return build(base("gdiag-pools", "Pools (gdiag)",
		"Bounded goroutine pools instrumented by gdiag: throughput, outcomes, queueing and workers.",
		"gdiag_sched_gomaxprocs").
		WithVariable(labelVariable(PoolVar, "Pool", "Pools to show.",
			`label_values(gdiag_pool_workers{job=~"$job",instance=~"$instance"}, pool)`)).
		WithRow(row("Throughput")).
		WithPanel(stacked("Tasks finished by outcome",
			"Tasks finished per second by pool and outcome (completed, failed, panicked, canceled).",
			unitPerSecond, 12,
			query{"sum by (pool, outcome) (" + rate("gdiag_pool_tasks_total", poolMatch) + ")", "{{pool}} {{outcome}}"},
		)).
		WithPanel(graph("Tasks submitted",
			"Tasks accepted per second by pool.",
			unitPerSecond, 12,
			query{"sum by (pool) (" + rate("gdiag_pool_tasks_submitted_total", poolMatch) + ")", "{{pool}}"},
		)).
		WithPanel(graph("Rejections",
			"Tasks refused per second, for any reason (the Overload controls row splits them). Any rejection means callers saw an error from Go or Submit.",
			unitPerSecond, 12,
			query{"sum by (pool) (" + rate("gdiag_pool_tasks_rejected_total", poolMatch) + ")", "{{pool}}"},
		)).
		WithPanel(graph("Panics",
			"Tasks per second that panicked (the pool recovered them). Zero on a healthy service; the series is exported at zero so the panel shows a flat line rather than no data.",
			unitPerSecond, 12,
			query{"sum by (pool) (" + rate("gdiag_pool_tasks_total", poolMatch, `outcome="panicked"`) + ")", "{{pool}}"},
		)).
		WithRow(row("Latency")).
		WithPanel(graph("Queue wait percentiles",
			"p50, p90 and p99 of the time tasks waited in the queue before a worker took them.",
			unitSeconds, 12,
			quantiles("gdiag_pool_queue_wait_seconds", "pool, ", "{{pool}} ", poolMatch)...,
		)).
		WithPanel(graph("Run time percentiles",
			"p50, p90 and p99 of the time tasks spent running.",
			unitSeconds, 12,
			quantiles("gdiag_pool_run_seconds", "pool, ", "{{pool}} ", poolMatch)...,
		).Links([]cog.Builder[dashboard.DashboardLink]{profileLink("CPU profile of the pool", cpuProfile, `,pool=~"${pool:regex}"`)})).
		WithRow(row("Workers and queue")).
		WithPanel(graph("Workers",
			"Workers alive, running a task and idle, against the pool's upper bound.",
			unitCount, 8,
			query{"sum by (pool) (" + sel("gdiag_pool_workers", poolMatch) + ")", "{{pool}} alive"},
			query{"sum by (pool) (" + sel("gdiag_pool_workers_running", poolMatch) + ")", "{{pool}} running"},
			query{"sum by (pool) (" + sel("gdiag_pool_workers_idle", poolMatch) + ")", "{{pool}} idle"},
			query{"sum by (pool) (" + sel("gdiag_pool_max_workers", poolMatch) + ")", "{{pool}} max"},
		)).
		WithPanel(graph("Utilisation",
			"Workers running a task as a fraction of the pool's maximum; near 100% the queue starts to fill.",
			unitRatio, 8,
			query{"sum by (pool) (" + sel("gdiag_pool_workers_running", poolMatch) + ") / sum by (pool) (" + sel("gdiag_pool_max_workers", poolMatch) + ")", "{{pool}}"},
		)).
		WithPanel(graph("Queue depth",
			"Tasks waiting in the queue, against its capacity; a full queue rejects.",
			unitCount, 8,
			query{"sum by (pool) (" + sel("gdiag_pool_queued", poolMatch) + ")", "{{pool}} queued"},
			query{"sum by (pool) (" + sel("gdiag_pool_queue_capacity", poolMatch) + ")", "{{pool}} capacity"},
		)).
		WithRow(row("Keys")).
		WithPanel(graph("Busiest keys",
			"Tasks running per task key (Task.Key: a tenant, an endpoint), for the 10 busiest keys. "+
				"One key holding most of a pool's workers, or sitting at its key limit while others wait, is one key taking the pool. "+
				"Each process exports its pools' 10 busiest keys, and a key only while a task of it runs, so short tasks may fall between scrapes.",
			unitCount, 24,
			query{"topk(10, sum by (pool, key) (" + sel("gdiag_pool_key_running", poolMatch) + "))", "{{pool}} {{key}}"},
		)).
		WithRow(row("Overload controls")).
		WithPanel(graph("Limit vs in flight",
			"Workers the pool lets run tasks (its adaptive limit under WithAdaptiveLimit, else its maximum) against the workers running a task. "+
				"An adaptive limit well below the maximum while running sits at the limit is the pool holding back concurrency that would only add latency.",
			unitCount, 12,
			query{"sum by (pool) (" + sel("gdiag_pool_limit", poolMatch) + ")", "{{pool}} limit"},
			query{"sum by (pool) (" + sel("gdiag_pool_workers_running", poolMatch) + ")", "{{pool}} running"},
			query{"sum by (pool) (" + sel("gdiag_pool_max_workers", poolMatch) + ")", "{{pool}} max"},
		)).
		WithPanel(stacked("Refusals by reason",
			"Tasks refused per second by pool and reason: queue_full, stopped, canceled (the submitter gave up while blocked), "+
				"rate_limited (a token bucket), shed_wait and shed_key (shedding of a standing queue), breaker_open. A reason appears once it has occurred.",
			unitPerSecond, 12,
			query{"sum by (pool, reason) (" + rate("gdiag_pool_tasks_refused_total", poolMatch) + ")", "{{pool}} {{reason}}"},
		)).
		WithPanel(graph("Share of work shed",
			"Tasks refused by shedding (shed_wait and shed_key) as a share of all submissions. The GdiagPoolShedding alert fires on a sustained share; "+
				"the shedding line is 1 while the pool finds its queue standing.",
			unitRatio, 8,
			query{"sum by (pool) (" + rate("gdiag_pool_tasks_refused_total", poolMatch, `reason=~"shed_wait|shed_key"`) + ") / (sum by (pool) (" +
				rate("gdiag_pool_tasks_submitted_total", poolMatch) + ") + sum by (pool) (" + rate("gdiag_pool_tasks_rejected_total", poolMatch) + "))", "{{pool}} shed"},
			query{"max by (pool) (" + sel("gdiag_pool_shedding", poolMatch) + ")", "{{pool}} shedding"},
		)).
		WithPanel(graph("Breaker state",
			"State of each breaker: 0 closed, 1 half-open, 2 open; the pool's own breaker has no key, keyed breakers (BreakerOptions.PerKey) show theirs. "+
				"Open means submissions get ErrBreakerOpen.",
			unitCount, 8,
			query{"max by (pool, key) (" + sel("gdiag_pool_breaker_state", poolMatch) + ")", "{{pool}} {{key}}"},
		)).
		WithPanel(graph("Breaker openings and rate limits",
			"Times per second any breaker of the pool opened, and the token buckets' rates (tasks per second) by scope (the pool's, or each key's).",
			unitPerSecond, 8,
			query{"sum by (pool) (" + rate("gdiag_pool_breaker_opens_total", poolMatch) + ")", "{{pool}} breaker openings"},
			query{"max by (pool, scope) (" + sel("gdiag_pool_rate_limit", poolMatch) + ")", "{{pool}} rate limit ({{scope}})"},
		)),
	)
}
