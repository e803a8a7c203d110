package pool

import "time"

// ShedOptions configures WithShedding. The zero value of each field is its
// default.
type ShedOptions struct {
	// Target is the longest a task should wait in the queue (default
	// 20 ms): set it to the wait a caller can afford on top of the run
	// time. New panics if it is negative.
	Target time.Duration
	// Interval is how long every task must have waited more than Target
	// before the queue counts as standing (default 100 ms, as CoDel's).
	// New panics if it is negative.
	Interval time.Duration
	// MaxKeyShare bounds the share of the pool's tasks (queued, held back
	// or running) one non-empty Task.Key may hold while the queue stands
	// (default 0.5). 1 or more turns the bound off. New panics if it is
	// negative.
	MaxKeyShare float64
}

// WithShedding refuses, with ErrShed, the tasks that would wait longer
// than o.Target once the queue is standing: when every task that started
// during an interval had waited longer than the target, as CoDel decides
// for a network queue, so that a burst the workers will absorb is not
// refused but a queue that no longer drains is. Lower priorities are shed
// first, and while the queue stands a key that holds more than
// o.MaxKeyShare of the pool's tasks is refused, so that a burst from one
// tenant cannot starve the others. The package documentation
// ("Shedding") says how a task's wait is estimated. Every task is timed,
// which costs about two clock reads per task.
func WithShedding(o ShedOptions) Option {
	return func(c *config) { c.shed = &o }
}

// shedder is the state behind WithShedding. Its decisions are guarded by
// p.mu: made in Pool.tick, read at each submission.
type shedder struct {
	target   int64 // ns
	interval int64 // ns
	keyShare float64
	standing [numPriorities]bool // the queue of each priority level stands: shed what would wait beyond target
	rate     float64             // tasks ended per second, smoothed over intervals
}

// stands reports whether the queue of any priority stands.
func (s *shedder) stands() bool { return s.standing != [numPriorities]bool{} }

func newShedder(o ShedOptions) *shedder {
	s := &shedder{target: int64(o.Target), interval: int64(o.Interval), keyShare: o.MaxKeyShare}
	if s.target == 0 {
		s.target = int64(5 * time.Millisecond)
	}
	if s.interval == 0 {
		s.interval = int64(100 * time.Millisecond)
	}
	if s.keyShare == 0 {
		s.keyShare = 0.5
	}
	return s
}

// keyed reports whether the key share bound applies.
func (s *shedder) keyed() bool { return s.keyShare < 1 }

// shedUpdate decides from one tick's waits whether the queue of each
// priority stands. A level's queue starts standing when even the shortest
// wait of the tick at that level exceeded the target (as CoDel decides),
// or when tasks of that level are queued and none started in the tick
// (higher priorities took every worker). It stops standing only when even
// the longest wait fell below half the target and the tasks queued ahead
// at that level now would wait less than that: while shedding holds the
// wait near the target, admitted tasks still wait up to it, so the queue
// keeps standing until the demand falls. Each level needs its own
// decision: a worker takes higher priorities first, so High can flow
// while Low stands still, and the shortest wait over all levels would
// never show it. p.mu held.
func (p *Pool) shedUpdate(s *shedder, w *waits) {
	if w.span > 0 && w.ended > 0 {
		x := float64(w.ended) * 1e9 / float64(w.span)
		if s.rate == 0 {
			s.rate = x
		} else {
			s.rate += 0.5 * (x - s.rate)
		}
	}
	for lv := range numPriorities {
		switch {
		case w.n[lv] == 0:
			if p.queues[lv].len() > 0 && w.span >= s.target {
				s.standing[lv] = true
			}
		case w.min[lv] > s.target:
			s.standing[lv] = true
		case w.max[lv] < s.target/2 && (s.rate <= 0 || float64(p.ahead(lv))*1e9/s.rate < float64(s.target/2)):
			s.standing[lv] = false
		}
	}
}

// ahead returns how many ready tasks a task of level lv would wait for:
// those of its level and above, beyond the workers free to take them.
// p.mu held.
func (p *Pool) ahead(lv int) int {
	n := -p.spare()
	for ; lv < numPriorities; lv++ {
		n += p.queues[lv].len()
	}
	return max(n, 0)
}

// shedCheck returns why r must be shed, or 0. While the queue of r's
// priority stands, or while the key limit holds back tasks of r's key, r
// is shed when its key holds more than its share of the pool; while the
// queue of r's priority stands, r is also shed when the tasks it would
// wait for (those ready at its priority or above, beyond the workers free
// to take them) would take longer than the target at the rate tasks have
// been ending. p.mu held.
func (p *Pool) shedCheck(o *overload, r *taskRec) refusal {
	s := o.shed
	lv := r.prio.level()
	// A key whose tasks the key limit holds back has a standing queue of
	// its own, whatever the others' waits.
	backlog := r.key != "" && p.parked[r.key] != nil
	if !s.standing[lv] && !backlog {
		return 0
	}
	if s.keyed() && r.key != "" {
		o.mu.Lock()
		n := o.counts[r.key]
		o.mu.Unlock()
		if n > 0 && float64(n+1) > s.keyShare*float64(p.queued+p.running+1) {
			return refShedKey
		}
	}
	if n := p.ahead(lv); n > 0 && s.standing[lv] && s.rate > 0 && float64(n+1)*1e9/s.rate > float64(s.target) {
		return refShedWait
	}
	return 0
}

// countKey adds d to the number of key's tasks in the pool, which the key
// share bound needs, and reports whether it counted: only a non-empty key
// under a shedder with the bound on. A task is counted from its admission
// to its end.
func (o *overload) countKey(key string, d int) bool {
	if key == "" || o.shed == nil || !o.shed.keyed() {
		return false
	}
	o.mu.Lock()
	if n := o.counts[key] + d; n > 0 {
		if o.counts == nil {
			o.counts = make(map[string]int)
		}
		o.counts[key] = n
	} else {
		delete(o.counts, key)
	}
	o.mu.Unlock()
	return true
}
