package pool

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"runtime/pprof"
	"time"
)

// worker is one worker goroutine's handle, used while it is idle.
type worker struct {
	wake    chan *taskRec // capacity 1: a task, or nil to re-check
	idx     int           // position in p.idle, -1 when not idle
	exiting bool          // already uncounted by nudge; exit on wake
	waited  bool          // came back from idle: the worker's clock is stale
	timer   *time.Timer
}

// work is a worker goroutine's body. first, when non-nil, was counted in
// p.running by the caller.
func (p *Pool) work(first *taskRec) {
	// Labels are set once per worker so tasks without a label cost nothing.
	pprof.SetGoroutineLabels(p.labels)
	w := &worker{wake: make(chan *taskRec, 1), idx: -1}
	defer func() {
		if w.timer != nil {
			w.timer.Stop()
		}
	}()
	sh := &p.shards[p.nextShard.Add(1)%numShards]
	r := first
	var now int64
	for {
		if r != nil {
			now = p.run(sh, r, now)
		}
		r = p.next(w, r)
		if r == nil {
			return
		}
		if w.waited {
			w.waited = false
			now = 0
		}
	}
}

// next finishes the bookkeeping of done (if any) and returns the worker's
// next task, waiting while idle; nil means the worker must exit.
func (p *Pool) next(w *worker, done *taskRec) *taskRec {
	p.mu.Lock()
	if done != nil {
		p.running--
		unparked := p.release(done)
		p.freeRec(done)
		if unparked {
			// The freed key slot may suit an idle worker better than us.
			p.dispatch()
		}
	}
	for {
		if p.workers > p.maxW { // shrunk by Resize
			p.exit()
			p.mu.Unlock()
			return nil
		}
		if r := p.take(); r != nil {
			p.running++
			p.mu.Unlock()
			return r
		}
		if p.stopped {
			p.exit()
			p.mu.Unlock()
			return nil
		}
		p.idle = append(p.idle, w)
		w.idx = len(p.idle) - 1
		p.signalRoom()
		p.mu.Unlock()
		r, ok := p.waitIdle(w)
		if r != nil || !ok {
			w.waited = true
			return r
		}
		p.mu.Lock()
	}
}

// exit uncounts the calling worker. p.mu held.
func (p *Pool) exit() {
	p.workers--
	p.signalRoom()
	if p.stopped && p.workers == 0 {
		close(p.drained)
	}
}

// waitIdle waits for a task. It returns (task, true) for a task, (nil,
// true) to re-check under the lock, and (nil, false) when the worker has
// been uncounted and must exit.
func (p *Pool) waitIdle(w *worker) (*taskRec, bool) {
	if w.timer == nil {
		w.timer = time.NewTimer(p.cfg.idleTimeout)
	} else {
		w.timer.Reset(p.cfg.idleTimeout)
	}
	for {
		select {
		case r := <-w.wake:
			w.timer.Stop()
			if r == nil && w.exiting {
				return nil, false
			}
			return r, true
		case <-w.timer.C:
		}
		p.mu.Lock()
		if w.idx < 0 { // a task or a nudge is already in w.wake
			p.mu.Unlock()
			continue
		}
		if p.workers > p.minW {
			p.removeIdle(w)
			p.exit()
			p.mu.Unlock()
			return nil, false
		}
		p.mu.Unlock()
		w.timer.Reset(p.cfg.idleTimeout)
	}
}

// run executes r and records its outcome. now is the worker's last clock
// reading (0 if stale); run returns the clock at the task's end so the next
// task's start needs no extra read.
func (p *Pool) run(sh *shard, r *taskRec, now int64) int64 {
	ctx := r.ctx
	if !r.timed {
		now = 0
	} else if now == 0 {
		now = nanotime()
	}
	wait := max(now-r.submitted, 0)
	if err := ctx.Err(); err != nil {
		sh.canceled.Add(1)
		if o := p.cfg.observer; o != nil {
			o.TaskEnd(ctx, p.info(r.prio, r.key, r.label, r.submitted, wait), TaskResult{Outcome: Canceled, Err: err})
		}
		if r.done != nil {
			r.done.complete(err)
		}
		return now
	}
	if r.timed && p.cfg.stats {
		sh.queueWait.observe(time.Duration(wait))
	}
	var cancel context.CancelFunc
	if r.timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, time.Duration(r.timeout))
	}
	var info TaskInfo
	obs := p.cfg.observer
	if obs != nil {
		info = p.info(r.prio, r.key, r.label, r.submitted, wait)
		ctx = obs.TaskStart(ctx, info)
	}
	if r.label != "" {
		pprof.SetGoroutineLabels(p.labelContext(r.label))
	}
	err, pe := p.call(ctx, r)
	if r.label != "" {
		pprof.SetGoroutineLabels(p.labels)
	}
	if cancel != nil {
		cancel()
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
		sh.panicked.Add(1)
	case err != nil:
		outcome = Failed
		sh.failed.Add(1)
	default:
		sh.completed.Add(1)
	}
	if obs != nil {
		obs.TaskEnd(ctx, info, TaskResult{Outcome: outcome, RunTime: runTime, Err: err, Panic: pe})
	}
	if pe != nil {
		if l := p.cfg.logger; l != nil {
			l.Error("pool: task panicked", "pool", p.name, "label", r.label, "panic", fmt.Sprint(pe.Value))
		}
		if h := p.cfg.panicHandler; h != nil {
			h(pe)
		}
	}
	if r.done != nil {
		r.done.complete(err)
	}
	return end
}

// call runs the task function, turning a panic into a *PanicError.
func (p *Pool) call(ctx context.Context, r *taskRec) (err error, pe *PanicError) {
	defer func() {
		if v := recover(); v != nil {
			pe = &PanicError{Pool: p.name, Label: r.label, Value: v, Stack: debug.Stack()}
		}
	}()
	return r.fn(ctx), nil
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
		unregister(p)
		for len(p.idle) > 0 {
			p.nudge()
		}
		if p.room != nil {
			close(p.room)
			p.room = nil
		}
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
		p.shards[0].canceled.Add(1)
		if o := p.cfg.observer; o != nil {
			o.TaskEnd(r.ctx, p.info(r.prio, r.key, r.label, r.submitted, 0), TaskResult{Outcome: Canceled, Err: ErrStopped})
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
	return dropped, p.running
}
