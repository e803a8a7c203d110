// Package agreement holds no code, only the test that every part of gdiag
// reports the same quantile for the same histogram: the libraries
// (schedstats.Histogram.Quantile and pool.Histogram.Quantile), the agent's
// /v1 bodies decoded through apiv1, gdiag pools and gdiag sched, gdiag
// doctor, and the histograms the Prometheus and OpenTelemetry exporters
// publish (a pool's exactly; the scheduler's, on coarser buckets, as the
// first published bound at or above the library's quantile). A second
// test takes one history of stop-the-world pauses and their stopping times
// and checks that gdiag sched --json, gdiag doctor's evidence, the
// Prometheus exporter's scrapes at the two ends of the window and the
// Scheduler dashboard's stop-the-world queries (run by promtool over those
// scrapes) give the same longest pause, longest time to stop and p99s.
// The rule itself is documented in package schedstats, under "Quantiles".
package agreement
