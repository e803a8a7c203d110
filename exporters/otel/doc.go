// Package otel exports gdiag's pool tasks as OpenTelemetry spans and its
// scheduler and pool statistics as OpenTelemetry metrics. It takes the
// TracerProvider and MeterProvider as arguments and keeps no global state.
//
// # Traces
//
// NewObserver returns a pool.Observer; install it with pool.WithObserver.
// Each task becomes one span, a child of the span in the submitter's context
// (for example an HTTP handler's), and the task receives a context holding
// it, so the task's own spans nest under it:
//
//	GET /work                       (the handler's span)
//	└── pool.task http work         (one per task: queue wait + run)
//	    └── db.query                (the task's own spans)
//
// A task span starts when the pool accepted the task and ends when the task
// returns, so the gap before its first child is the queue wait. Its
// attributes are set when it ends (samplers do not see them):
//
//	gdiag.pool.name        the pool's name
//	gdiag.pool.priority    low, normal or high
//	gdiag.pool.key         the task's key, when set (a tenant, an endpoint)
//	gdiag.task.label       the task's label, when set
//	gdiag.pool.queue_wait  seconds from acceptance to start (float)
//	gdiag.task.outcome     completed, failed, panicked or canceled
//
// A failed task's span has status Error with the error's message. A panicked
// task's span has status Error and an exception event (span.RecordError)
// whose exception.stacktrace is the stack of the panicking goroutine, as the
// pool captured it, and whose exception.type is *pool.PanicError. A task
// canceled before it ran gets a span of its own from submission to
// cancellation with outcome canceled, a "canceled" event and status Unset:
// the caller gave up, which is not an error of the task.
//
// # Metrics
//
// NewProducer returns an sdkmetric.Producer; give it to the reader of an
// SDK MeterProvider:
//
//	reader := sdkmetric.NewPeriodicReader(exporter, sdkmetric.WithProducer(gotel.NewProducer(gotel.MetricsOptions{})))
//
// At each collection it reads one scheduler snapshot (probes by default)
// and every registered pool's Stats, and emits the semantic-convention
// go.goroutine.count, go.processor.limit and go.schedule.duration, and one
// metric per metric of the schedstats catalogue, named by OTelName
// (gdiag_pool_tasks_total becomes gdiag.pool.tasks, gdiag_sched_idle_procs
// becomes gdiag.sched.idle_procs). Catalogued gauges are gauges, counters
// are monotonic sums, and histograms are histograms with explicit buckets,
// all cumulative. Time is in seconds (unit "s") and counts carry an
// annotation unit such as "{goroutine}". Catalogue labels become the
// attributes gdiag.pool.name, gdiag.task.outcome, gdiag.goroutine.state,
// gdiag.pause.kind and gdiag.sched.p.
//
// The histograms carry the bucket counts, not an estimate: a pool's queue
// wait and run time keep the pool's own 28 bounds (1µs·2^i, in seconds);
// the runtime's scheduling-latency, pause and pause-stopping histograms
// (about 160 buckets) are re-bucketed to 22 bounds (schedstats.ExportBounds),
// 1, 2.5 and 5 times each power of ten from 1µs to 10s, as the Prometheus
// exporter does: a runtime bucket is counted
// under the first bound at or above its upper edge. The runtime records no
// sum, so those histograms' sums are estimates from each bucket's
// midpoint; the pools' are exact. go.schedule.duration is the scheduling
// latency histogram under its semantic-convention name.
//
// Parts of a snapshot that its reader did not fill (schedstats.Sources) are
// left out, not sent as zeros, as in the Prometheus exporter. Cumulative
// series start when the producer was made; a pool's, when its counts went
// down because a new pool took its name, at the collection before. The
// data does not pass through the MeterProvider's views. A test checks that
// every catalogued metric is emitted with its kind, and nothing outside the
// catalogue is.
//
// # Concurrency, cost and stability
//
// Observer methods and Produce are safe for concurrent use. A task span
// costs what the SDK charges for a span with these attributes, and no
// more: the observer starts the span with its name (cached) and start time
// only, from a reused option slice, and sets the attributes in one call
// when the span ends, only if it is recording. Measured side by side by
//
//	go test -run '^$' -bench 'Span' -benchmem ./exporters/otel
//
// (BenchmarkSpan and BenchmarkSpanSDK; bench/README.md has the rounds) on
// 2 shared cores (AMD EPYC, Go 1.26), with an always-sampling SDK
// TracerProvider batching into a discarding exporter, a traced pool task
// makes 5 allocations (1.35 kB) where a bare span start and end makes 3,
// and costs 2.45–2.65 times the CPU time of that bare span (medians of
// three runs of 8 rounds; single rounds 1.9–4.8). The same span made
// without a pool, with the start time and the six attributes, costs
// 2.3–2.45 times a bare span by itself: the SDK charges 3–19% for the
// start time (allocations for the option) and 10–29%, 38–54% and 66–77%
// for one, three and six attributes (a slice, their normalization, and a
// map lookup each to remove duplicates when the span ends), and the pool's
// own work per task is 0.1 times a bare span. A span with the start time
// alone, no attribute, costs 1.03–1.19 times a bare span.
//
// A collection reads one snapshot and each pool's Stats, at most MaxPools
// (default 64) pools. gdiag.pool.key_running has a point for each
// of a pool's busiest keys only (pool.Stats.Keys, at most 10), with the key
// as gdiag.pool.key. Metric and attribute names are stable, as the
// catalogue's are; span names may change.
package otel
