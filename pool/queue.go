package pool

import "context"

// completer is told how a task ended; groups and futures implement it.
type completer interface {
	complete(err error)
}

// taskRec is the pool's record of an accepted task. Records are recycled
// on the pool's free list (newRec, freeRec), so that submitting allocates
// nothing.
type taskRec struct {
	fn        func(context.Context) error
	ctx       context.Context
	done      completer
	key       string
	run       *int // the key's running count in p.inflight, once started
	label     string
	timeout   int64 // nanoseconds
	submitted int64 // monotonic nanoseconds, when timed
	prio      Priority
	timed     bool // measure queue wait and run time
	probe     bool // admitted as a half-open breaker's probe
}

// newRec returns a recycled or new record holding a copy of v. p.mu held:
// the free list rides on the lock the hot path takes anyway, which is
// cheaper than a sync.Pool.
func (p *Pool) newRec(v *taskRec) *taskRec {
	r := popFree(&p.free)
	if r == nil {
		r = new(taskRec)
	}
	*r = *v
	return r
}

// popFree removes and returns the last element of a free list, or nil.
func popFree[T any](list *[]*T) *T {
	n := len(*list)
	if n == 0 {
		return nil
	}
	v := (*list)[n-1]
	(*list)[n-1] = nil
	*list = (*list)[:n-1]
	return v
}

// freeRec recycles r. p.mu held. The free list never holds more records
// than were in flight at once (queued plus running).
func (p *Pool) freeRec(r *taskRec) {
	*r = taskRec{}
	p.free = append(p.free, r)
}

// deque is a growable ring buffer of task records. Its length is a power
// of two so that indices wrap with a mask rather than a division.
type deque struct {
	buf  []*taskRec
	head int
	n    int
}

func (d *deque) len() int { return d.n }

func (d *deque) grow() {
	if d.n < len(d.buf) {
		return
	}
	nb := make([]*taskRec, max(8, 2*len(d.buf)))
	for i := 0; i < d.n; i++ {
		nb[i] = d.buf[(d.head+i)&(len(d.buf)-1)]
	}
	d.buf, d.head = nb, 0
}

func (d *deque) pushBack(r *taskRec) {
	d.grow()
	d.buf[(d.head+d.n)&(len(d.buf)-1)] = r
	d.n++
}

func (d *deque) pushFront(r *taskRec) {
	d.grow()
	d.head = (d.head - 1) & (len(d.buf) - 1)
	d.buf[d.head] = r
	d.n++
}

func (d *deque) popFront() *taskRec {
	if d.n == 0 {
		return nil
	}
	r := d.buf[d.head]
	d.buf[d.head] = nil
	d.head = (d.head + 1) & (len(d.buf) - 1)
	d.n--
	return r
}
