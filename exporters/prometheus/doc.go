// Package prometheus exports gdiag's scheduler and pool statistics to
// Prometheus through client_golang. Import it under another name, for
// example gdiagprom, since it shares its name with client_golang's package.
//
//	reg := prometheus.NewRegistry()
//	if err := gdiagprom.Register(reg, gdiagprom.Options{GoCollector: true}); err != nil { ... }
//	http.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
//
// The schedstats and pool packages know nothing of Prometheus: SchedCollector
// and PoolCollector are adapters that read a snapshot at each scrape and
// build constant metrics from it. Every name, type, help text and label set
// comes from the schedstats catalogue (schedstats.Lookup); a test fails if an
// emitted family is not in it, or a catalogued one is never emitted.
//
// # Scheduler histograms
//
// The runtime keeps about 160 buckets per scheduler histogram, too many
// series for Prometheus. gdiag_sched_latency_seconds,
// gdiag_sched_pause_seconds and gdiag_sched_pause_stopping_seconds are
// re-bucketed to 22 fixed upper bounds (schedstats.ExportBounds): 1, 2.5
// and 5 times each power of ten from 1µs to 10s (1e-06, 2.5e-06, ..., 5, 10),
// plus +Inf. A runtime bucket is counted under the first bound at or above its
// upper edge, so the count is exact and a bucket never claims values smaller
// than they may be. The runtime records no sum: _sum is an estimate made from
// each runtime bucket's midpoint, good for averages, not for accounting.
//
// Parts of a snapshot that its reader did not fill (see schedstats.Sources)
// are left out instead of exported as zeros: without the probes sched mirror,
// for example, gdiag_sched_idle_procs and gdiag_sched_threads_idle are absent.
// gdiag_sched_local_runqueue{p} is emitted only in deep mode.
//
// # Pools and cardinality
//
// Pool metrics carry a pool label; gdiag_pool_tasks_total also carries
// outcome (completed, failed, panicked, canceled). Pool histograms keep the
// pool's own 28 power-of-two bounds, in seconds. At most Options.MaxPools
// pools (default 64) are exported, the first ones listed (creation order for
// pool.Registered); a second pool with an already exported name is skipped
// too. PoolCollector.Dropped and a warning on Options.Logger report what was
// left out.
//
// gdiag_pool_key_running{pool,key} is the one metric whose label values
// come from task data: the running tasks of each of a pool's busiest keys
// (pool.Stats.Keys), so that one key taking the pool shows. It is bounded
// at each scrape to Options.MaxKeys series per pool (default 10, all that
// pool.Stats lists), so to MaxPools × MaxKeys series in all; keys beyond,
// or not valid UTF-8, are left out and counted by PoolCollector.DroppedKeys.
// A key has a series only while it is among the busiest with a task
// running, so the gauge is absent, not zero, for a key with nothing
// running, and short tasks may fall between scrapes. Over time Prometheus
// keeps a series for every key that was once among the busiest: fine for
// tenants or endpoints, not for request or user IDs. A negative MaxKeys
// exports no key at all. gdiag_pool_breaker_state{pool,key} is bounded the
// same way: the pool's own breaker (key empty) and at most MaxKeys keyed
// breakers, those pool.Stats lists first (open, then half-open).
//
// The overload-control series exist only while they have something to
// say, so that a pool without the controls pays no series for them:
// gdiag_pool_tasks_refused_total{reason} for each reason the pool can
// refuse for (queue_full, stopped and canceled for every pool, the others
// with the control behind them; pool.Stats.Refusing) or that occurred,
// gdiag_pool_shedding for a pool with pool.WithShedding,
// gdiag_pool_rate_limit{scope} for each token bucket, and
// gdiag_pool_breaker_opens_total and gdiag_pool_breaker_state for a pool
// with pool.WithBreaker. gdiag_pool_limit is there for every pool (its
// maximum when the limit is fixed).
//
// # Concurrency, cost and stability
//
// Register and the collectors are safe for concurrent use; each collector
// serializes its own scrapes, so that the scheduler snapshot is reused.
// A scrape costs one Read and one pool.Pool.StatsInto per pool, into
// statistics the collector keeps from one scrape to the next, then one
// series per exported number. The series are built in a few blocks (one
// allocation for the scheduler's gauges and counters and one for each of
// its histograms, three for a pool's) rather than through client_golang's
// constant metrics. A pool whose numbers did not change since the last
// scrape, and a scheduler histogram that did not (the pause histograms
// change only when the world stops), send the same series again without
// allocating. What a Gather returns is therefore shared with later
// scrapes: label pairs, bucket bounds and unchanged series are immutable,
// as the client_golang contract for gathered metrics requires. Each
// metric's series are sent in the order the registry sorts them in (by
// label values), so that its sort finds them in order.
//
// Measured side by side with client_golang's Go collector with every
// runtime metric on (collectors.MetricsAll, 139 series) by
//
//	go test -run '^$' -bench Scrape -benchmem ./exporters/prometheus
//
// (BenchmarkScrape; see its comment for the variants, and bench/README.md
// for the rounds), on 2 shared cores (AMD EPYC, Go 1.26), a registry
// gather of the scheduler collector over a full snapshot that moves
// between scrapes and 20 idle pools (425 series, 45 histograms) makes
// 1,152 allocations (0.67× the Go collector's 1,722; 1,348 when every pool
// and scheduler histogram changed since the last scrape) and 138 kB
// (1.01×; 349 kB when busy). In CPU time it costs 1.6–1.75× the Go
// collector (medians of four runs; 2.3× busy), and the registry
// alone, gathering the same 425 series built beforehand, already costs
// 1.28–1.41×: client_golang spends about 1.0–1.2 µs of CPU on each series
// it gathers (a dto.Metric, a hash of its labels, a map insertion, a send
// on a channel), and the pools' and the scheduler's series are three times
// as many as the Go collector's. The collectors' own share is the rest,
// 0.1–0.45× the Go collector. Wall-clock times on the shared machine vary
// too much to compare.
//
// The exported names are those of the schedstats catalogue and are
// stable; the scheduler bucket bounds may be tuned between releases.
package prometheus
