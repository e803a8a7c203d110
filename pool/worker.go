package pool

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"sync"
	"time"
)

// worker is one worker goroutine's handle, used while it is idle.
//
// A parked worker waits on a sync.WaitGroup that the pool releases: 16
// bytes where a wake-up channel costs over 100, which adds up with
// thousands of workers. A locked sync.Mutex would be as small, but an idle
// worker blocked on it would count as lock contention in the runtime's
// /sync/mutex/wait/total and the mutex profile, and show as
// "sync.Mutex.Lock" in goroutine dumps: a pool built for diagnosis must not
// make an idle service look contended.
type worker struct {
	wake      sync.WaitGroup
	exit      bool  // set with the wake-up: the worker was uncounted and must exit
	idleSince int64 // nanotime when it parked; under p.mu
}

func newWorker() *worker { return new(worker) }

// arm prepares w to park; it must be called before w is put in p.idle,
// where a signaller can find it. p.mu held.
func (w *worker) arm() { w.wake.Add(1) }

// signal wakes the parked worker w, telling it to exit or to look for work.
// p.mu held; w has just been removed from p.idle.
func (w *worker) signal(exit bool) {
	w.exit = exit
	w.wake.Done()
}

// park blocks until signal and reports whether the worker must exit.
func (w *worker) park() (exit bool) {
	w.wake.Wait()
	return w.exit
}

// work is a worker goroutine's body; the caller counted it in p.workers and
// p.wakes.
func (p *Pool) work() {
	// Labels are set once per worker so tasks without a label cost nothing.
	pprof.SetGoroutineLabels(p.labels)
	w := newWorker()
	sh := &p.shards[p.nextShard.Add(1)%numShards]
	var r, cur *taskRec // cur is the task being run, nil between tasks
	defer func() {
		if cur != nil { // runtime.Goexit in the task or one of its hooks
			p.goexited(sh, cur)
		}
	}()
	var now int64
	woken := true
	for {
		var parked bool
		r, parked = p.next(w, r, woken)
		if r == nil {
			return
		}
		if parked {
			now = 0 // the worker's clock is stale
		}
		woken = false
		cur = r
		now = p.run(sh, r, now)
		cur = nil
	}
}

// next finishes the bookkeeping of done (if any) and returns the worker's
// next task, parking while there is none; nil means the worker must exit.
// woken says the worker is counted in p.wakes. parked reports whether the
// worker waited.
func (p *Pool) next(w *worker, done *taskRec, woken bool) (r *taskRec, parked bool) {
	var doneKey string
	var doneRun *int
	if done != nil {
		// Clear the record before taking the lock: the worker owns it
		// until it is back on the free list, and the lock is the pool's
		// most contended line.
		doneKey, doneRun = done.key, done.run
		*done = taskRec{}
	}
	p.mu.Lock()
	if woken {
		p.wakes--
	}
	if done != nil {
		p.running--
		p.release(doneKey, doneRun)
		p.free = append(p.free, done)
	}
	spun := false
	for {
		if p.workers > p.maxW { // shrunk by Resize
			p.exit()
			p.mu.Unlock()
			return nil, parked
		}
		if r := p.take(); r != nil {
			p.running++
			p.kick() // more ready work than this worker: bring another
			p.mu.Unlock()
			return r, parked
		}
		if p.stopped {
			p.exit()
			p.mu.Unlock()
			return nil, parked
		}
		if !spun && p.spinning == 0 {
			spun = true
			p.spin()
			continue
		}
		w.idleSince = nanotime()
		w.arm()
		p.idle = append(p.idle, w)
		p.armReaper()
		p.signalRoom()
		p.mu.Unlock()
		parked = true
		if w.park() {
			return nil, parked // already uncounted by nudge or reap
		}
		p.mu.Lock()
		p.wakes--
	}
}

// spinRounds bounds how long a worker without work spins before it parks:
// this many yields, a few microseconds.
const spinRounds = 32

// spin lets a worker that found no task look again for a few microseconds
// before it parks, as the runtime's spinning threads do: when tasks arrive
// about as fast as workers finish them, the next task is taken without a
// park and an unpark (a wake-up costs more than an empty task). At most
// one worker spins at a time, and it counts as waking (p.wakes), so a
// submitter does not wake another for the task it will take. It is called
// and returns with p.mu held.
func (p *Pool) spin() {
	p.spinning++
	p.wakes++
	p.spinHint.Store(false)
	p.signalRoom() // a spinning worker is room for a blocked submitter
	p.mu.Unlock()
	for i := 0; i < spinRounds && !p.spinHint.Load(); i++ {
		runtime.Gosched()
	}
	p.mu.Lock()
	p.spinning--
	p.wakes--
}

// exit uncounts the calling worker and brings in another if queued work
// needs one. p.mu held.
func (p *Pool) exit() {
	p.workers--
	p.kick()
	p.signalRoom()
	if p.stopped && p.workers == 0 {
		close(p.drained)
	}
}

// armReaper arms the one timer that retires idle workers, instead of a
// timer per idle worker (whose reset and stop every park and wake would
// pay). p.mu held.
func (p *Pool) armReaper() {
	if p.reaping || p.workers <= p.minW {
		return
	}
	p.reaping = true
	if p.reaper == nil {
		p.reaper = time.AfterFunc(p.cfg.idleTimeout, p.reap)
	} else {
		p.reaper.Reset(p.cfg.idleTimeout)
	}
}

// reap retires the workers idle for the idle timeout, oldest first, down to
// the minimum, and re-arms itself for the next oldest idle worker.
func (p *Pool) reap() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reaping = false
	if p.stopped {
		return
	}
	now, limit := nanotime(), int64(p.cfg.idleTimeout)
	n := 0
	for n < len(p.idle) && p.workers > p.minW && now-p.idle[n].idleSince >= limit {
		p.workers--
		p.idle[n].signal(true)
		n++
	}
	p.idle = slices.Delete(p.idle, 0, n)
	if len(p.idle) > 0 && p.workers > p.minW {
		p.reaping = true
		p.reaper.Reset(time.Duration(p.idle[0].idleSince + limit - now))
	}
}

// run executes r and records its outcome. now is the worker's last clock
// reading (0 if stale); run returns the clock at the task's end so the next
// task's start needs no extra read. Tasks with an observer, a timeout or a
// label take runFull; this path is kept small so that a worker's stack
// stays within the goroutine's starting size.
//
// Hooks (the observer, the panic handler) run before the outcome is
// counted, so that a runtime.Goexit in a task or a hook always finds its
// task uncounted (see goexited).
func (p *Pool) run(sh *shard, r *taskRec, now int64) int64 {
	if !r.timed {
		now = 0
	} else if now == 0 {
		now = nanotime()
	}
	if p.observed || r.timeout > 0 || r.label != "" {
		return p.runFull(sh, r, now)
	}
	if err := r.ctx.Err(); err != nil {
		p.canceled(sh, r, now, err)
		return now
	}
	if r.timed && p.cfg.stats {
		sh.queueWait.observe(time.Duration(max(now-r.submitted, 0)))
	}
	pe, err := p.call(r.ctx, r)
	var end int64
	if r.timed {
		end = nanotime()
		if p.cfg.stats {
			sh.runTime.observe(time.Duration(max(end-now, 0)))
		}
	}
	switch {
	case pe != nil:
		p.panicked(r, pe)
		err = pe
		sh.panicked.Add(1)
	case err != nil:
		sh.failed.Add(1)
	default:
		sh.completed.Add(1)
	}
	if r.done != nil {
		r.done.complete(err)
	}
	return end
}

// canceled records a task whose context ended before it could start.
//
//go:noinline
func (p *Pool) canceled(sh *shard, r *taskRec, now int64, err error) {
	if p.cfg.observer != nil {
		wait := max(now-r.submitted, 0)
		p.taskEnd(r.ctx, p.info(r.prio, r.key, r.label, r.submitted, wait), TaskResult{Outcome: Canceled, Err: err}, r)
	}
	sh.canceled.Add(1)
	if o := p.ov.Load(); o != nil && o.timed() {
		p.ended(o, r, 0, now, Canceled, err, false)
	}
	if r.done != nil {
		r.done.complete(err)
	}
}

// runFull is run for tasks with an observer, a timeout or a label.
//
//go:noinline
func (p *Pool) runFull(sh *shard, r *taskRec, now int64) int64 {
	ctx := r.ctx
	wait := max(now-r.submitted, 0)
	if err := ctx.Err(); err != nil {
		p.canceled(sh, r, now, err)
		return now
	}
	if r.timed && p.cfg.stats {
		sh.queueWait.observe(time.Duration(wait))
	}
	if o := p.ov.Load(); o != nil && o.timed() {
		p.started(o, r, now)
	}
	if r.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(r.timeout))
		defer cancel()
	}
	var info TaskInfo
	obs := p.cfg.observer
	if obs != nil {
		info = p.info(r.prio, r.key, r.label, r.submitted, wait)
		var pe *PanicError
		if ctx, pe = p.taskStart(ctx, info, r); pe != nil {
			// The observer failed before the task began: the task is not
			// run, and ends with the observer's panic.
			sh.panicked.Add(1)
			if o := p.ov.Load(); o != nil && o.timed() {
				p.ended(o, r, now, now, Panicked, pe, true)
			}
			if r.done != nil {
				r.done.complete(pe)
			}
			return now
		}
	}
	if r.label != "" {
		pprof.SetGoroutineLabels(p.labelContext(r.label))
	}
	pe, err := p.call(ctx, r)
	if r.label != "" {
		pprof.SetGoroutineLabels(p.labels)
	}
	var end int64
	var runTime time.Duration
	if r.timed {
		end = nanotime()
		runTime = time.Duration(max(end-now, 0))
	}
	if r.timed && p.cfg.stats {
		sh.runTime.observe(runTime)
	}
	outcome := Completed
	switch {
	case pe != nil:
		outcome = Panicked
		err = pe
	case err != nil:
		outcome = Failed
	}
	if obs != nil {
		p.taskEnd(ctx, info, TaskResult{Outcome: outcome, RunTime: runTime, Err: err, Panic: pe}, r)
	}
	if pe != nil {
		p.panicked(r, pe)
	}
	switch outcome {
	case Panicked:
		sh.panicked.Add(1)
	case Failed:
		sh.failed.Add(1)
	default:
		sh.completed.Add(1)
	}
	if o := p.ov.Load(); o != nil && o.timed() {
		p.ended(o, r, now, end, outcome, err, err != nil && ctx.Err() != nil)
	}
	if r.done != nil {
		r.done.complete(err)
	}
	return end
}

// panicked logs and hands on a task panic, before it is counted. A panic
// in the handler is contained like a task's.
//
//go:noinline
func (p *Pool) panicked(r *taskRec, pe *PanicError) {
	if l := p.cfg.logger; l != nil {
		l.Error("pool: task panicked", "pool", p.name, "label", r.label, "panic", fmt.Sprint(pe.Value))
	}
	if h := p.cfg.panicHandler; h != nil {
		defer func() {
			if v := recover(); v != nil {
				p.hookPanic("panic handler", r, v)
			}
		}()
		h(pe)
	}
}

// taskStart calls the observer's TaskStart, containing a panic.
//
//go:noinline
func (p *Pool) taskStart(ctx context.Context, info TaskInfo, r *taskRec) (c context.Context, pe *PanicError) {
	defer func() {
		if v := recover(); v != nil {
			c, pe = ctx, p.hookPanic("TaskStart", r, v)
		}
	}()
	if c = p.cfg.observer.TaskStart(ctx, info); c == nil {
		c = ctx
	}
	return c, nil
}

// taskEnd calls the observer's TaskEnd, containing a panic.
//
//go:noinline
func (p *Pool) taskEnd(ctx context.Context, info TaskInfo, res TaskResult, r *taskRec) {
	defer func() {
		if v := recover(); v != nil {
			p.hookPanic("TaskEnd", r, v)
		}
	}()
	p.cfg.observer.TaskEnd(ctx, info, res)
}

// hookPanic counts and logs a panic recovered from a hook, and returns it
// as the *PanicError of r.
func (p *Pool) hookPanic(hook string, r *taskRec, v any) *PanicError {
	p.hookPanics.Add(1)
	if l := p.cfg.logger; l != nil {
		l.Error("pool: hook panicked", "pool", p.name, "hook", hook, "label", r.label, "panic", fmt.Sprint(v))
	}
	return &PanicError{Pool: p.name, Label: r.label, Value: v, Stack: debug.Stack()}
}

// goexited finishes r when runtime.Goexit ends the worker goroutine while
// it runs r or one of r's hooks: r ends Panicked with ErrGoexit, and the
// worker's place (its count, r's key, r's record) is given back, with a new
// worker started if queued work needs one. The bookkeeping is deferred so
// that it happens even if a hook called here calls runtime.Goexit again.
func (p *Pool) goexited(sh *shard, r *taskRec) {
	pe := &PanicError{Pool: p.name, Label: r.label, Value: ErrGoexit, Stack: debug.Stack()}
	defer p.lost(sh, r, pe)
	if p.cfg.observer != nil {
		info := p.info(r.prio, r.key, r.label, r.submitted, 0)
		p.taskEnd(r.ctx, info, TaskResult{Outcome: Panicked, Err: pe, Panic: pe}, r)
	}
	p.panicked(r, pe)
}

// lost counts r as Panicked and gives back what its exiting worker held.
func (p *Pool) lost(sh *shard, r *taskRec, pe *PanicError) {
	sh.panicked.Add(1)
	if o := p.ov.Load(); o != nil && o.timed() {
		now := nanotime()
		p.ended(o, r, now, now, Panicked, pe, true)
	}
	if r.done != nil {
		r.done.complete(pe)
	}
	p.mu.Lock()
	p.running--
	p.release(r.key, r.run)
	p.freeRec(r)
	p.exit()
	p.mu.Unlock()
}

// call runs the task function, turning a panic into a *PanicError.
func (p *Pool) call(ctx context.Context, r *taskRec) (pe *PanicError, err error) {
	defer func() {
		if v := recover(); v != nil {
			pe = p.panicError(r, v)
		}
	}()
	return nil, r.fn(ctx)
}

//go:noinline
func (p *Pool) panicError(r *taskRec, v any) *PanicError {
	return &PanicError{Pool: p.name, Label: r.label, Value: v, Stack: debug.Stack()}
}

// labelContext returns a context carrying pprof labels pool=<name> and
// task=<label>, cached per label up to maxLabelCache labels.
func (p *Pool) labelContext(label string) context.Context {
	p.labelMu.Lock()
	defer p.labelMu.Unlock()
	if c, ok := p.labelCtx[label]; ok {
		return c
	}
	c := pprof.WithLabels(p.labels, pprof.Labels("task", label))
	if len(p.labelCtx) < maxLabelCache {
		p.labelCtx[label] = c
	}
	return c
}

// Stop stops accepting tasks (Submit then returns ErrStopped, blocked
// submitters wake with ErrStopped), lets the workers run every task already
// accepted, and returns nil once all workers have exited. If ctx ends first,
// Stop drops the tasks still queued, counts them as Canceled (their groups
// and futures see the error), and returns an error wrapping ctx.Err() that
// says how many were dropped; tasks already running finish in the
// background. Stop removes the pool from Registered. Calling Stop again
// waits the same way.
func (p *Pool) Stop(ctx context.Context) error {
	p.mu.Lock()
	if !p.stopped {
		p.stopped = true
		p.spinHint.Store(true)
		unregister(p)
		for len(p.idle) > 0 {
			p.nudge()
		}
		if p.reaper != nil {
			p.reaper.Stop()
		}
		for _, w := range p.waitq { // blocked submitters see ErrStopped
			w.done <- ErrStopped
		}
		clear(p.waitq)
		p.waitq = p.waitq[:0]
		if p.workers == 0 {
			close(p.drained)
		}
	}
	drained := p.drained
	p.mu.Unlock()
	select {
	case <-drained:
		return nil
	case <-ctx.Done():
	}
	dropped, running := p.drop()
	cause := ctx.Err()
	for _, r := range dropped {
		if p.cfg.observer != nil {
			p.taskEnd(r.ctx, p.info(r.prio, r.key, r.label, r.submitted, 0), TaskResult{Outcome: Canceled, Err: ErrStopped}, r)
		}
		p.shards[0].canceled.Add(1)
		if o := p.ov.Load(); o != nil && o.timed() {
			p.ended(o, r, 0, nanotime(), Canceled, ErrStopped, false)
		}
		if r.done != nil {
			r.done.complete(ErrStopped)
		}
	}
	if l := p.cfg.logger; l != nil && len(dropped) > 0 {
		l.Warn("pool: stop dropped queued tasks", "pool", p.name, "dropped", len(dropped))
	}
	return fmt.Errorf("pool: stop %s: %d queued tasks dropped, %d still running: %w",
		p.name, len(dropped), running, errors.Join(cause, ErrStopped))
}

// drop empties the queues and parked lists, returning what was in them.
func (p *Pool) drop() (dropped []*taskRec, running int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for lv := range p.queues {
		for r := p.queues[lv].popFront(); r != nil; r = p.queues[lv].popFront() {
			dropped = append(dropped, r)
		}
	}
	for k, d := range p.parked {
		for r := d.popFront(); r != nil; r = d.popFront() {
			dropped = append(dropped, r)
		}
		delete(p.parked, k)
	}
	p.queued -= len(dropped)
	p.ready = 0
	clear(p.readyKey)
	return dropped, p.running
}
