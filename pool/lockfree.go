package pool

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
)

// lockFree is the state of the pool's lock-free core, which every pool
// without a key limit, an adaptive limit or shedding uses (those need
// decisions over the whole queue, and keep the pool's lock). A submission
// and a task end each cost a few atomic operations and no lock:
//
//   - Admission is a counting semaphore: inflight counts accepted tasks
//     not yet ended, and a task is accepted while it is below capacity,
//     the queue size plus the maximum of workers. This is the bound of
//     the locked core (a task waits only beyond the workers that can take
//     it at once), counted the other way round.
//   - The ready tasks are in one lock-free ring per priority (see ring);
//     a worker takes from the highest priority that has one.
//   - Workers that find nothing spin (at most one at a time), then park
//     on the idle stack, guarded by idleMu, which only workers going idle
//     and wake-ups take. The wake-up rule is the locked core's: a
//     submission wakes the most recently idle worker (or starts one) only
//     when no worker is already on its way, and a worker that takes a
//     task and sees more brings in the next.
//   - Blocked submitters wait on the pool's lock (mu) and waitq as in the
//     locked core; a task end looks at waiters (one atomic load) and takes
//     the lock only when someone is blocked.
//
// Each handover between a submitter and a worker is a store followed by a
// load on each side (a task put in the ring, then the idle stack looked
// at; a worker put on the idle stack, then the ring looked at), so that at
// least one side sees the other and no task is left with an idle worker.
type lockFree struct {
	// Written by every submission and every task end.
	inflight atomic.Int64 // accepted tasks not yet ended; lfStopped once Stop began
	_        cacheLinePad

	// Read by every submission and task end, written rarely.
	capacity atomic.Int64 // queue size plus the maximum of workers
	maxW     atomic.Int64 // the maximum of workers in force
	workers  atomic.Int64 // live worker goroutines; lfClosed once the pool drained
	wakes    atomic.Int32 // workers woken, started or spinning that have not yet looked for work
	spinning atomic.Int32 // workers spinning for work (at most one)
	nidle    atomic.Int32 // len(Pool.idle)
	waiters  atomic.Int32 // len(Pool.waitq)
	_        cacheLinePad

	queues [numPriorities]ring
	keys   keyCounts
	idleMu sync.Mutex // guards Pool.idle, the reaper and the worker bounds; taken after Pool.mu, never before
}

// lfStopped marks lockFree.inflight once Stop has begun: no task is
// admitted after it, and the pool has drained once no task is left.
const lfStopped = 1 << 62

// lfClosed marks lockFree.workers once the last worker of a stopped pool
// has exited: no worker starts after it.
const lfClosed = 1 << 62

// Results of acquire.
const (
	acqOK = iota
	acqFull
	acqStopped
)

// acquire admits one task if there is room.
func (p *Pool) acquire() int {
	for {
		v := p.lf.inflight.Load()
		switch {
		case v&lfStopped != 0:
			return acqStopped
		case v >= p.lf.capacity.Load():
			return acqFull
		case p.lf.inflight.CompareAndSwap(v, v+1):
			return acqOK
		}
	}
}

// stoppedLF reports whether Stop has begun.
func (p *Pool) stoppedLF() bool { return p.lf.inflight.Load()&lfStopped != 0 }

// submitLF is submit for the lock-free core. The record is built on the
// stack and copied into the ring, so that a refused submission costs
// nothing more.
func (p *Pool) submitLF(ctx context.Context, t Task, done completer) error {
	r := taskRec{fn: t.Fn, ctx: ctx, done: done, key: t.Key, label: t.Label, prio: t.Priority, timeout: int64(t.Timeout), timed: p.observed}
	if err := p.acceptLF(ctx, &r); err != nil {
		return p.refuse(refusalOf(err), err)
	}
	return nil
}

// acceptLF admits r and queues it, blocking for room unless the pool
// fails fast, or returns why it did not: ErrOverloaded, ErrStopped or
// ctx.Err(). The caller counts the refusal.
func (p *Pool) acceptLF(ctx context.Context, r *taskRec) error {
	switch p.acquire() {
	case acqOK:
		p.queueLF(r)
		return nil
	case acqStopped:
		return ErrStopped
	}
	if p.cfg.failFast {
		return ErrOverloaded
	}
	return p.blockedLF(ctx, r)
}

// queueLF counts an admitted task as submitted, samples it for the
// histograms, puts it in its priority's ring and makes sure a worker is on
// its way.
func (p *Pool) queueLF(r *taskRec) {
	n := p.submitted.Add(1)
	if !r.timed && p.sampleN > 0 && (p.sampleMask != 0 && n&p.sampleMask == 0 || p.sampleMask == 0 && n%uint64(p.sampleN) == 0) {
		r.timed = true
	}
	if r.timed {
		r.submitted = nanotime()
	}
	p.lf.queues[r.prio.level()].push(r, int(p.lf.capacity.Load()))
	p.kickLF()
}

// readyLF reports whether a task can be taken now.
func (p *Pool) readyLF() bool {
	return p.lf.queues[1].readable() || p.lf.queues[2].readable() || p.lf.queues[0].readable()
}

// readyCountLF returns how many tasks the rings hold.
func (p *Pool) readyCountLF() int {
	n := 0
	for i := range p.lf.queues {
		n += p.lf.queues[i].len()
	}
	return n
}

// kickLF makes sure a worker is on its way to the rings: it wakes the most
// recently idle worker, or starts one under the maximum, unless a worker
// is already waking or spinning, or every worker is busy and none may
// start (a busy worker takes the task when it finishes its own).
func (p *Pool) kickLF() {
	if p.lf.wakes.Load() != 0 || p.lf.nidle.Load() == 0 && p.lf.workers.Load() >= p.lf.maxW.Load() {
		return
	}
	if !p.lf.wakes.CompareAndSwap(0, 1) {
		return
	}
	dbgKicks.Add(1)
	if p.lf.nidle.Load() > 0 {
		p.lf.idleMu.Lock()
		if w := p.popIdle(); w != nil {
			p.lf.idleMu.Unlock()
			dbgWakeups.Add(1)
			w.signal(false)
			return
		}
		p.lf.idleMu.Unlock()
	}
	if !p.spawnLF() {
		p.lf.wakes.Add(-1)
	}
}

// popIdle removes and returns the most recently idle worker, or nil.
// lf.idleMu held.
func (p *Pool) popIdle() *worker {
	n := len(p.idle)
	if n == 0 {
		return nil
	}
	w := p.idle[n-1]
	p.idle[n-1] = nil
	p.idle = p.idle[:n-1]
	p.lf.nidle.Store(int32(n - 1))
	return w
}

// spawnLF starts a worker if the maximum allows; the caller has counted
// it in lf.wakes.
func (p *Pool) spawnLF() bool {
	for {
		n := p.lf.workers.Load()
		if n >= p.lf.maxW.Load() { // lfClosed is above any maximum
			return false
		}
		if p.lf.workers.CompareAndSwap(n, n+1) {
			go p.workLF()
			return true
		}
	}
}

// blockedLF handles a submission that found no room: it retries a few
// times, yielding, unless others are already blocked, then waits in waitq
// until signalRoomLF places its task, the pool stops or ctx ends.
func (p *Pool) blockedLF(ctx context.Context, r *taskRec) error {
	for range spinRounds / 2 {
		if p.lf.waiters.Load() > 0 {
			break
		}
		runtime.Gosched()
		switch p.acquire() {
		case acqOK:
			p.queueLF(r)
			return nil
		case acqStopped:
			return ErrStopped
		}
	}
	dbgBlocks.Add(1)
	p.mu.Lock()
	if p.stoppedLF() {
		p.mu.Unlock()
		return ErrStopped
	}
	return p.waitRoom(ctx, r) // unlocks p.mu
}

// signalRoomLF places the tasks of blocked submitters that fit now and
// wakes them, following the locked core's rule: while the workers still
// have ready tasks, only once half the queue is free, so that a submitter
// feeding a saturated pool wakes once per burst; without ready tasks, any
// room counts. It is called where room may have appeared: a task end, a
// worker that finds nothing to take.
func (p *Pool) signalRoomLF() {
	if p.lf.waiters.Load() == 0 {
		return
	}
	if p.readyLF() && p.lf.capacity.Load()-p.lf.inflight.Load() < int64(max(p.cfg.queueSize/2, 1)) {
		return
	}
	p.mu.Lock()
	p.placeWaitersLF()
	p.mu.Unlock()
}

// placeWaitersLF places every blocked submitter's task that fits, oldest
// first, and wakes those submitters. p.mu held.
func (p *Pool) placeWaitersLF() {
	n := 0
	for _, w := range p.waitq {
		if p.acquire() != acqOK {
			break
		}
		p.queueLF(&w.r)
		w.done <- nil
		n++
	}
	if n > 0 {
		p.waitq = append(p.waitq[:0], p.waitq[n:]...)
		clear(p.waitq[len(p.waitq) : len(p.waitq)+n])
		p.lf.waiters.Store(int32(len(p.waitq)))
	}
}
