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
// Stats returns a plain, JSON-marshalable snapshot. Submitted counts
// accepted tasks; Rejected counts refused submissions (ErrOverloaded,
// ErrStopped, or the submitter's ctx ending first), which are not in
// Submitted. Every accepted task ends with exactly one outcome: Completed
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
