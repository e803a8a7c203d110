package pool

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// ErrOverloaded is returned by Submit and Go when the queue is full and the
// pool was built WithFailFast.
var ErrOverloaded = errors.New("pool: overloaded")

// ErrStopped is returned by Submit and Go after Stop has been called.
var ErrStopped = errors.New("pool: stopped")

// ErrGoexit is the value of the *PanicError a task ends with when it calls
// runtime.Goexit (as testing.T.FailNow does), so errors.Is(err, ErrGoexit)
// tells it from a panic.
var ErrGoexit = errors.New("pool: task called runtime.Goexit")

// epoch anchors the monotonic clock used for all task timing: one
// time.Since is a single monotonic clock read.
var epoch = time.Now()

func nanotime() int64 { return int64(time.Since(epoch)) }

// Pool is a bounded, instrumented goroutine pool. Create it with New; the
// zero value is not usable. All methods are safe for concurrent use.
type Pool struct {
	// Read-mostly configuration, apart from the lock's cache line.
	name     string
	cfg      config
	observed bool            // every task is timed and ends through runFull: an observer or an overload control needs it
	sampleN  int             // time one task in sampleN for the histograms; 0 = never
	labels   context.Context // pprof labels pool=<name>, set once per worker

	_ cacheLinePad

	// What every submission and every task end touches, packed into as
	// few cache lines as possible: these lines move between the cores of
	// the submitter and the worker at every task.
	mu        sync.Mutex
	ready     int // tasks in queues
	queued    int // accepted, not started: ready plus parked by a key limit
	running   int
	wakes     int // workers woken, started or spinning that have not yet looked for work
	spinning  int // workers spinning for work (at most one)
	workers   int
	submitted uint64 // accepted tasks
	maxW      int
	sampleC   int        // submissions since the last timed one
	free      []*taskRec // recycled task records
	idle      []*worker  // parked workers, oldest first
	waitq     []*waiter  // blocked submitters, oldest first
	stopped   bool
	queues    [numPriorities]deque

	// The rest of the lock's state.
	parked   map[string]*deque // tasks held back by their key's limit
	inflight map[string]*int   // running tasks per non-empty key, limit or not; 0 for recent keys (see release)
	freeRuns []*int            // recycled inflight counters
	readyKey map[string]int    // ready tasks per key, under a key limit only
	reaper   *time.Timer
	reaping  bool // reaper is armed
	minW     int
	ceilW    int           // the maximum set by New or Resize; maxW is the limit in force, lower under an adaptive limit
	freeW    []*waiter     // recycled waiters
	drained  chan struct{} // closed when stopped and no worker is left

	_          cacheLinePad
	spinHint   atomic.Bool                // a task is ready for the spinning worker, or the pool stopped
	refused    [numRefusals]atomic.Uint64 // refused submissions by reason
	ov         atomic.Pointer[overload]   // overload controls; nil for none
	hookPanics atomic.Uint64              // panics recovered from an Observer or the panic handler
	nextShard  atomic.Uint32
	shards     [numShards]shard // outcome counters and histograms, per worker

	labelMu  sync.Mutex
	labelCtx map[string]context.Context
}

// cacheLinePad keeps fields written by different goroutines on different
// cache lines (two lines, for the adjacent-line prefetcher).
type cacheLinePad [128]byte

// maxLabelCache bounds the per-label pprof context cache; labels beyond it
// still work but allocate per task.
const maxLabelCache = 256

// New returns a started pool named name. It panics with a "pool: ..."
// message when an option is invalid (for example WithMaxWorkers(0)).
func New(name string, opts ...Option) *Pool {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	cfg.validate()
	p := &Pool{
		name:     name,
		cfg:      cfg,
		observed: cfg.observer != nil,
		parked:   make(map[string]*deque),
		inflight: make(map[string]*int),
		readyKey: make(map[string]int),
		minW:     cfg.minWorkers,
		maxW:     cfg.maxWorkers,
		ceilW:    cfg.maxWorkers,
		drained:  make(chan struct{}),
		labels:   pprof.WithLabels(context.Background(), pprof.Labels("pool", name)),
		labelCtx: make(map[string]context.Context),
	}
	if cfg.stats {
		p.sampleN = cfg.sampleEvery
	}
	if o := newOverload(&cfg); o != nil {
		p.ov.Store(o)
		p.observed = p.observed || o.timed()
		if o.adaptive != nil {
			p.maxW = o.adaptive.bound(cfg.maxWorkers)
		}
	}
	p.mu.Lock()
	for p.workers < p.minW {
		p.spawn()
	}
	p.mu.Unlock()
	if cfg.registry {
		register(p)
	}
	return p
}

// Submit runs task on a worker, with Normal priority and no key. See Go.
func (p *Pool) Submit(ctx context.Context, task func(context.Context) error) error {
	if task == nil {
		panic("pool: nil task")
	}
	return p.submit(ctx, Task{Fn: task}, nil)
}

// Go accepts t for execution and returns nil, or returns why it did not:
// ErrStopped after Stop, ErrOverloaded when the queue is full under
// WithFailFast, or ctx.Err() when ctx ended first (before or while waiting
// for room). The task's own error does not come back here; it is counted,
// given to the Observer, and returned by Group.Wait or Future.Get.
//
// The task's context is ctx itself (its values, deadline and cancellation),
// bounded by t.Timeout from the task's start when positive. A task whose
// context has ended before a worker takes it is not run and counts as
// Canceled. Go panics if t.Fn is nil.
func (p *Pool) Go(ctx context.Context, t Task) error {
	if t.Fn == nil {
		panic("pool: nil task")
	}
	return p.submit(ctx, t, nil)
}

func (p *Pool) submit(ctx context.Context, t Task, done completer) error {
	if err := ctx.Err(); err != nil {
		return p.refuse(refCanceled, err)
	}
	if o := p.ov.Load(); o != nil {
		return p.controlled(ctx, o, t, done)
	}
	// The record is built on the stack; place copies it into a pooled
	// record only when it accepts the task, so a refused submission costs
	// no record.
	r := &taskRec{fn: t.Fn, ctx: ctx, done: done, key: t.Key, label: t.Label, prio: t.Priority, timeout: int64(t.Timeout)}
	if p.observed {
		r.timed, r.submitted = true, nanotime()
	}
	p.mu.Lock()
	if !r.timed && p.sampleN > 0 { // p.sample, by hand: a call here costs 2% of an empty task
		if p.sampleC++; p.sampleC >= p.sampleN {
			p.sampleC = 0
			r.timed, r.submitted = true, nanotime()
		}
	}
	if p.place(r) {
		p.mu.Unlock()
		return nil
	}
	if err := p.blocked(ctx, r); err != nil { // unlocks p.mu
		return p.refuse(refusalOf(err), err)
	}
	return nil
}

// sample marks one task in sampleN as timed for the histograms. Sampling
// keeps the clock reads a timed task costs off most tasks; the counters
// stay exact. A counter under the lock the submission takes anyway is
// cheaper than an atomic one. p.mu held.
func (p *Pool) sample(r *taskRec) {
	if !r.timed && p.sampleN > 0 {
		if p.sampleC++; p.sampleC >= p.sampleN {
			p.sampleC = 0
			r.timed, r.submitted = true, nanotime()
		}
	}
}

// blocked handles a submission that place could not accept at once: it
// retries, or blocks its submitter until there is room, or returns why it
// did not: ErrOverloaded (queue full under WithFailFast), ErrStopped, or
// ctx.Err(). It is called with p.mu held and returns with it released;
// the caller counts the refusal.
func (p *Pool) blocked(ctx context.Context, r *taskRec) error {
	if !p.cfg.failFast && !p.stopped {
		if p.spinRoom(r) {
			p.mu.Unlock()
			return nil
		}
		if !p.stopped { // Stop may have come while spinRoom yielded the lock
			return p.waitRoom(ctx, r) // unlocks p.mu
		}
	}
	err := ErrOverloaded
	if p.stopped {
		err = ErrStopped
	}
	p.mu.Unlock()
	return err
}

// spinRoom retries placing r a few times, yielding between tries, before
// its submitter blocks: on a pool whose workers are draining the queue,
// room usually appears within a few microseconds, sooner than a park and a
// wake-up would take. Only a submitter with nobody blocked ahead of it
// spins, so that blocked submitters keep their turn. It reports whether r
// was placed; it is called and returns with p.mu held.
func (p *Pool) spinRoom(r *taskRec) bool {
	for range spinRounds / 2 {
		if len(p.waitq) > 0 || p.stopped {
			return false
		}
		p.mu.Unlock()
		runtime.Gosched()
		p.mu.Lock()
		if r.timed {
			r.submitted = nanotime()
		}
		if p.place(r) {
			return true
		}
	}
	return false
}

// waiter is a submitter blocked for room. The pool places its task for it
// (placeWaiters) and then sends nil, or sends ErrStopped; the submitter removes
// itself only when its ctx ends first.
type waiter struct {
	r    taskRec
	done chan error // capacity 1
}

// waitRoom blocks until the pool has placed r (nil), the pool stops
// (ErrStopped) or ctx ends (ctx.Err()). Called with p.mu held; returns with
// it released; the caller counts a refusal. Waiters are recycled, so
// blocking allocates nothing.
func (p *Pool) waitRoom(ctx context.Context, r *taskRec) error {
	w := popFree(&p.freeW)
	if w == nil {
		w = &waiter{done: make(chan error, 1)}
	}
	w.r = *r
	p.waitq = append(p.waitq, w)
	p.mu.Unlock()
	var err error
	if ctx.Done() == nil { // cannot end: a plain receive is cheaper than a select
		err = <-w.done
		p.mu.Lock()
	} else {
		err = p.waitRoomCtx(ctx, w)
	}
	w.r = taskRec{}
	p.freeW = append(p.freeW, w)
	p.mu.Unlock()
	return err
}

// waitRoomCtx is waitRoom's wait when ctx can end. It returns with p.mu held.
func (p *Pool) waitRoomCtx(ctx context.Context, w *waiter) error {
	var err error
	select {
	case err = <-w.done:
		p.mu.Lock()
	case <-ctx.Done():
		p.mu.Lock()
		if i := slices.Index(p.waitq, w); i >= 0 {
			p.waitq = slices.Delete(p.waitq, i, i+1)
			err = ctx.Err()
		} else {
			err = <-w.done // placed or stopped meanwhile: that answer stands
		}
	}
	return err
}

// roomLeft returns how many more runnable tasks the pool could accept now.
// A task counts as waiting only beyond the workers that can take it at once
// (idle, waking or yet to start), and tasks held by a key limit take queue
// capacity. p.mu held.
func (p *Pool) roomLeft() int {
	return p.cfg.queueSize - (p.queued - p.ready) - (p.ready - p.spare())
}

// spare returns how many workers can take a task at once: idle, waking, or
// yet to start under the maximum. p.mu held.
func (p *Pool) spare() int { return len(p.idle) + p.wakes + max(p.maxW-p.workers, 0) }

// waiting returns how many ready tasks wait beyond the spare workers: what
// Stats reports as Queued. p.mu held.
func (p *Pool) waiting() int { return max(p.ready-p.spare(), 0) }

// signalRoom places the tasks of blocked submitters that fit now, oldest
// first, and wakes those submitters. It is called with p.mu held wherever a
// queue slot, an idle worker, a worker slot or a key's turn may have
// appeared. A submitter whose task does not fit (its key at its limit and
// the queue full) stays blocked without holding back the others. While the
// workers still have queued work, it waits until half the queue is free, so
// that a submitter feeding a saturated pool wakes once per burst rather
// than once per task; without queued work any room counts, since nothing
// else would free more.
func (p *Pool) signalRoom() {
	if len(p.waitq) == 0 {
		return
	}
	if p.ready > 0 && p.roomLeft() < max(p.cfg.queueSize/2, 1) {
		return
	}
	p.placeWaiters()
}

// placeWaiters places every blocked submitter's task that fits. p.mu held.
//
//go:noinline
func (p *Pool) placeWaiters() {
	kept := p.waitq[:0]
	for _, w := range p.waitq {
		if w.r.timed {
			w.r.submitted = nanotime()
		}
		if !p.place(&w.r) {
			kept = append(kept, w)
			continue
		}
		w.done <- nil
	}
	clear(p.waitq[len(kept):])
	p.waitq = kept
}

// limited reports whether r is subject to the key limit. Every task with a
// key is counted in p.inflight while it runs, limit or not, for
// Stats.Keys; a task without one costs only the empty-key test.
func (p *Pool) limited(r *taskRec) bool { return p.cfg.keyLimit > 0 && r.key != "" }

// place accepts a copy of r if it can and makes sure a worker is on its way. Under a
// key limit, a task whose key already has as many tasks running or ready as
// the limit allows is parked (held back) instead, so that every ready task
// can run when a worker takes it. A task counts as waiting only beyond the
// workers that can take it at once (idle, waking, or yet to start), so
// WithQueueSize(0) still accepts a task a worker can run; parked tasks
// always take queue capacity. It returns false when the pool is stopped or
// full. p.mu held.
func (p *Pool) place(r *taskRec) bool {
	if p.stopped {
		return false
	}
	spare := p.spare()
	parked := p.queued - p.ready
	if p.limited(r) {
		if p.runningKey(r.key)+p.readyKey[r.key] >= p.cfg.keyLimit {
			if parked+1+max(p.ready-spare, 0) > p.cfg.queueSize {
				return false
			}
			p.park(p.newRec(r))
			p.queued++
			p.submitted++
			return true
		}
		if parked+max(p.ready+1-spare, 0) > p.cfg.queueSize {
			return false
		}
		p.readyKey[r.key]++
	} else if parked+max(p.ready+1-spare, 0) > p.cfg.queueSize {
		return false
	}
	p.queues[r.prio.level()].pushBack(p.newRec(r))
	p.ready++
	p.queued++
	p.submitted++
	if p.spinning > 0 {
		p.spinHint.Store(true)
	}
	p.kick()
	return true
}

// kick makes sure a worker is on its way to the queue when tasks are ready:
// it wakes the most recently idle worker, or starts one, unless a worker is
// already waking. Like the runtime's spinning threads, this keeps a steady
// stream of tasks from paying a park and an unpark each: a worker that
// finishes a task takes the next one itself, and a woken worker that finds
// more ready work kicks the next (so the pool still grows to meet a
// backlog). p.mu held.
func (p *Pool) kick() {
	if p.wakes == 0 && p.ready > 0 {
		p.wakeOne() // kept out of line so that kick inlines into the hot path
	}
}

// wakeOne wakes the most recently idle worker or starts one. p.mu held.
func (p *Pool) wakeOne() {
	if n := len(p.idle); n > 0 {
		w := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		p.wakes++
		w.signal(false)
		return
	}
	if p.workers < p.maxW {
		p.spawn()
	}
}

// spawn starts a worker that will look for work. p.mu held.
func (p *Pool) spawn() {
	p.workers++
	p.wakes++
	go p.work()
}

func (p *Pool) park(r *taskRec) {
	d := p.parked[r.key]
	if d == nil {
		d = new(deque)
		p.parked[r.key] = d
	}
	d.pushBack(r)
}

// take removes and returns the next task, the oldest of the highest
// priority, or nil. p.mu held.
func (p *Pool) take() *taskRec {
	if p.ready == 0 {
		return nil
	}
	for lv := numPriorities - 1; lv >= 0; lv-- {
		r := p.queues[lv].popFront()
		if r == nil {
			continue
		}
		if r.key != "" {
			run := p.inflight[r.key]
			if run == nil {
				run = p.addKey(r.key)
			}
			*run++
			r.run = run
			if p.limited(r) {
				p.unready(r.key)
			}
		}
		p.queued--
		p.ready--
		p.signalRoom()
		return r
	}
	return nil
}

// maxKeys bounds p.inflight: the keys of running tasks (at most the
// maximum number of workers) plus as many recently finished keys. p.mu held.
func (p *Pool) maxKeys() int { return 2*p.ceilW + 64 }

// runningKey returns how many tasks with key run. p.mu held.
func (p *Pool) runningKey(key string) int {
	if run := p.inflight[key]; run != nil {
		return *run
	}
	return 0
}

// addKey adds key to p.inflight with a recycled counter at 0, first
// pruning the map when it is at its bound. A task keeps a pointer to its
// key's counter (taskRec.run), so that its end costs no map lookup. p.mu
// held.
//
//go:noinline
func (p *Pool) addKey(key string) *int {
	if len(p.inflight) >= p.maxKeys() {
		p.pruneKeys()
	}
	run := popFree(&p.freeRuns)
	if run == nil {
		run = new(int)
	}
	p.inflight[key] = run
	return run
}

// pruneKeys deletes the keys with no running task from p.inflight, whose
// counters no task points to. It runs once per maxKeys()/2 or more new
// keys, so its cost per task stays constant however many distinct keys
// pass through. p.mu held.
func (p *Pool) pruneKeys() {
	for k, run := range p.inflight {
		if *run == 0 {
			delete(p.inflight, k)
			p.freeRuns = append(p.freeRuns, run)
		}
	}
}

// unready uncounts a ready task of key under a key limit. p.mu held.
func (p *Pool) unready(key string) {
	if n := p.readyKey[key] - 1; n > 0 {
		p.readyKey[key] = n
	} else {
		delete(p.readyKey, key)
	}
}

// release undoes the key accounting of a finished task and makes the
// oldest task of that key held back by the key limit, if any, ready at the
// front of its priority's queue. p.mu held.
func (p *Pool) release(key string, run *int) {
	if key == "" {
		return
	}
	*run-- // a key at 0 stays until pruneKeys, so a busy key is not deleted and re-added per task
	d := p.parked[key]
	if d == nil {
		return
	}
	u := d.popFront()
	if d.len() == 0 {
		delete(p.parked, key)
	}
	p.queues[u.prio.level()].pushFront(u)
	p.readyKey[key]++
	p.ready++
}

// Resize changes the worker bounds at run time. Extra idle workers exit at
// once, busy ones after their current task; new minimum workers start at
// once, and queued work gets new workers up to the new maximum. It returns
// an error, changing nothing, unless 0 <= min <= max and max >= 1, or after
// Stop.
func (p *Pool) Resize(minWorkers, maxWorkers int) error {
	if maxWorkers < 1 || minWorkers < 0 || minWorkers > maxWorkers {
		return fmt.Errorf("pool: resize %s: invalid bounds min=%d max=%d", p.name, minWorkers, maxWorkers)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return ErrStopped
	}
	p.minW, p.ceilW = minWorkers, maxWorkers
	limit := maxWorkers
	if o := p.ov.Load(); o != nil && o.adaptive != nil {
		limit = o.adaptive.bound(maxWorkers)
	}
	p.setLimit(limit)
	for p.workers < p.minW {
		p.spawn()
	}
	if len(p.idle) > 0 {
		p.armReaper() // a lower minimum may let idle workers retire
	}
	return nil
}

// setLimit makes n the number of workers allowed to run tasks: extra idle
// workers exit at once, busy ones after their current task, and queued
// work gets new workers up to n. p.mu held.
func (p *Pool) setLimit(n int) {
	p.maxW = n
	for p.workers > p.maxW && len(p.idle) > 0 {
		p.nudge()
	}
	p.kick()
	p.signalRoom()
}

// nudge makes the most recently idle worker exit, uncounting it now so
// callers' loops terminate. p.mu held; len(p.idle) > 0.
func (p *Pool) nudge() {
	n := len(p.idle) - 1
	w := p.idle[n]
	p.idle[n] = nil
	p.idle = p.idle[:n]
	p.workers--
	w.signal(true)
}

func (p *Pool) info(prio Priority, key, label string, submitted, wait int64) TaskInfo {
	return TaskInfo{
		Pool: p.name, Priority: prio, Key: key, Label: label,
		Submitted: epoch.Add(time.Duration(submitted)), QueueWait: time.Duration(wait),
	}
}
