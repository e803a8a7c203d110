// Package sched implements "gdiag sched": a top-like view of a process's
// Go scheduler, read from the gdiag agent (GET /v1/history once, then
// GET /v1/snapshot every refresh), with one-shot text (--once) and JSON
// (--json) forms for scripts.
//
// Windows. Scheduling latency, creation rates and mutex wait cover the
// interval between the two latest distinct snapshots (the agent samples
// once a second by default, so a faster refresh redraws the same figures);
// with a single snapshot they cover the process's life. Stop-the-world
// pauses are rare, so they cover the whole history gdiag holds (the agent's
// history, five minutes by default, plus what the view has read since), and
// so do their stopping times (the time from the request to stop the world
// until every goroutine stopped), shown on a " to stop" row under each.
// Percentiles and "max" follow gdiag's quantile rule
// (schedstats.Histogram.Quantile): each is the upper bound of the
// histogram bucket that holds it, printed as a bound ("p99≤380µs"), never
// below the true value.
//
// Sparklines map each sample linearly onto ▂…█ from zero to the largest
// value shown; an exact zero is ▁, so that "nothing" and "a little" differ,
// and a blank means no data (no events in that interval).
//
// The live view owns the terminal while it runs: the alternate screen,
// a hidden cursor and raw mode on stdin, all restored on every way out.
// Without a terminal on stdout there is no live view: one frame, as
// --once, with a note on stderr, or --count frames when asked.
// Nothing here is safe for concurrent use; the command runs once.
package sched
