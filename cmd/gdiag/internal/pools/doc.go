// Package pools implements "gdiag pools": a table of the pools a process
// registered with the gdiag agent (GET /v1/pools), with rates taken from two
// readings and percentiles estimated from the pools' histograms.
//
// Percentiles follow gdiag's quantile rule (schedstats.Histogram.Quantile):
// each is the upper bound of the histogram bucket that holds it, printed
// as "≤64µs"; one that falls in the overflow bucket is the last bound,
// printed as "≥134ms". They cover the pool's whole life, because the
// agent's histograms are cumulative.
//
// Nothing here is safe for concurrent use; the command runs once.
package pools
