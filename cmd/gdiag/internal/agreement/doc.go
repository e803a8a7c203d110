// Package agreement holds no code, only the test that every part of gdiag
// reports the same quantile for the same histogram: the libraries
// (schedstats.Histogram.Quantile and pool.Histogram.Quantile), the agent's
// /v1 bodies decoded through apiv1, gdiag pools and gdiag sched, gdiag
// doctor, and the histograms the Prometheus and OpenTelemetry exporters
// publish (a pool's exactly; the scheduler's, on coarser buckets, as the
// first published bound at or above the library's quantile). The rule
// itself is documented in package schedstats, under "Quantiles".
package agreement
