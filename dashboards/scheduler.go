package dashboards

import (
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// Scheduler returns the "Go scheduler" dashboard (UID gdiag-scheduler):
// run queues, idle Ps, threads and spinning threads, goroutines by state,
// the scheduling-latency heatmap and percentiles, stop-the-world pauses and
// mutex wait, all from gdiag_sched_* and gdiag_sync_* series. It returns
// the builder's error, if any.
func Scheduler() (dashboard.Dashboard, error) {
	stw := stwPanels()
	return build(base("gdiag-scheduler", "Go scheduler (gdiag)",
		"Go scheduler state exported by gdiag: run queues, Ps, threads, goroutines, scheduling latency and stop-the-world pauses.",
		"gdiag_sched_gomaxprocs").
		WithRow(row("Run queues and Ps")).
		WithPanel(graph("Run queue backlog",
			"Goroutines waiting for a P: the global run queue and every runnable goroutine. A backlog that stays above GOMAXPROCS means CPU saturation.",
			unitCount, 8,
			query{sel("gdiag_sched_global_runqueue"), "{{instance}} global queue"},
			query{sel("gdiag_sched_goroutines", `state="runnable"`), "{{instance}} runnable"},
		)).
		WithPanel(graph("Idle Ps",
			"Ps with no work to do, against GOMAXPROCS. No idle P while the backlog grows means the process needs more CPU.",
			unitCount, 8,
			query{sel("gdiag_sched_idle_procs"), "{{instance}} idle"},
			query{sel("gdiag_sched_gomaxprocs"), "{{instance}} GOMAXPROCS"},
		)).
		WithPanel(graph("Spinning threads",
			"Ms spinning while looking for work. Many spinning Ms burn CPU without running Go code (short bursts of work across many goroutines).",
			unitCount, 8,
			query{sel("gdiag_sched_threads_spinning"), "{{instance}} spinning"},
		).Links([]cog.Builder[dashboard.DashboardLink]{profileLink("CPU profile", cpuProfile, "")})).
		WithPanel(graph("Threads",
			"OS threads (Ms) alive and parked. Threads that keep growing usually mean goroutines blocked in system calls or cgo.",
			unitCount, 12,
			query{sel("gdiag_sched_threads"), "{{instance}} alive"},
			query{sel("gdiag_sched_threads_idle"), "{{instance}} idle"},
		)).
		WithPanel(graph("Thread churn",
			"Ms created and freed per second.",
			unitPerSecond, 12,
			query{rate("gdiag_sched_threads_created_total"), "{{instance}} created"},
			query{rate("gdiag_sched_threads_freed_total"), "{{instance}} freed"},
		)).
		WithRow(row("Goroutines")).
		WithPanel(stacked("Goroutines by state",
			"Goroutines running, runnable, waiting and in system calls or cgo (not_in_go), stacked.",
			unitCount, 12,
			query{sel("gdiag_sched_goroutines", `state=~"running|runnable|waiting|not_in_go"`), "{{instance}} {{state}}"},
		).Links([]cog.Builder[dashboard.DashboardLink]{profileLink("Goroutine profile", goroutineProfile, "")})).
		WithPanel(graph("Goroutines",
			"All goroutines, and those the runtime started itself. Steady growth is the goroutine-leak finding.",
			unitCount, 6,
			query{sel("gdiag_sched_goroutines", `state="total"`), "{{instance}} total"},
			query{sel("gdiag_sched_goroutines_system"), "{{instance}} system"},
		)).
		WithPanel(graph("Goroutines created",
			"Goroutines created per second.",
			unitPerSecond, 6,
			query{rate("gdiag_sched_goroutines_created_total"), "{{instance}}"},
		)).
		WithRow(row("Scheduling latency")).
		WithPanel(bucketHeatmap("Scheduling latency heatmap",
			"How long goroutines waited runnable before they ran, per interval, summed over the selected instances.",
			"gdiag_sched_latency_seconds", 12)).
		WithPanel(graph("Scheduling latency percentiles",
			"p50, p90 and p99 of the time goroutines spent runnable before running. A p99 above 10ms is the sched-latency finding.",
			unitSeconds, 12,
			quantiles("gdiag_sched_latency_seconds", "instance, ", "{{instance}} ")...,
		).Links([]cog.Builder[dashboard.DashboardLink]{profileLink("CPU profile", cpuProfile, "")})).
		WithRow(row("Stop-the-world pauses")).
		WithPanel(stw[0]).
		WithPanel(stw[1]).
		WithRow(row("Time stopped and locks")).
		WithPanel(graph("Time stopped",
			"Fraction of wall-clock time the world was stopped, by cause.",
			unitRatio, 12,
			query{"sum by (instance, kind) (" + rate("gdiag_sched_pause_seconds_sum") + ")", "{{instance}} {{kind}}"},
		)).
		WithPanel(graph("Mutex wait",
			"Seconds goroutines spent blocked on sync.Mutex and sync.RWMutex, per second of wall-clock time; above 1 means more than one goroutine waiting on average.",
			unitSeconds, 12,
			query{rate("gdiag_sync_mutex_wait_seconds_total"), "{{instance}}"},
		).Links([]cog.Builder[dashboard.DashboardLink]{profileLink("Mutex profile", mutexProfile, "")})),
	)
}
