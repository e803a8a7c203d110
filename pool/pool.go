package pool

import (
	"context"
	"errors"
	"fmt"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"time"
)

// ErrOverloaded is returned by Submit and Go when the queue is full and the
// pool was built WithFailFast.
var ErrOverloaded = errors.New("pool: overloaded")

// ErrStopped is returned by Submit and Go after Stop has been called.
var ErrStopped = errors.New("pool: stopped")

// epoch anchors the monotonic clock used for all task timing: one
// time.Since is a single monotonic clock read.
var epoch = time.Now()

func nanotime() int64 { return int64(time.Since(epoch)) }

// Pool is a bounded, instrumented goroutine pool. Create it with New; the
// zero value is not usable. All methods are safe for concurrent use.
type Pool struct {
	name     string
	cfg      config
	observed bool // an observer needs every task timed
	sampleN  int  // time one task in sampleN for the histograms; 0 = never
	sampleC  int  // submissions since the last timed one; under mu

	mu       sync.Mutex
	queues   [numPriorities]deque
	parked   map[string]*deque // tasks waiting for their key's limit
	inflight map[string]int    // running tasks per key
	queued   int
	workers  int
	running  int
	idle     []*worker
	minW     int
	maxW     int
	stopped  bool
	waiters  int           // submitters blocked for room
	room     chan struct{} // closed when room may have appeared
	drained  chan struct{} // closed when stopped and no worker is left

	free      []*taskRec // recycled task records
	submitted uint64     // accepted tasks

	rejected  atomic.Uint64
	nextShard atomic.Uint32
	shards    [numShards]shard // outcome counters and histograms, per worker

	labels   context.Context // pprof labels pool=<name>, set once per worker
	labelMu  sync.Mutex
	labelCtx map[string]context.Context
	subObs   SubmitObserver
}

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
		inflight: make(map[string]int),
		minW:     cfg.minWorkers,
		maxW:     cfg.maxWorkers,
		drained:  make(chan struct{}),
		labels:   pprof.WithLabels(context.Background(), pprof.Labels("pool", name)),
		labelCtx: make(map[string]context.Context),
	}
	p.subObs, _ = cfg.observer.(SubmitObserver)
	if cfg.stats {
		p.sampleN = cfg.sampleEvery
	}
	p.mu.Lock()
	for p.workers < p.minW {
		p.workers++
		go p.work(nil)
	}
	p.mu.Unlock()
	if cfg.registry {
		register(p)
	}
	return p
}

// Name returns the name given to New.
func (p *Pool) Name() string { return p.name }

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
		p.rejected.Add(1)
		return err
	}
	rv := taskRec{fn: t.Fn, ctx: ctx, done: done, key: t.Key, label: t.Label, prio: t.Priority, timeout: int64(t.Timeout)}
	if p.observed {
		rv.timed, rv.submitted = true, nanotime()
	}
	if p.subObs != nil {
		// Before placing, so that it always precedes TaskStart.
		p.subObs.TaskSubmit(ctx, p.info(t.Priority, t.Key, t.Label, rv.submitted, 0))
	}
	p.mu.Lock()
	r := p.newRec()
	*r = rv
	if !rv.timed && p.sampleN > 0 {
		// Sampling keeps the two clock reads a timed task costs off most
		// tasks; the counters stay exact.
		if p.sampleC++; p.sampleC >= p.sampleN {
			p.sampleC = 0
			r.timed, r.submitted = true, nanotime()
		}
	}
	for !p.place(r) {
		err := ErrStopped
		if !p.stopped {
			err = ErrOverloaded
			if !p.cfg.failFast {
				err = p.waitRoom(ctx)
			}
		}
		if err != nil {
			p.freeRec(r)
			p.mu.Unlock()
			p.rejected.Add(1)
			return err
		}
		if r.timed {
			r.submitted = nanotime()
		}
	}
	p.mu.Unlock()
	return nil
}

// waitRoom blocks, with p.mu released, until room may have appeared or ctx
// ends. It returns with p.mu held.
func (p *Pool) waitRoom(ctx context.Context) error {
	if p.room == nil {
		p.room = make(chan struct{})
	}
	ch := p.room
	p.waiters++
	p.mu.Unlock()
	var err error
	select {
	case <-ch:
	case <-ctx.Done():
		err = ctx.Err()
	}
	p.mu.Lock()
	p.waiters--
	return err
}

// signalRoom wakes blocked submitters; called with p.mu held whenever a
// queue slot, an idle worker or a worker slot may have appeared.
func (p *Pool) signalRoom() {
	if p.waiters > 0 && p.room != nil {
		close(p.room)
		p.room = nil
	}
}

// keyed reports whether r is subject to the key limit.
func (p *Pool) keyed(r *taskRec) bool { return p.cfg.keyLimit > 0 && r.key != "" }

// place accepts r if it can: to an idle worker, to a new worker, or into
// the queue. It returns false when the pool is stopped or full. p.mu held.
func (p *Pool) place(r *taskRec) bool {
	if p.stopped {
		return false
	}
	keyed := p.keyed(r)
	if keyed && p.inflight[r.key] >= p.cfg.keyLimit {
		if p.queued >= p.cfg.queueSize {
			return false
		}
		p.park(r)
		p.queued++
		p.submitted++
		return true
	}
	if n := len(p.idle); n > 0 || p.workers < p.maxW {
		if keyed {
			p.inflight[r.key]++
		}
		p.running++
		p.submitted++
		if n > 0 {
			w := p.idle[n-1]
			p.removeIdle(w)
			w.wake <- r
		} else {
			p.workers++
			go p.work(r)
		}
		return true
	}
	if p.queued >= p.cfg.queueSize {
		return false
	}
	p.queues[r.prio.level()].pushBack(r)
	p.queued++
	p.submitted++
	return true
}

func (p *Pool) park(r *taskRec) {
	d := p.parked[r.key]
	if d == nil {
		d = new(deque)
		p.parked[r.key] = d
	}
	d.pushBack(r)
}

// take removes and returns the next runnable task, highest priority first,
// parking tasks whose key is at its limit. p.mu held.
func (p *Pool) take() *taskRec {
	for lv := numPriorities - 1; lv >= 0; lv-- {
		q := &p.queues[lv]
		for q.len() > 0 {
			r := q.popFront()
			if p.keyed(r) {
				if p.inflight[r.key] >= p.cfg.keyLimit {
					p.park(r)
					continue
				}
				p.inflight[r.key]++
			}
			p.queued--
			p.signalRoom()
			return r
		}
	}
	return nil
}

// release undoes the key accounting of a finished task and moves one task
// of that key, if any is waiting, back to the front of its queue. p.mu held.
func (p *Pool) release(r *taskRec) (unparked bool) {
	if !p.keyed(r) {
		return false
	}
	if n := p.inflight[r.key] - 1; n > 0 {
		p.inflight[r.key] = n
	} else {
		delete(p.inflight, r.key)
	}
	d := p.parked[r.key]
	if d == nil {
		return false
	}
	u := d.popFront()
	if d.len() == 0 {
		delete(p.parked, r.key)
	}
	p.queues[u.prio.level()].pushFront(u)
	return true
}

func (p *Pool) removeIdle(w *worker) {
	last := len(p.idle) - 1
	moved := p.idle[last]
	p.idle[w.idx] = moved
	moved.idx = w.idx
	p.idle[last] = nil
	p.idle = p.idle[:last]
	w.idx = -1
}

// dispatch hands runnable queued tasks to idle workers. p.mu held.
func (p *Pool) dispatch() {
	for len(p.idle) > 0 {
		r := p.take()
		if r == nil {
			return
		}
		w := p.idle[len(p.idle)-1]
		p.removeIdle(w)
		p.running++
		w.wake <- r
	}
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
	p.minW, p.maxW = minWorkers, maxWorkers
	for p.workers > p.maxW && len(p.idle) > 0 {
		p.nudge()
	}
	for p.workers < p.maxW && p.queued > 0 {
		r := p.take()
		if r == nil {
			break
		}
		p.workers++
		p.running++
		go p.work(r)
	}
	for p.workers < p.minW {
		p.workers++
		go p.work(nil)
	}
	p.signalRoom()
	return nil
}

// nudge wakes the most recently idle worker with no task, so it re-checks
// its reason to live. p.mu held; len(p.idle) > 0.
func (p *Pool) nudge() {
	w := p.idle[len(p.idle)-1]
	p.removeIdle(w)
	// The nudged worker exits; uncount it now so callers' loops terminate.
	// exiting is written before the send, which orders it for the worker.
	w.exiting = true
	p.workers--
	w.wake <- nil
}

func (p *Pool) info(prio Priority, key, label string, submitted, wait int64) TaskInfo {
	return TaskInfo{
		Pool: p.name, Priority: prio, Key: key, Label: label,
		Submitted: epoch.Add(time.Duration(submitted)), QueueWait: time.Duration(wait),
	}
}
