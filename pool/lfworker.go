package pool

import (
	"runtime"
	"runtime/pprof"
	"slices"
	"time"
)

// workLF is a worker goroutine's body in the lock-free core; the caller
// counted it in lf.workers and lf.wakes. The worker copies each task out
// of its ring slot into w.cur and runs it from there.
func (p *Pool) workLF() {
	pprof.SetGoroutineLabels(p.labels)
	w := newWorker()
	sh := &p.shards[p.nextShard.Add(1)%numShards]
	defer func() {
		if w.busy { // runtime.Goexit in the task or one of its hooks
			p.goexited(sh, &w.cur, func() { p.lostLF(sh, w) })
		}
	}()
	var now int64
	woken := true
	for {
		ok, parked := p.nextLF(w, sh, woken)
		if !ok {
			return
		}
		if parked {
			now = 0 // the worker's clock is stale
		}
		woken = false
		now = p.run(sh, &w.cur, now)
		p.endLF(sh, w)
	}
}

// nextLF takes the worker's next task into w.cur, spinning and then
// parking while there is none; false means the worker must exit (it has
// been uncounted). woken says the worker is counted in lf.wakes. parked
// reports whether it waited.
func (p *Pool) nextLF(w *worker, sh *shard, woken bool) (ok, parked bool) {
	spun := false
	for {
		if p.retireLF() {
			if woken {
				p.lf.wakes.Add(-1)
			}
			return false, parked
		}
		got := p.takeLF(&w.cur)
		if woken {
			// Uncounted only after looking: a submitter that saw this
			// worker waking left its task to it.
			p.lf.wakes.Add(-1)
			woken = false
		}
		if got {
			w.busy = true
			sh.running.Add(1)
			if w.cur.key != "" {
				w.krun = p.lf.keys.acquire(w.cur.key, 2*p.cfg.maxWorkers+64)
			}
			if p.readyLF() {
				p.kickLF() // more ready work than this worker: bring another
			}
			return true, parked
		}
		if p.drainedLF() {
			p.exitLF()
			return false, parked
		}
		p.signalRoomLF() // nothing ready: any room counts for blocked submitters
		if !spun && p.lf.spinning.CompareAndSwap(0, 1) {
			// Counted as waking, so that a submitter leaves its task to
			// this worker rather than waking another.
			spun, woken = true, true
			p.lf.wakes.Add(1)
			dbgSpins.Add(1)
			for i := 0; i < spinRounds && !p.readyLF() && !p.stoppedLF(); i++ {
				runtime.Gosched()
			}
			p.lf.spinning.Store(0)
			continue
		}
		if p.idleLF(w) {
			continue // work arrived as it went idle
		}
		parked = true
		dbgParks.Add(1)
		if w.park() {
			return false, parked // already uncounted by nudgeLF or reapLF
		}
		woken = true
	}
}

// takeLF copies the next task, the oldest of the highest priority, into
// out, or reports false.
func (p *Pool) takeLF(out *taskRec) bool {
	for lv := numPriorities - 1; lv >= 0; lv-- {
		if p.lf.queues[lv].pop(out) {
			return true
		}
	}
	return false
}

// idleLF puts w on the idle stack, then looks at the rings once more: a
// task queued before w was visible there would otherwise wait for the
// next submission. It reports true, with w off the stack again, when w
// should look for work instead of parking; false means w must park (it
// may already have been woken, nudged or reaped).
func (p *Pool) idleLF(w *worker) bool {
	p.lf.idleMu.Lock()
	w.idleSince = nanotime()
	w.arm()
	p.idle = append(p.idle, w)
	p.lf.nidle.Store(int32(len(p.idle)))
	p.armReaperLF()
	p.lf.idleMu.Unlock()
	if !p.readyLF() && !p.drainedLF() {
		return false
	}
	p.lf.idleMu.Lock()
	defer p.lf.idleMu.Unlock()
	i := slices.Index(p.idle, w)
	if i < 0 {
		return false // taken off by a wake-up, a nudge or the reaper: its signal is coming
	}
	p.idle = slices.Delete(p.idle, i, i+1)
	p.lf.nidle.Store(int32(len(p.idle)))
	w.wake.Done() // undo arm
	return true
}

// endLF finishes the bookkeeping of the worker's task: its key and
// running counts, its record, and its place in the admission count, which
// wakes blocked submitters when room appears and, once Stop has begun and
// no task is left, the idle workers so that they exit.
func (p *Pool) endLF(sh *shard, w *worker) {
	if w.krun != nil {
		w.krun.release()
		w.krun = nil
	}
	w.cur = taskRec{}
	w.busy = false
	sh.running.Add(-1)
	if p.lf.inflight.Add(-1) == lfStopped {
		p.nudgeAllLF()
	}
	p.signalRoomLF()
}

// lostLF gives back what a worker ended by runtime.Goexit held: its task's
// place and the worker itself, with another started if work needs one.
func (p *Pool) lostLF(sh *shard, w *worker) {
	p.endLF(sh, w)
	p.exitLF()
}

// drainedLF reports whether Stop has begun and every accepted task has
// ended: no task will come, so workers exit.
func (p *Pool) drainedLF() bool { return p.lf.inflight.Load() == lfStopped }

// retireLF uncounts the calling worker if the pool has more workers than
// its maximum (Resize lowered it) and reports whether it did.
func (p *Pool) retireLF() bool {
	for {
		n := p.lf.workers.Load()
		if n&lfClosed != 0 || n <= p.lf.maxW.Load() {
			return false
		}
		if p.lf.workers.CompareAndSwap(n, n-1) {
			if p.readyLF() {
				p.kickLF()
			}
			return true
		}
	}
}

// exitLF uncounts the calling worker, bringing in another if ready work
// needs one, and closes drained if it was the last of a drained pool.
func (p *Pool) exitLF() {
	p.dropWorkerLF()
	if p.readyLF() {
		p.kickLF()
	}
}

// dropWorkerLF uncounts a worker and closes drained when that was the
// last one of a drained pool.
func (p *Pool) dropWorkerLF() {
	if p.lf.workers.Add(-1) == 0 {
		p.closeLF()
	}
}

// closeLF closes drained once Stop has begun, every task has ended and no
// worker is left; marking the worker count closed keeps any worker from
// starting after.
func (p *Pool) closeLF() {
	if p.drainedLF() && p.lf.workers.CompareAndSwap(0, lfClosed) {
		close(p.drained)
	}
}

// nudgeAllLF makes every idle worker exit: Stop has begun and no task is
// left. Workers still running exit when they look for their next task.
func (p *Pool) nudgeAllLF() {
	p.lf.idleMu.Lock()
	for len(p.idle) > 0 {
		p.popIdle().signal(true)
		p.lf.workers.Add(-1)
	}
	p.lf.idleMu.Unlock()
	p.closeLF()
}

// armReaperLF is armReaper for the lock-free core. lf.idleMu held.
func (p *Pool) armReaperLF() {
	if p.reaping || p.lf.workers.Load() <= int64(p.minW) || p.stoppedLF() {
		return
	}
	p.reaping = true
	if p.reaper == nil {
		p.reaper = time.AfterFunc(p.cfg.idleTimeout, p.reapLF)
	} else {
		p.reaper.Reset(p.cfg.idleTimeout)
	}
}

// reapLF is reap for the lock-free core.
func (p *Pool) reapLF() {
	p.lf.idleMu.Lock()
	defer p.lf.idleMu.Unlock()
	p.reaping = false
	if p.stoppedLF() {
		return
	}
	now, limit := nanotime(), int64(p.cfg.idleTimeout)
	n := 0
	for n < len(p.idle) && p.lf.workers.Load() > int64(p.minW) && now-p.idle[n].idleSince >= limit {
		p.lf.workers.Add(-1)
		p.idle[n].signal(true)
		n++
	}
	p.idle = slices.Delete(p.idle, 0, n)
	p.lf.nidle.Store(int32(len(p.idle)))
	if len(p.idle) > 0 && p.lf.workers.Load() > int64(p.minW) {
		p.reaping = true
		p.reaper.Reset(time.Duration(p.idle[0].idleSince + limit - now))
	}
}

// resizeLF is Resize for the lock-free core. p.mu held.
func (p *Pool) resizeLF(minWorkers, maxWorkers int) error {
	if p.stoppedLF() {
		return ErrStopped
	}
	p.lf.idleMu.Lock()
	p.minW, p.ceilW = minWorkers, maxWorkers
	p.lf.maxW.Store(int64(maxWorkers))
	p.lf.capacity.Store(int64(p.cfg.queueSize + maxWorkers))
	for p.lf.workers.Load() > int64(maxWorkers) && len(p.idle) > 0 {
		p.popIdle().signal(true)
		p.lf.workers.Add(-1)
	}
	p.lf.idleMu.Unlock()
	for p.lf.workers.Load() < int64(minWorkers) {
		p.lf.wakes.Add(1)
		if !p.spawnLF() {
			p.lf.wakes.Add(-1)
			break
		}
	}
	p.lf.idleMu.Lock()
	if len(p.idle) > 0 {
		p.armReaperLF() // a lower minimum may let idle workers retire
	}
	p.lf.idleMu.Unlock()
	if p.readyLF() {
		p.kickLF() // queued work gets new workers up to the new maximum
	}
	p.placeWaitersLF() // a higher maximum is room
	return nil
}

// beginStopLF is the start of Stop in the lock-free core: no task is
// admitted from now on, blocked submitters get ErrStopped, and if no task
// is left the idle workers exit.
func (p *Pool) beginStopLF() {
	for {
		v := p.lf.inflight.Load()
		if v&lfStopped != 0 {
			return // stopping already
		}
		if p.lf.inflight.CompareAndSwap(v, v|lfStopped) {
			break
		}
	}
	unregister(p)
	p.lf.idleMu.Lock()
	if p.reaper != nil {
		p.reaper.Stop()
	}
	p.lf.idleMu.Unlock()
	p.mu.Lock()
	for _, w := range p.waitq { // blocked submitters see ErrStopped
		w.done <- ErrStopped
	}
	clear(p.waitq)
	p.waitq = p.waitq[:0]
	p.lf.waiters.Store(0)
	p.mu.Unlock()
	if p.drainedLF() {
		p.nudgeAllLF()
	}
}

// dropLF empties the rings, returning what was in them, and how many
// tasks are running.
func (p *Pool) dropLF() (dropped []*taskRec, running int) {
	for lv := range p.lf.queues {
		for {
			r := new(taskRec)
			if !p.lf.queues[lv].pop(r) {
				break
			}
			dropped = append(dropped, r)
		}
	}
	return dropped, p.runningLF()
}

// runningLF returns how many workers run a task.
func (p *Pool) runningLF() int {
	n := int64(0)
	for i := range p.shards {
		n += p.shards[i].running.Load()
	}
	return int(n)
}

// gaugesLF fills in the gauges of Stats for the lock-free core. They are
// read one by one, like the counters, so a snapshot taken while tasks move
// may not add up (see the package documentation).
func (p *Pool) gaugesLF(s *Stats) {
	maxW := int(p.lf.maxW.Load())
	s.Limit = maxW
	s.Submitted = p.submitted.Load()
	s.Workers = int(p.lf.workers.Load() &^ lfClosed)
	s.Idle = int(p.lf.nidle.Load())
	s.Running = p.runningLF()
	spare := s.Idle + int(p.lf.wakes.Load()) + max(maxW-s.Workers, 0)
	s.Queued = max(p.readyCountLF()-spare, 0)
	s.Stopped = p.stoppedLF()
	s.Keys = p.lf.keys.busiest()
}
