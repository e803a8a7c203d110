// Package dashboards builds gdiag's Grafana dashboards from Go code and
// holds their JSON, ready to import.
//
// Three dashboards, linked to each other through the tag [Tag]:
//
//   - [Scheduler] (gdiag-scheduler.json): run queues, idle Ps, threads and
//     spinning threads, goroutines by state, the scheduling-latency heatmap
//     and percentiles, stop-the-world pauses with their time to stop
//     beside their total, and mutex wait (gdiag_sched_*, gdiag_sync_*).
//     The stop-the-world panels follow gdiag's quantile rule (the upper
//     bound of the bucket that holds the quantile, see schedstats), so
//     they show the figures gdiag sched and gdiag doctor print for the
//     same window; the other percentile panels interpolate, as
//     histogram_quantile does.
//   - [Pools] (gdiag-pools.json): tasks by outcome, submissions,
//     rejections, panics, queue-wait and run-time percentiles, workers,
//     utilisation, queue depth, the busiest task keys, and the overload
//     controls: limit against tasks in flight, refusals by reason, the
//     share of work shed, breaker states, breaker openings and rate limits
//     (gdiag_pool_*).
//   - [Runtime] (gdiag-runtime.json): GOGC, GOMEMLIMIT, heap, memory from
//     the OS, allocation rate, the GC's share of the CPU and CPU time by
//     class (from the runtime's /cpu/classes/, the figure GdiagGCOverhead
//     alerts on), GC cycles and pauses, goroutines and threads, from
//     client_golang's Go collector (go_*), which exporters/prometheus
//     registers when Options.GoCollector is set.
//
// Every metric a panel names is in schedstats.Catalogue (gdiag_*) and in
// what exporters/prometheus really emits; the package's tests check both,
// and internal/e2e runs every panel's query against a real Prometheus
// scraping the demo service.
//
// # Importing
//
// In Grafana, Dashboards → New → Import, then upload a file from
// dashboards/json (or paste its contents). Each dashboard has these
// variables:
//
//   - datasource: the Prometheus data source that scrapes the service;
//   - pyroscope: a Grafana Pyroscope data source, used only by the
//     "profile" links (panel header links and the dashboard's "CPU
//     profile" link); leave it empty if there is none;
//   - job and instance: the Prometheus jobs and their instances, so one
//     dashboard serves a fleet (both multi-valued, with "All");
//   - pool (Pools only): the pools to show.
//
// Profile links select service_name=~"${job:regex}": give the pyroscope
// exporter the Prometheus job name as its ApplicationName, or edit the
// link.
//
// github.com/grafana/dashboard-linter (lint --strict) finds nothing but
// its variable-naming rules, which the dashboards do not follow on purpose:
// it wants the data source variables named prometheus_datasource and
// grafana-pyroscope-datasource_datasource, and Grafana does not
// interpolate a variable name with hyphens; datasource is the name most
// dashboards use.
// The dashboards are marked read-only because they are generated: change
// the Go code and regenerate rather than editing them in Grafana.
//
// # Regenerating
//
// After changing a builder, run from the module root
//
//	go generate ./dashboards
//
// (which runs go run ./cmd/gen -out json in this directory) or
// go test ./dashboards -run TestGolden -update; then commit the JSON. The
// golden test fails while the committed files differ from what the code
// builds.
//
// # Concurrency, cost and stability
//
// The builders are pure functions, safe to call concurrently; each call
// allocates its dashboard afresh. Building all three takes 95–160 µs and
// about 2,500 allocations (182 kB), measured with
// go test -run '^$' -bench All -benchmem ./dashboards on 2 shared cores. The
// dashboards' UIDs, file names and variable names are stable (links and
// bookmarks depend on them); panels may be added, reordered or retuned
// between releases. The JSON follows the schema of
// github.com/grafana/grafana-foundation-sdk/go v0.0.12 (schemaVersion 42).
package dashboards
