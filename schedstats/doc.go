// Package schedstats describes the Go scheduler's state as plain values,
// keeps a bounded history of them, and finds problems in that history.
//
// A [Snapshot] is the scheduler at one moment: Ps, Ms (threads), run
// queues, goroutines by state, and the cumulative histograms of scheduling
// latency and stop-the-world pauses (their total time and, apart, the time
// the runtime took to stop the world). The package does not read the runtime
// itself: a [ReadFunc] supplied by the caller fills snapshots (the probes
// package supplies the runtime's), and [ParseSchedtrace] turns
// GODEBUG=schedtrace output from any Go program into snapshots. The package
// imports only the standard library and knows nothing of exporters.
//
// # Concurrency
//
// [Sampler] methods are safe for concurrent use. Snapshot, Histogram,
// Delta and Finding are plain values: copy them with Clone before sharing
// them with a goroutine that may modify them. [Detect], [Diff],
// [Catalogue], [Lookup] and [ParseSchedtrace] are safe for concurrent use.
//
// # Cost
//
// A Sampler owns one goroutine (between Start and Stop) and Size
// snapshots. Once its ring has grown its slices, a sample allocates
// nothing beyond what the ReadFunc does: [Snapshot.CopyInto] reuses the
// destination's slices (see BenchmarkSamplerSample). [Sampler.History],
// [Sampler.Latest], [Sampler.Findings] and [Detect] allocate their results.
// Detection is linear in the history's length.
//
// Measured with go test -run '^$' -bench 'SamplerSample|Detect' -benchmem
// on 2 shared cores (AMD EPYC, Go 1.26), over two runs: a sample takes
// 115–215 ns with a trivial reader and 620–1400 ns with a runtime/metrics
// reader of nine metrics, with 0 allocations either way; Detect over 300
// snapshots takes 13–19 µs and 15 allocations.
//
// # Stability
//
// The names of metrics in the catalogue and of finding causes are stable:
// dashboards and alert rules depend on them. Thresholds' defaults may be
// tuned between releases. The schedtrace format belongs to the runtime and
// may change; the parser follows Go 1.26 and accepts the older
// "runqueue=N [a b]" list form.
//
// # Detectors
//
// [Detect] treats the history it is given as one window (oldest first) and
// runs five rules. Each zero field of [Thresholds] takes the default given
// here. A finding is Critical when its measure reaches CriticalFactor
// (default 4) times its threshold, and a Warning otherwise.
//
//   - runqueue-backlog: the backlog of a sample is the larger of
//     GlobalRunQueue + sum(LocalRunQueues) and Goroutines.Runnable,
//     divided by GOMAXPROCS. It fires when the backlog per P exceeds
//     RunqueuePerP (default 2) in at least RunqueueSamples (default 5)
//     consecutive samples; severity follows the mean over that run.
//   - sched-latency: the p99 of the scheduling-latency histogram's delta
//     between the first and last snapshots is certainly at or above
//     SchedLatencyP99 (default 10ms): the lower bound of the bucket that
//     holds it is. It needs at least SchedLatencyMinEvents (default 100)
//     events in the window. The evidence gives the p99 by the quantile
//     rule below, and the p99 of every interval.
//   - goroutine-leak: with at least LeakMinSamples (default 10) snapshots,
//     a least-squares line through Goroutines.Total has a positive slope
//     and r² ≥ LeakMinR2 (default 0.8), and the count grew from first to
//     last by at least max(LeakMinGrowth, LeakMinRatio × first)
//     (defaults 100 and 0.5), capped at CriticalFactor × LeakMinGrowth
//     (400): a straight-line gain that large is a leak, or load that keeps
//     rising, in a process of any size. Steady growth, not a burst, is what
//     a leak looks like; a burst that drains fails the fit or the growth
//     test. Severity follows the growth alone (Thresholds.LeakSeverity):
//     critical from 400 goroutines gained. It never depends on the count
//     at the window's start, which rises with the leak: a leak's severity
//     never falls while the leak goes on.
//   - thread-growth: Threads rose from first to last by at least
//     ThreadGrowth (default 50), and the final count exceeds
//     2×GOMAXPROCS + ThreadSlack (default 16), room for the runtime's own
//     Ms (sysmon, the template thread, idle Ms).
//   - stw-pauses: the longest stop-the-world pause in the window, GC or
//     other, exceeds PauseMax (default 50ms). The rule compares the lower
//     bound of the highest non-empty bucket of the pause histograms'
//     deltas, so that it never overstates a pause; the evidence gives the
//     upper bound, as for every histogram figure (see Quantiles), and the
//     longest stopping times beside the longest pauses. The summary says
//     which part of the pause dominated ([StoppingShare]): the stopping
//     time (from the request to stop until every P stopped, while
//     goroutines that have not reached a safe point keep running), which
//     means a goroutine would not yield, or the work done with the world
//     stopped (a collection's mark termination, a runtime.Stack of every
//     goroutine, ReadMemStats). gdiag doctor names the first case
//     preemption-delay, with the goroutine that delayed the stop.
//
// # Quantiles
//
// A histogram keeps counts per bucket, not values, so a quantile is only
// known to lie in one bucket. gdiag has one rule for it,
// [Histogram.Quantile]: the upper bound of the bucket that holds the
// quantile, a figure the true quantile never exceeds (gdiag prints it as
// "≤4.2s"). The detectors, gdiag sched, pools and doctor, the agent's
// clients and the exporters all use it, and pool.Histogram.Quantile, which
// cannot import this package, follows the same rule (a test keeps the two
// equal). Interpolating inside the bucket would give a number that looks
// measured but assumes the values spread evenly over the bucket, which on
// log-spaced buckets is wrong in a direction nobody knows. The bound costs
// at most one bucket's width: the runtime's buckets grow by at most 1.25×
// from one to the next, the pool's double. A quantile in an open-ended last
// bucket is reported as that bucket's finite lower bound, as Prometheus's
// histogram_quantile does; [Histogram.QuantileBucket] gives both bounds.
// A rule that fires on a quantile compares the lower bound, so that it
// fires only when the quantile is certainly past its threshold.
//
// # Schedtrace
//
// [ParseSchedtrace] reads the lines the runtime prints to standard error
// under GODEBUG=schedtrace=X (and scheddetail=1). Other lines are skipped;
// a malformed SCHED line, or a malformed P, M or G line inside a detailed
// record, becomes a [*ParseError] with its line number. Lines longer than
// 64 KiB, records beyond 65,536 and detail lines beyond 262,144 over the
// whole input are not kept (a ParseError says so for the first two), so
// memory stays bounded on any input.
//
// # Catalogue of metrics
//
// [Catalogue] describes every metric gdiag exports, in Prometheus terms:
// names carry the gdiag_ prefix, time is in seconds with a _seconds
// suffix, and counters end in _total. Each entry below gives the name with
// its labels in braces, the type and the unit, then the help text. The pool
// metrics describe what the pool package exports; that package does not
// import this one.
//
//	gdiag_sched_gomaxprocs gauge procs
//		Current GOMAXPROCS setting.
//	gdiag_sched_idle_procs gauge procs
//		Ps with no work to do.
//	gdiag_sched_threads gauge threads
//		OS threads (Ms) alive.
//	gdiag_sched_threads_idle gauge threads
//		Ms parked waiting for work.
//	gdiag_sched_threads_spinning gauge threads
//		Ms spinning while looking for work.
//	gdiag_sched_threads_created_total counter threads
//		Ms created since the process started.
//	gdiag_sched_threads_freed_total counter threads
//		Ms freed since the process started.
//	gdiag_sched_global_runqueue gauge goroutines
//		Goroutines in the global run queue.
//	gdiag_sched_local_runqueue{p} gauge goroutines
//		Goroutines in a P's local run queue (deep mode only).
//	gdiag_sched_goroutines{state} gauge goroutines
//		Goroutines by scheduler state (total, running, runnable, waiting, not_in_go).
//	gdiag_sched_goroutines_system gauge goroutines
//		Goroutines started by the runtime.
//	gdiag_sched_goroutines_created_total counter goroutines
//		Goroutines created since the process started.
//	gdiag_sched_latency_seconds histogram seconds
//		Time goroutines spent runnable before running.
//	gdiag_sched_pause_seconds{kind} histogram seconds
//		Stop-the-world pause durations, by cause (gc or other).
//	gdiag_sched_pause_stopping_seconds{kind} histogram seconds
//		Time from the request to stop the world until every goroutine stopped, by cause (gc or other): the first part of each pause.
//	gdiag_sync_mutex_wait_seconds_total counter seconds
//		Time goroutines spent blocked on sync.Mutex and sync.RWMutex.
//	gdiag_pool_workers{pool} gauge workers
//		Worker goroutines alive in the pool.
//	gdiag_pool_workers_running{pool} gauge workers
//		Workers running a task.
//	gdiag_pool_workers_idle{pool} gauge workers
//		Workers waiting for a task.
//	gdiag_pool_queued{pool} gauge tasks
//		Tasks waiting in the pool's queue.
//	gdiag_pool_parked{pool} gauge tasks
//		Accepted tasks held back by the pool's per-key limit; they count against the queue's capacity.
//	gdiag_pool_queue_capacity{pool} gauge tasks
//		Capacity of the pool's queue.
//	gdiag_pool_max_workers{pool} gauge workers
//		Upper bound on the pool's workers.
//	gdiag_pool_key_running{pool,key} gauge tasks
//		Tasks running per task key, for the pool's busiest keys only (at most 10).
//	gdiag_pool_tasks_submitted_total{pool} counter tasks
//		Tasks accepted by the pool.
//	gdiag_pool_tasks_total{pool,outcome} counter tasks
//		Tasks finished, by outcome (completed, failed, panicked, canceled).
//	gdiag_pool_tasks_rejected_total{pool} counter tasks
//		Tasks refused, for any reason; gdiag_pool_tasks_refused_total splits them by reason.
//	gdiag_pool_tasks_refused_total{pool,reason} counter tasks
//		Tasks refused, by reason: queue_full, stopped, canceled (the submitter gave up), rate_limited, shed_wait, shed_key, breaker_open.
//	gdiag_pool_hook_panics_total{pool} counter panics
//		Panics recovered from the pool's observer and panic-handler callbacks.
//	gdiag_pool_limit{pool} gauge workers
//		Workers the pool lets run tasks now: its adaptive limit, or its maximum when the limit is fixed.
//	gdiag_pool_rate_limit{pool,scope} gauge tasks/s
//		Tasks per second the pool's token bucket admits (scope pool) or each key's does (scope key); absent without one.
//	gdiag_pool_shedding{pool} gauge state
//		1 while the pool's queue stands and it sheds the tasks that would wait longer than its target, else 0.
//	gdiag_pool_breaker_state{pool,key} gauge state
//		State of the pool's breaker (key empty) and of the task keys' breakers most worth a look (at most 10): 0 closed, 1 half-open, 2 open.
//	gdiag_pool_breaker_opens_total{pool} counter openings
//		Times any of the pool's breakers opened.
//	gdiag_pool_queue_wait_seconds{pool} histogram seconds
//		Time tasks waited in the queue before a worker took them.
//	gdiag_pool_run_seconds{pool} histogram seconds
//		Time tasks spent running.
package schedstats
