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
// process that died); for a process on this host, the kernel's figures
// once a second (procfs: CPU time, run delay, cgroup quota and
// throttling, host load, sockets); an execution trace that overlaps the CPU
// profile, so that it holds CPU samples: the agent's flight recorder dumped
// three quarters of the way through the profile, else a trace as long as
// the profile, from the start (net/http/pprof's /debug/pprof/trace for
// pprof targets); the target's GODEBUG, from /proc/PID/environ and the
// binary's build settings for a local process, else from the agent's
// /v1/info; and at the end the sampler's history covering the window and
// the goroutineleak profile, when the runtime has it. With findings it
// saves the agent's flight recorder to
// --out-dir/gdiag-doctor-<pid>-<time>.trace (default
// os.UserCacheDir()/gdiag/doctor), keeping the newest 20 traces there, at
// most 256 MiB in all.
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
//	goroutine-leak-   the runtime's goroutineleak profile at     1 leaked goroutine; critical from 100
//	proven            the end of the window (Go 1.26,
//	                  GOEXPERIMENT=goroutineleakprofile)
//	goroutine-leak    goroutines over the window (history),      growth ≥ min(max(100, 10% of the start),
//	                  else censuses; growing census groups        400), straight-line fit r² ≥ 0.8, 5+
//	                  are the leaking stacks                      samples; censuses: never falling;
//	                                                              critical from +400 (the growth alone)
//	goroutine-leak-   the last census: one stack parked in a     100 goroutines, each parked ≥ 1 minute
//	static            channel, select or lock wait               (a warning: an idle pool looks the
//	                                                              same); on a nil channel or an empty
//	                                                              select at once, critical from 100
//	connection-growth growth (as for goroutine-leak) in          ≥ 75% of the growth in connection
//	                  network IO wait or a connection loop,      stacks, and the accepted sockets
//	                  the TCP connections accepted on its         rising by half as many (when known);
//	                  listening ports (/proc)                     or ≥ 75% in goroutines that wait for
//	                                                              data (IO, select, chan receive) or sit
//	                                                              in a system call, with a connection
//	                                                              frame in their stack, or created from
//	                                                              one and growing no more than twice as
//	                                                              much (a server may hold several per
//	                                                              stream), the accepted
//	                                                              sockets rising by ≥ 20 and ≥ 0.1 per
//	                                                              goroutine; a warning, never more.
//	                                                              Connections it opened do not count:
//	                                                              a body never closed holds one
//	cpu-starved       the kernel (targets on this host): CPU     throttled in ≥ 10% of the quota's
//	                  time, cgroup quota and throttled periods,   periods (5+), critical from 40%; or
//	                  per-thread run delay, host busy and steal   run delay ≥ 0.1 s/s and ≥ 25% of the
//	                                                              CPU time wanted (used + waited), on a
//	                                                              host ≥ 75% busy; critical when it got
//	                                                              under a fifth of what it wanted,
//	                                                              waited ≥ 0.4 s/s and wanted at least
//	                                                              half a core (or of its usable CPUs);
//	                                                              it explains other findings only then
//	cpu-saturation    runnable backlog per P (history);          the process uses ≥ 75% of its usable
//	                  scheduling latency p99 per interval;        CPUs (min of GOMAXPROCS, quota,
//	                  CPU used (/proc, else the CPU profile);     affinity, host CPUs), and > 2 per P
//	                  the CPU profile's hottest functions         for 5 samples or window p99 certainly
//	                                                              ≥ 10ms in half the intervals; below
//	                                                              75% on average, in bursts when /proc
//	                                                              shows ≥ 75% in 2+ one-second
//	                                                              intervals; pprof targets: CPU use
//	                                                              alone, a warning
//	mutex-contention  mutex profile delay over the window        ≥ max(1, 0.5×GOMAXPROCS) seconds of
//	                  (else the median per interval of            waiting per second
//	                  /sync/mutex/wait/total)
//	lock-stall        the censuses: goroutines waiting for a      the oldest waited ≥ 1 minute, or some
//	                  sync.Mutex or RWMutex, their wait times     waited through the window (in both
//	                  and ids; /sync/mutex/wait/total over the    censuses), and the lock wait credited
//	                  window (credited when a waiter gets the     over the window < 25% of
//	                  lock)                                       waiters×window (no one got the lock);
//	                                                              critical from 10 waiters; without the
//	                                                              history only the minute counts, a
//	                                                              warning (a slow convoy looks alike)
//	gc-pressure       GC CPU (CPU profile samples in the         ≥ 10% of GOMAXPROCS×wall time, or ≥ 25%
//	                  collector: marking, assists, sweeping;      of the process's CPU time when the GC
//	                  else MemStats.GCCPUFraction since start),   used ≥ 0.05 cores (critical from
//	                  alloc rate, heap goal, GOMEMLIMIT,          50%); with at least 2 GC cycles in
//	                  allocation sites, hottest functions         the window
//	thread-growth     OS threads (history); threads created      +50 threads, ending above
//	                  (pprof threadcreate); syscall/cgo stacks    2×GOMAXPROCS+16 (pprof: +50 created);
//	                                                              named after the syscall/cgo stacks
//	                                                              only when they hold ≥ 25% of the new
//	                                                              threads, else LockOSThread is named
//	pool-overload     /v1/pools polled every second: rejections, rejections ≥ 1/s and ≥ 1% of offered
//	                  queue-wait histogram, queued and running,   tasks, in half the polls; or queue wait
//	                  tasks held back by the key limit            p99 certainly ≥ 100ms (its bucket's
//	                                                              lower bound) over 10+ waits, queued in
//	                                                              half the polls; or one key running on
//	                                                              ≥ 75% of the workers with tasks queued,
//	                                                              in half the polls. Held by the key
//	                                                              limit (half the queue parked, workers
//	                                                              idle): named so, a warning
//	stw-pauses        stop-the-world pause histograms (history); at least 2 pauses > 50ms (non-GC
//	                  MemStats.PauseNs (pprof)                    pauses in the first 2 intervals, where
//	                                                              doctor's own census stops the world,
//	                                                              not counted); the summary says whether
//	                                                              the time to stop or the work dominated,
//	                                                              and names the call behind them when 3+
//	                                                              and most of the long stops in the trace
//	                                                              share a non-GC reason (runtime.Stack,
//	                                                              ReadMemStats, ...)
//	preemption-delay  stop-the-world stopping-time histograms     at least 2 stops > 50ms, and at least
//	                  against the totals (history); the pauses    half of the pauses > 50ms; and the trace
//	                  of an execution trace and the CPU samples   shows the goroutine waited for running
//	                  in it of the goroutine each waited for;     (2+ CPU samples during the wait), or
//	                  the target's GODEBUG asyncpreemptoff        asyncpreemptoff is set. Without history
//	                  (/proc/PID/environ, else /v1/info)          (pprof): 2+ such pauses in the trace
//
// Why these rules. Starved is not saturated: a process whose goroutines
// queue for Ps while it uses a fraction of its CPUs is being held back by
// the kernel (its quota, or other processes), and naming its busiest
// function would blame the program for the host; only the kernel's own
// counters (throttled periods, run delay) can tell the two apart, so
// doctor reads them whenever the process is on this host (a PID, a unix
// socket, or a URL whose port a local process listens on). Growth is not a
// leak: one goroutine per open connection climbs with the clients and
// falls when they leave, so growth in connection stacks that the
// process's sockets follow is load. A leak need not grow: goroutines
// parked for minutes on one stack are the trace of a leak that stopped,
// and the runtime can prove a leak outright. Severity never falls as the
// evidence grows: a leak's severity follows its growth, not a bar that
// rises with the count at the window's start.
//
// The thresholds of schedstats.Thresholds are its defaults, except the
// leak's minimum samples (5, not 10) and growth ratio (10%, not 50%),
// which suit a window of seconds rather than the sampler's five minutes.
// Findings that a cpu-starved finding explains (long pauses, a starved
// pool, and saturation under a quota) rank below it.
//
// Quantiles follow gdiag's one rule (schedstats.Histogram.Quantile): a
// reported p99 is the upper bound of the histogram bucket that holds it,
// printed as "≤524ms". A rule fires on a quantile only when the bucket's
// lower bound passes the threshold, so that a finding never rests on a
// value the histogram cannot vouch for.
//
// # Targets
//
// A pprof-only target (http://HOST:PORT serving net/http/pprof) has no
// scheduler figures: doctor reads GOMAXPROCS from a one-second execution
// trace (the Ps it names; traces of Go 1.21 and older carry pseudo-Ps,
// which are not counted), else from the process's environment or the
// runtime's default for its CPUs when it is on this host; CPU saturation
// and GC pressure then come from the CPU profile. Every next command
// doctor prints works on the target it was given: agent-only commands
// (gdiag sched, gdiag pools) are left out for pprof targets, and gdiag
// trace when the target refused doctor's trace.
//
// # Limits
//
// The memory limit is the one the runtime applies, from the agent
// (GET /v1/memlimit); a pprof target's is read from GOMEMLIMIT in a local
// process's environment, so a limit set there with debug.SetMemoryLimit
// is unknown and listed as not checked. A remote
// target has no kernel figures: starvation is not checked there, and
// saturation is judged from the CPU profile. The dump's wait times are
// noted by the garbage collector, so in a process that rarely collects a
// parked goroutine shows its wait late. An older agent has no per-key pool
// figures. The report's notChecked says which of these applied.
//
// Nothing here is safe for concurrent use except where a type says so;
// Analyze and Render are pure functions of their input.
package doctor
