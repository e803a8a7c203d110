// Package doctor implements gdiag doctor: it watches a live process for a
// short window, gathers what the agent (or net/http/pprof) offers, and names
// what is wrong, ranked, with the evidence and the next command to run.
//
// # What it gathers
//
// Over the window (--window, default 20s, at most 2m) doctor reads, all
// concurrently and each request bounded by --timeout on top of its capture
// time: a goroutine census at the start and the end (for pprof targets, two
// debug=2 dumps and one halfway); the mutex, block and allocs profiles and
// runtime.MemStats (the text heap profile) at the start and the end, whose
// differences are the window's; a CPU profile of min(window/2, 10s); the
// agent's pools and latest snapshot once a second (which also notices a
// process that died); and at the end the sampler's history covering the
// window; an execution trace that overlaps the CPU profile, so that it
// holds CPU samples: the agent's flight recorder dumped three quarters of
// the way through the profile, else a trace as long as the profile, from
// the start (net/http/pprof's /debug/pprof/trace for pprof targets); and the
// target's GODEBUG, from /proc/PID/environ and the binary's build settings
// for a local process, else from the agent's /v1/info. With findings it
// saves the agent's flight recorder to
// --out-dir/gdiag-doctor-<pid>-<time>.trace (default os.TempDir()).
//
// # Rules
//
// Each rule needs its signal sustained over the window, not one bad
// second. A finding's severity is critical when its measure reaches 4×
// the threshold (schedstats' default factor), else warning. Its score is
// measure/threshold (capped at 99), plus 100 for critical; findings are
// ranked by score. A symptom is ranked below the finding that explains it:
// long pauses under a preemption delay, GC pressure or CPU saturation;
// CPU saturation when at least a quarter of the CPU samples are in the
// garbage collector, or under a preemption delay when the process kept
// under half its Ps busy (its goroutines queued while the world waited); a
// starved pool (queue wait without rejections) under a preemption delay,
// CPU saturation, mutex contention, GC pressure or long stop-the-world
// pauses, which hold up every queued task.
//
//	cause             signal                                    threshold
//	goroutine-leak    goroutines over the window (history),      growth ≥ max(100, 10% of the start),
//	                  else censuses; growing census groups        straight-line fit r² ≥ 0.8, 5+ samples;
//	                  are the leaking stacks                      censuses: never falling
//	cpu-saturation    runnable backlog per P (history);          > 2 per P for 5 consecutive samples;
//	                  scheduling latency p99 per interval;        or window p99 certainly ≥ 10ms (its
//	                  CPU profile for the hottest functions       bucket's lower bound; 100+ events),
//	                                                              p99 > 10ms in at least half the
//	                                                              intervals, and the process busy on
//	                                                              ≥ half its Ps
//	mutex-contention  mutex profile delay over the window        ≥ max(1, 0.5×GOMAXPROCS) seconds of
//	                  (else the median per interval of            waiting per second
//	                  /sync/mutex/wait/total)
//	gc-pressure       GC CPU (CPU profile samples in the         ≥ 10% of GOMAXPROCS×wall time, or ≥ 25%
//	                  collector, else MemStats.GCCPUFraction      of the process's CPU time when it used
//	                  since start), alloc rate, heap goal,        ≥ 0.25 cores; with at least 2 GC cycles
//	                  top allocators                              in the window
//	thread-growth     OS threads (history); threads created      +50 threads, ending above
//	                  (pprof threadcreate); syscall/cgo stacks    2×GOMAXPROCS+16 (pprof: +50 created)
//	pool-overload     /v1/pools polled every second: rejections, rejections ≥ 1/s and ≥ 1% of offered
//	                  queue-wait histogram, queued and running    tasks, in half the polls; or queue wait
//	                                                              p99 certainly ≥ 100ms (its bucket's
//	                                                              lower bound) over 10+ waits, queued in
//	                                                              half the polls; or one key running on
//	                                                              ≥ 75% of the workers with tasks queued,
//	                                                              in half the polls
//	stw-pauses        stop-the-world pause histograms (history); at least 2 pauses > 50ms (non-GC
//	                  MemStats.PauseNs (pprof)                    pauses in the first 2 intervals, where
//	                                                              doctor's own census stops the world,
//	                                                              not counted); the summary says whether
//	                                                              the time to stop or the work dominated
//	preemption-delay  stop-the-world stopping-time histograms     at least 2 stops > 50ms, and at least
//	                  against the totals (history); the pauses    half of the pauses > 50ms; and the trace
//	                  of an execution trace and the CPU samples   shows the goroutine waited for running
//	                  in it of the goroutine each waited for;     (2+ CPU samples during the wait), or
//	                  the target's GODEBUG asyncpreemptoff        asyncpreemptoff is set. Without history
//	                  (/proc/PID/environ, else /v1/info)          (pprof): 2+ such pauses in the trace
//
// The thresholds of schedstats.Thresholds are its defaults, except the
// leak's minimum samples (5, not 10) and growth ratio (10%, not 50%),
// which suit a window of seconds rather than the sampler's five minutes.
//
// Quantiles follow gdiag's one rule (schedstats.Histogram.Quantile): a
// reported p99 is the upper bound of the histogram bucket that holds it,
// printed as "≤524ms". A rule fires on a quantile only when the bucket's
// lower bound passes the threshold, so that a finding never rests on a
// value the histogram cannot vouch for.
//
// # Limits
//
// The memory limit (GOMEMLIMIT) is in neither MemStats nor the API, and an
// older agent has no per-key pool figures; the report's notChecked says so.
//
// Nothing here is safe for concurrent use except where a type says so;
// Analyze and Render are pure functions of their input.
package doctor
