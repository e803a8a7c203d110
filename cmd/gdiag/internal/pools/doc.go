// Package pools implements "gdiag pools": a table of the pools a process
// registered with the gdiag agent (GET /v1/pools), with rates taken from two
// readings and percentiles estimated from the pools' histograms.
//
// Percentiles are interpolated linearly inside the histogram bucket that
// holds them (the first bucket starts at zero); a percentile that falls in
// the overflow bucket is reported as the last bound and marked as a lower
// bound. They cover the pool's whole life, because the agent's histograms
// are cumulative.
//
// Nothing here is safe for concurrent use; the command runs once.
package pools
