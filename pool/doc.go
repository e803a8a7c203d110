// Package pool is a bounded, instrumented goroutine pool to use instead of
// a naked go statement, with statistics cheap enough to leave on in
// production.
//
// A Pool runs tasks (func(context.Context) error) on between a minimum and
// a maximum of worker goroutines, keeps accepted tasks in a bounded queue
// ordered by priority, caps how many tasks of one key (a tenant, an
// endpoint) run at once, turns panics into errors, and counts every outcome.
//
//	p := pool.New("quotes", pool.WithMaxWorkers(32), pool.WithQueueSize(256), pool.WithFailFast())
//	defer p.Stop(ctx)
//	err := p.Go(ctx, pool.Task{Fn: price, Priority: pool.High, Key: tenant, Label: "price", Timeout: time.Second})
//	if errors.Is(err, pool.ErrOverloaded) { ... shed load ... }
//
// # Concurrency safety and stability
//
// Every method of Pool, Group and Future is safe for concurrent use. New
// panics (with a "pool: ..." message) only on invalid options; nothing else
// in the package panics except for a nil task function. The exported API
// and the Stats field names are stable; more Stats fields may be added.
//
// # Workers
//
// New starts the minimum number of workers (WithMinWorkers, default 0).
// An accepted task goes into the queue; if no worker is already on its way
// to the queue, the most recently idle worker is woken or, when none is
// idle, a new worker starts, up to the maximum (WithMaxWorkers, default
// GOMAXPROCS). A worker that takes a task and sees more waiting brings in
// the next worker, so the pool grows to meet a backlog one worker at a time
// (each within microseconds), while a steady stream of tasks is served by
// the workers already awake, without a wake-up per task. A worker that
// finds no task looks again for a few microseconds (yielding, at most one
// worker at a time) before it goes idle, so that tasks arriving about as
// fast as workers finish them are taken without a park and a wake-up. A
// worker above the minimum that stays idle for the idle timeout
// (WithIdleTimeout, default 10 s) exits, oldest first (one timer per pool,
// not one per worker), so the pool shrinks when idle. Resize changes both
// bounds at run time.
//
// # Queue, priorities, keys and overload
//
// Up to WithQueueSize tasks (default 1024; 0 allows none) wait for a
// worker; a task that an idle, waking or not yet started worker will take
// at once does not count as waiting. A worker always takes the oldest ready
// task of the highest priority (High, Normal, Low).
//
// With WithKeyLimit(n), at most n tasks with the same non-empty Task.Key
// run at once. A task whose key already has n tasks running or ready is
// held back (parked) when it is submitted, and takes a queue slot while
// other keys' tasks run; when one of the key's tasks ends, the key's oldest
// held task becomes ready, ahead of its priority's queue.
//
// When the queue is full Submit blocks until there is room or its ctx ends
// (the default), or returns ErrOverloaded at once (WithFailFast). After
// Stop, Submit returns ErrStopped. A submitter that finds the pool full
// retries a few times, yielding, before it blocks, unless other submitters
// are already blocked.
//
// The pool always wakes a blocked submitter when room appears for its task:
// a queue slot, an idle worker, a worker slot under the maximum, or, for a
// task held back by its key, a slot among the held tasks. Blocked
// submitters are served oldest first, but one whose task does not fit (its
// key at its limit with the queue full) never holds back one whose task
// does. The pool places the task for the submitter before waking it, so a
// woken submitter never finds its room taken. While the workers still have
// ready tasks, blocked submitters are served once half the queue is free
// rather than at every freed slot, so that feeding a saturated pool costs
// one wake-up per burst; when the workers have no ready task, any room
// counts.
//
// # Overload controls
//
// Four options protect a pool, and the service its tasks call, from more
// work than they can do; each costs a pool that does not enable it
// nothing but one nil check per submission. Their refusals are counted by
// reason in Stats.Refused, and their decisions are in Stats (Limit, Rate,
// KeyRate, Shedding, Breakers). A simulation that runs them against
// go-zero's and failsafe-go's controls, with the figures, is in
// bench/README.md.
//
//   - WithRateLimit and WithKeyRateLimit: token buckets on admission, for
//     the pool and for each Task.Key. SetRate and SetKeyRate change them at
//     run time. A submission that finds no token blocks until its token is
//     due (or is refused at once with ErrRateLimited if that is after its
//     ctx deadline), or under WithFailFast is refused at once.
//   - WithAdaptiveLimit: the number of workers allowed to run tasks moves
//     between a minimum and the maximum from what the pool measures (below).
//   - WithShedding: once the queue stands, submissions that would wait
//     longer than a target are refused with ErrShed, lowest priority first,
//     and a key's share of the pool is bounded (below).
//   - WithBreaker: when the share of failed tasks in a window reaches a
//     ratio, the pool's breaker (or the task key's) opens and submissions
//     are refused with ErrBreakerOpen; after a while a few probes pass, and
//     the breaker closes when they succeed.
//
// The adaptive limit and shedding work together: the limit decides how
// many tasks run, and the tasks it holds back wait in the queue, whose
// wait shedding keeps short. The adaptive limit, shedding and breakers see
// every task start and end (the pool times every task for them: about two
// clock reads and a short lock per task).
//
// # Adaptive limit
//
// The controller is TCP Vegas's, as in Netflix's concurrency-limits, on
// task run times: with N tasks running on average, a run time R and a
// baseline B (the run time of a task that finds no queue inside the
// service), N·(1 − B/R) tasks are waiting inside the service (for a CPU, a
// connection, a lock) rather than being served. The limit grows while that
// estimate is below alpha = 3·log10(limit) tasks and shrinks when it is
// above beta = 6·log10(limit), the thresholds concurrency-limits uses, so
// the service runs just past its knee: saturated, with a short queue of
// its own. A controller on latency alone (a gradient against a long-term
// average, like concurrency-limits' Gradient2) keeps shrinking while the
// average catches up, and drifts upward in a sustained overload once it
// has; a controller against a fixed latency target needs the target
// chosen per service. Vegas needs only the baseline, and the rules below
// keep it honest.
//
//   - The limit moves once an interval (AdaptiveOptions.Interval, default
//     100 ms) has passed and 64 tasks have ended (16 while it grows fast),
//     or after ten intervals: 64 run times make a median within about 15%
//     on the workloads tried.
//   - R is the median run time, smoothed (a quarter weight to the newest
//     interval). A median, not a mean: a task whose deadline came while it
//     ran (its context ended and it returned an error) says how long it was
//     allowed, not how long the work takes, so it counts as longer than
//     any other; the median stays exact while fewer than half are cut
//     short, where a mean would fall just when the work is slow.
//   - N is the mean concurrency over the interval by Little's law: the
//     run times summed, divided by the interval's length.
//   - B is the lowest smoothed R seen.
//   - Above beta, the limit goes down to the concurrency that would leave
//     beta tasks queued in the service (N·B/R + beta): by at least 10%
//     and at most half, one step from far above the knee.
//   - When the limit does not bind (no task waits for a worker it
//     withholds, not every allowed worker is busy, shedding finds no
//     standing queue), the demand set the concurrency: the limit is kept
//     within 2N + 1, so that a sudden overload starts from near the demand
//     rather than from the maximum.
//   - The limit starts at 4 and doubles while nothing queues (as TCP's
//     slow start), so that B is measured before the service queues.
//   - A slowdown is not saturation: when a series of cuts has taken a
//     fifth off the limit, the run time (of the last two intervals,
//     unsmoothed) is still above 90% of what it was, and the throughput
//     fell below 85% of its recent peak, the tasks themselves got slower
//     (a slower dependency, bigger requests): that run time becomes B, and
//     the limit doubles again until the service queues. Otherwise a pool
//     whose dependency slows down would shrink for a slowdown that fewer
//     workers cannot cure.
//   - A B that is too high hides a queue. After 30 binding intervals
//     without a cut the limit is cut by a quarter (as BBR drains its queue
//     to measure the round trip): if R falls, the lower R becomes B; if it
//     does not and the throughput falls, the slowdown rule restores the
//     limit. While R is at least 3B the probe comes after 5 intervals: at
//     a small limit beta is a few tasks, so a limit that holds with two
//     thirds of its tasks seemingly queued is more likely a slowdown.
//
// In the simulation of bench/cmd/overload, under twice the service's
// capacity the limit settles near the knee (the goodput of the best fixed
// limit, and a lower p99); when the dependency slows fivefold it first
// takes the slowdown for saturation and cuts, for one to three seconds,
// before the slowdown rule restores it (about 5% less goodput than a
// fixed generous limit over a 20-second slowdown).
//
// # Shedding
//
// Shedding follows CoDel: a queue stands when even the shortest wait of an
// interval (ShedOptions.Interval, default 100 ms) exceeded the target
// (ShedOptions.Target, default 5 ms, CoDel's), so that a burst the
// workers absorb is not refused but a queue that no longer drains is. It
// stops standing only when even the longest wait of an interval fell below
// half the target and the tasks queued now would wait less than that.
// Each priority has its own decision: a worker takes higher priorities
// first, so High can flow while Low stands still; a priority whose queued
// tasks did not start at all during an interval stands too.
//
// While a priority's queue stands, a submission at that priority is
// refused when the ready tasks it would wait for (those of its priority
// and above, beyond the workers free to take them) would take longer than
// the target at the rate tasks have been ending: Low is shed first, High
// last. While the queue stands, or while the key limit holds back tasks of
// its key (a standing queue of that key's own), a task whose key holds
// more than ShedOptions.MaxKeyShare (default half) of the pool's tasks is
// refused. With WithKeyLimit as well, a flooding key's excess is held back
// rather than queued ahead of other keys' tasks, and shedding bounds how
// much of it is held.
//
// A shed submission returns ErrShed, which wraps ErrOverloaded. Refusals
// are counted as Refused.ShedWait and Refused.ShedKey.
//
// # Breakers
//
// A breaker counts the outcomes of the tasks it covers over a window
// (BreakerOptions.Window, default 10 s, in ten slices). When the window
// holds at least MinRequests outcomes (default 20) and at least
// FailureRatio of them (default half) are failures, it opens: submissions
// return ErrBreakerOpen for OpenFor (default 5 s). Then it is half-open:
// the next Probes submissions (default 3) pass; if all succeed it closes
// with an empty window, and the first failure opens it again. A failure is
// a panic, or an error for which IsFailure returns true (by default any
// error but context.Canceled). A task canceled before it ran counts
// neither way, and a probe that never ran frees its place. With PerKey,
// each non-empty Task.Key has a breaker of its own (at most 1024 are kept,
// forgetting closed ones with an empty window), and tasks without a key
// share the pool's.
//
// # Task context
//
// A task receives the submitter's context itself: its values (trace
// context, request IDs), deadline and cancellation flow through, so a
// request that is abandoned also abandons its queued work. Task.Timeout
// further bounds the task's context from the moment it starts. A task whose
// context ended before a worker took it is not run and counts as Canceled.
// An Observer's TaskStart may return a derived context (for example one
// carrying a span), which the task then receives.
//
// # Panics, runtime.Goexit and hooks
//
// A panicking task never kills the process or its worker: the panic becomes
// a *PanicError (value and stack), is counted as Panicked, goes to the
// WithPanicHandler function if any, and is what Group.Wait or Future.Get
// returns. A task that calls runtime.Goexit (as testing.T.FailNow does)
// ends the same way, with a *PanicError whose value is ErrGoexit; its
// worker goroutine ends, so the pool gives back its key and starts another
// worker if queued work needs one.
//
// User callbacks are contained like tasks: a panic in an Observer method or
// in the panic handler is recovered, logged to the WithLogger logger, and
// counted in Stats.HookPanics. A task whose TaskStart panicked is not run
// and ends Panicked with that panic; a panic in TaskEnd or the handler
// leaves the task's own outcome as it was.
//
// # Statistics and how the counters reconcile
//
// Stats returns a plain, JSON-marshalable snapshot; StatsInto reads the
// same snapshot into a Stats the caller reuses, so that a reader that
// polls (an exporter at each scrape) allocates nothing for it. Submitted counts
// accepted tasks; Rejected counts refused submissions (ErrOverloaded,
// ErrStopped, the submitter's ctx ending first, or an overload control's
// refusal), which are not in Submitted; Refused splits Rejected by reason. Every accepted task ends with exactly one outcome: Completed
// (returned nil), Failed (returned an error, including its own timeout),
// Panicked (panicked or called runtime.Goexit), or Canceled (never run: its
// ctx ended first, or Stop dropped it).
//
// The gauges say where the accepted, unfinished tasks are. Running counts
// workers running a task. Queued counts ready tasks waiting for a worker,
// beyond those an idle, waking or not yet started worker is about to take
// (such a task never waits, so it appears in no gauge for the moment
// between its acceptance and its start). Parked counts tasks held back by
// the key limit. Queued + Parked never exceeds QueueCapacity, except for a
// moment after Resize lowers the maximum, when tasks accepted for workers
// that will no longer start become Queued: so a full queue reads as
// Queued = QueueCapacity, and a queue filled by one key's held tasks reads
// as Parked, with Keys naming the key. At any quiescent moment
//
//	Submitted == Completed + Failed + Panicked + Canceled + Queued + Parked + Running
//
// and after Stop has returned
//
//	Submitted == Completed + Failed + Panicked + Canceled.
//
// Gauges are read together under the pool's lock; counters are read one by
// one, so a snapshot taken while tasks move may be off by the tasks in
// transit.
//
// # Per-key statistics
//
// Stats.Keys lists the busiest task keys, with how many of their tasks run
// and how many the key limit holds back (KeyStats): at most MaxStatsKeys
// (10) keys, most running first, ties by key, so that one key taking the
// pool shows at a glance. Every task with a key is counted while it runs,
// whether or not WithKeyLimit is set: one map lookup under the pool's lock
// when it starts; the task keeps a pointer to its key's count for its end. Tasks without a key pay nothing for
// it. The map holds the keys with a task running and at most as many again
// plus 64 that ran recently (kept so that a busy key is not deleted and
// re-added for every task), so its size is bounded by the maximum number
// of workers, however many distinct keys pass through. Stats visits each key with a running or held-back task once,
// under the lock (30–70 ns per key: 1,000 running keys add 30–70 µs,
// BenchmarkStats), and copies out the busiest ten.
//
// # Histograms
//
// QueueWait (acceptance to start) and RunTime (start to end) are
// lock-free histograms with a fixed layout shared by every pool: 28 upper
// bounds 1µs·2^i for i = 0..27 (1µs, 2µs, 4µs, ... about 134 s), each
// inclusive, plus an overflow bucket. Timing a task costs two or three
// monotonic clock reads, more than the rest of the pool's per-task work, so
// by default one task in 16 is timed (WithStatsSampling; 1 times every task;
// with an Observer every task is timed). Counters are never sampled.
// WithStats(false) turns the histograms off. Durations marshal to JSON as
// integer nanoseconds.
//
// # Cost
//
// Submitting allocates nothing: task records and blocked submitters'
// waiters are recycled on free lists and Task is passed by value
// (Task.Timeout allocates a context per task, as context.WithTimeout
// does). What an empty task costs, against other pools in the same run, is
// in bench/README.md; BenchmarkSubmit, BenchmarkGoKeyed and BenchmarkStats
// beside this file measure the pool alone:
//
//	go test -run '^$' -bench . -benchmem -count 6 ./pool
//
// A worker's own frames fit in the 2 KiB stack a goroutine starts with, so
// 10,000 workers running small tasks take about 20 MiB of stack.
//
// # Observers
//
// WithObserver installs an Observer that sees each task start and end
// (pool name, priority, key, label, submit time, queue wait, outcome, run
// time, error, panic). TaskStart returns the task's context, so a tracer
// (written elsewhere; this package imports no tracing library) can make one
// span per task, a child of the submitter's span. Without an observer the
// pool spends nothing on observation.
//
// # Groups and futures
//
// Pool.Group returns an errgroup-like Group whose Wait returns the first
// error and whose context is canceled by it; SubmitValue returns a typed
// Future. Pool.Go and Group.Go both take a Task, the one value that carries
// every per-task setting (priority, key, label, timeout), so that neither
// grows variants as settings are added and a submission allocates nothing;
// Pool.Submit is the shorthand for a bare function.
//
// # Registry
//
// New adds the pool to a process-wide registry, read by Registered, so that
// diagnostics (the probes endpoint) can find every live pool; Stop removes
// it. WithoutRegistry opts a pool out. The registry is the package's only
// global state.
//
// # Profiler labels
//
// Workers run under the pprof label pool=<name>, set once per worker
// goroutine, so CPU profiles split by pool at no per-task cost. A task with
// a Label also runs under task=<label> (one label switch before and after
// the task; the labelled context is cached per label).
package pool
