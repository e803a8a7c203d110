package pool

import (
	"runtime"
	"sync/atomic"
)

// ring is the ready queue of one priority in a pool without a key limit,
// adaptive limit or shedding: a lock-free, multi-producer multi-consumer
// FIFO of task records held by value, so that submitters and workers pass
// tasks without the pool's lock and without a record to allocate or
// recycle. A submitter copies its task into a slot; the worker that takes
// it copies it out and frees the slot.
//
// It is a list of segments, each a bounded ring in the manner of Dmitry
// Vyukov's bounded MPMC queue (a turn per slot says whose it is). A
// segment that is full is closed, and the producer that closed it links a
// segment twice as large (up to the size the pool's capacity needs); the
// consumers drain a closed segment and then move on, so the order of the
// tasks is kept across segments. The pool admits no more tasks than its
// capacity, so the last, largest segment never fills: a pool in its
// steady state uses one segment, and a queue costs memory only once it
// has held that many tasks.
type ring struct {
	head atomic.Pointer[segment] // consumers take from here
	_    cacheLinePad
	tail atomic.Pointer[segment] // producers put here
}

// segClosed marks a segment's enq position once it takes no more tasks.
const segClosed = 1 << 63

// firstSegment is the number of slots of a ring's first segment.
const firstSegment = 8

// slot holds one task record and its turn: 2·lap while it is free for the
// record of that lap of the ring, 2·lap+1 while it holds it. The zero turn
// makes a new segment's slots free for lap 0 without initialising them.
type slot struct {
	turn atomic.Uint64
	rec  taskRec
}

// segment is one bounded ring of a ring's list.
type segment struct {
	enq   atomic.Uint64 // the next position to fill; segClosed once closed
	_     cacheLinePad
	deq   atomic.Uint64 // the next position to take
	_     cacheLinePad
	next  atomic.Pointer[segment]
	shift uint // log2(len(slots))
	slots []slot
}

func newSegment(size int) *segment {
	shift := uint(0)
	for 1<<shift < size {
		shift++
	}
	return &segment{shift: shift, slots: make([]slot, 1<<shift)}
}

// push copies r into the segment, or reports false when the segment is
// closed (and closes it if it is full).
func (s *segment) push(r *taskRec) bool {
	n := uint64(len(s.slots))
	for spins := 0; ; spins++ {
		e := s.enq.Load()
		if e&segClosed != 0 {
			return false
		}
		sl := &s.slots[e&(n-1)]
		free := e >> s.shift << 1
		switch t := sl.turn.Load(); {
		case t == free:
			if s.enq.CompareAndSwap(e, e+1) {
				sl.rec = *r
				sl.turn.Store(free + 1)
				return true
			}
		case t < free:
			// The slot still holds the previous lap's task: the segment is
			// full, unless a consumer has claimed that task and is copying
			// it out, which takes nanoseconds.
			if s.deq.Load() > e-n {
				if spins > 16 {
					runtime.Gosched()
				}
				continue
			}
			if s.enq.CompareAndSwap(e, e|segClosed) {
				return false
			}
		}
		// t > free: another producer filled the slot first; look again.
	}
}

// pop copies the oldest task into out and frees its slot, or reports false
// when there is none to take now: the segment is empty, or the producer of
// its oldest task is still copying it in (and will wake a worker after).
func (s *segment) pop(out *taskRec) bool {
	mask := uint64(len(s.slots) - 1)
	for {
		d := s.deq.Load()
		sl := &s.slots[d&mask]
		full := d>>s.shift<<1 + 1
		switch t := sl.turn.Load(); {
		case t == full:
			if s.deq.CompareAndSwap(d, d+1) {
				*out = sl.rec
				sl.rec = taskRec{} // drop the task's references now, not when the slot is reused
				sl.turn.Store(full + 1)
				return true
			}
		case t < full:
			return false
		}
		// t > full: another consumer took it first; look again.
	}
}

// readable reports whether the segment's oldest task can be taken now.
func (s *segment) readable() bool {
	d := s.deq.Load()
	return s.slots[d&uint64(len(s.slots)-1)].turn.Load() == d>>s.shift<<1+1
}

// drained reports whether the segment is closed and every task put in it
// has been taken, so that consumers may move on to the next.
func (s *segment) drained() bool {
	e := s.enq.Load()
	return e&segClosed != 0 && s.deq.Load() == e&^segClosed
}

// len returns how many tasks the segment holds or is being given.
func (s *segment) len() int {
	d := s.deq.Load()
	return int(max(int64(s.enq.Load()&^segClosed)-int64(d), 0))
}

// push appends a copy of r. limit is the most tasks the pool may hold
// (its capacity): a new segment is at most the power of two at or above
// it, or as large as the one it follows.
func (q *ring) push(r *taskRec, limit int) {
	for {
		s := q.tail.Load()
		if s == nil {
			q.init()
			continue
		}
		if s.push(r) {
			return
		}
		n := s.next.Load()
		if n == nil {
			n = newSegment(max(min(2*len(s.slots), limit), len(s.slots)))
			if !s.next.CompareAndSwap(nil, n) {
				n = s.next.Load()
			}
		}
		q.tail.CompareAndSwap(s, n)
	}
}

// init gives an empty ring its first segment.
func (q *ring) init() {
	s := newSegment(firstSegment)
	if q.head.CompareAndSwap(nil, s) {
		q.tail.Store(s)
		return
	}
	for q.tail.Load() == nil { // another goroutine is initialising it
		runtime.Gosched()
	}
}

// pop removes the oldest task into out, or reports false when there is
// none to take now.
func (q *ring) pop(out *taskRec) bool {
	for {
		s := q.head.Load()
		if s == nil {
			return false
		}
		if s.pop(out) {
			return true
		}
		if !s.drained() {
			return false
		}
		n := s.next.Load()
		if n == nil {
			return false // its closer is linking the next one, then pushes
		}
		q.head.CompareAndSwap(s, n)
	}
}

// readable reports whether a task can be taken now.
func (q *ring) readable() bool {
	for s := q.head.Load(); s != nil; s = s.next.Load() {
		if s.readable() {
			return true
		}
		if s.enq.Load()&segClosed == 0 {
			return false
		}
	}
	return false
}

// len returns how many tasks the ring holds, counting those being put in;
// under concurrent use it is a moment's estimate.
func (q *ring) len() int {
	n := 0
	for s := q.head.Load(); s != nil; s = s.next.Load() {
		n += s.len()
	}
	return n
}
