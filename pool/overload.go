package pool

import (
	"context"
	"errors"
	"sync"
	"time"
)

// ErrRateLimited is returned by Submit and Go when a token bucket
// (WithRateLimit, WithKeyRateLimit) has no token for the task: at once
// under WithFailFast, otherwise when the token would come only after the
// submitter's ctx deadline.
var ErrRateLimited = errors.New("pool: rate limited")

// ErrBreakerOpen is returned by Submit and Go while the breaker that covers
// the task (the pool's, or its key's under BreakerOptions.PerKey) is open,
// or half-open with all its probes taken.
var ErrBreakerOpen = errors.New("pool: breaker open")

// ErrShed is returned by Submit and Go when shedding (WithShedding) refuses
// a task: the queue is standing and the task would wait longer than the
// target, or its key holds more than its share of the pool. It wraps
// ErrOverloaded, so errors.Is(err, ErrOverloaded) holds for a shed task as
// for a full queue.
var ErrShed error = &wrapped{msg: "pool: overloaded: shed", err: ErrOverloaded}

// wrapped is a sentinel error that wraps another sentinel.
type wrapped struct {
	msg string
	err error
}

func (e *wrapped) Error() string { return e.msg }
func (e *wrapped) Unwrap() error { return e.err }

// Refusals counts refused submissions by reason. Its fields add up to
// Stats.Rejected. The zero value counts nothing.
type Refusals struct {
	QueueFull   uint64 `json:"queueFull"`   // ErrOverloaded: the queue was full under WithFailFast
	Stopped     uint64 `json:"stopped"`     // ErrStopped
	Canceled    uint64 `json:"canceled"`    // the submitter's ctx ended before the task was accepted
	RateLimited uint64 `json:"rateLimited"` // ErrRateLimited
	ShedWait    uint64 `json:"shedWait"`    // ErrShed: it would have waited longer than the target in a standing queue
	ShedKey     uint64 `json:"shedKey"`     // ErrShed: its key held more than its share of the pool while the queue stood
	BreakerOpen uint64 `json:"breakerOpen"` // ErrBreakerOpen
}

// refusal indexes Pool.refused.
type refusal uint8

const (
	refQueueFull refusal = iota
	refStopped
	refCanceled
	refRate
	refShedWait
	refShedKey
	refBreaker
	numRefusals
)

// refuse counts a refused submission and returns err.
func (p *Pool) refuse(why refusal, err error) error {
	p.refused[why].Add(1)
	return err
}

// refusalOf names the reason for a refusal error of submit's own paths
// (queue full, stopped, ctx ended).
func refusalOf(err error) refusal {
	switch err {
	case ErrOverloaded:
		return refQueueFull
	case ErrStopped:
		return refStopped
	}
	return refCanceled
}

func (p *Pool) refusals() Refusals {
	return Refusals{
		QueueFull:   p.refused[refQueueFull].Load(),
		Stopped:     p.refused[refStopped].Load(),
		Canceled:    p.refused[refCanceled].Load(),
		RateLimited: p.refused[refRate].Load(),
		ShedWait:    p.refused[refShedWait].Load(),
		ShedKey:     p.refused[refShedKey].Load(),
		BreakerOpen: p.refused[refBreaker].Load(),
	}
}

// NumRefusalReasons is the number of refusal reasons: the fields of
// Refusals.
const NumRefusalReasons = 7

// ReasonCount is one refusal reason's name and count.
type ReasonCount struct {
	Reason string // queue_full, stopped, canceled, rate_limited, shed_wait, shed_key or breaker_open
	Count  uint64
}

// ByReason returns each reason's name, as exporters label it, and count,
// in the order of the Refusals fields.
func (r Refusals) ByReason() [NumRefusalReasons]ReasonCount {
	return [...]ReasonCount{
		{"queue_full", r.QueueFull}, {"stopped", r.Stopped}, {"canceled", r.Canceled},
		{"rate_limited", r.RateLimited}, {"shed_wait", r.ShedWait}, {"shed_key", r.ShedKey},
		{"breaker_open", r.BreakerOpen},
	}
}

// Refusing reports, in the order of ByReason, the reasons a pool with
// these statistics can refuse for: a full queue, Stop and a submitter
// giving up, always; the others when the pool uses the control behind
// them. Exporters keep a series at zero for each, so that a graph of them
// shows a flat line rather than nothing.
func (s *Stats) Refusing() [NumRefusalReasons]bool {
	rate := s.Rate.PerSecond > 0 || s.KeyRate.PerSecond > 0
	shed := s.ShedTarget > 0
	return [...]bool{true, true, true, rate, shed, shed, s.Breakers != nil}
}

// Sum returns the number of refusals of every reason.
func (r Refusals) Sum() uint64 {
	return r.QueueFull + r.Stopped + r.Canceled + r.RateLimited + r.ShedWait + r.ShedKey + r.BreakerOpen
}

// overload holds a pool's overload controls: rate limits, the adaptive
// limit, shedding and breakers. A pool without any has none (Pool.ov is
// nil), so the controls cost such a pool one nil check on submission and
// nothing per task. Rate limits can be added at run time (SetRate,
// SetKeyRate); the other controls are set by New and never change, so
// reading the pointers to them needs no lock.
//
// Locks: mu guards the rate buckets, the breakers and the measurements the
// adaptive limit and shedding collect per task; the pool's decisions from
// them (the limit, whether the queue stands) are made and read under p.mu.
// A goroutine holding p.mu may take mu, never the reverse.
type overload struct {
	adaptive *adaptive // nil unless WithAdaptiveLimit
	shed     *shedder  // nil unless WithShedding
	brk      *breakers // nil unless WithBreaker

	mu      sync.Mutex
	rate    *bucket            // the pool's bucket; nil for none
	keyRate Rate               // the bucket each key starts with; zero for none
	keys    map[string]*bucket // per-key buckets, while keyRate is set
	counts  map[string]int     // tasks in the pool per key, for shedding's key share bound
	meter   meter              // what tasks that ended since the last tick measured
}

// timed reports whether the controls need every task timed and ended
// through the pool's full path (runFull), which reports each task's end to
// them. Rate limits alone need neither.
func (o *overload) timed() bool { return o.adaptive != nil || o.shed != nil || o.brk != nil }

// newOverload returns the controls cfg asks for, or nil for none.
func newOverload(cfg *config) *overload {
	if cfg.rate == (Rate{}) && cfg.keyRate == (Rate{}) && cfg.adaptive == nil && cfg.shed == nil && cfg.breaker == nil {
		return nil
	}
	o := &overload{keyRate: cfg.keyRate}
	if cfg.rate != (Rate{}) {
		o.rate = newBucket(cfg.rate, nanotime())
	}
	if cfg.keyRate != (Rate{}) {
		o.keys = make(map[string]*bucket)
	}
	if cfg.adaptive != nil {
		o.adaptive = newAdaptive(*cfg.adaptive, cfg.maxWorkers)
		o.meter.need = o.adaptive.samples()
	}
	if cfg.shed != nil {
		o.shed = newShedder(*cfg.shed)
	}
	if cfg.breaker != nil {
		o.brk = newBreakers(*cfg.breaker)
	}
	o.meter.interval = o.tickInterval()
	return o
}

// ticket is what admission reserved for a task before the pool accepted
// it, to give back if the pool then refuses it.
type ticket struct {
	tokens [2]*bucket // buckets a token was taken from: the pool's, the key's
	probe  bool       // a half-open breaker probe
	brk    *breaker   // the breaker that admitted the task, or nil
}

// admit applies the rate limits and the breaker to a submission before the
// pool's lock is taken: it returns the refusal, or what it reserved. Under
// a blocking pool it waits for a token, at most until ctx ends.
func (p *Pool) admit(ctx context.Context, o *overload, key string) (ticket, refusal, error) {
	var tk ticket
	if o.brk != nil {
		b, probe, ok := o.brk.admit(key, nanotime())
		if !ok {
			return tk, refBreaker, ErrBreakerOpen
		}
		tk.brk, tk.probe = b, probe
	}
	if why, err := p.waitToken(ctx, o, key, &tk); err != nil {
		o.release(&tk)
		return tk, why, err
	}
	return tk, 0, nil
}

// release gives back what admission reserved for a task the pool did not
// accept: its tokens and its probe.
func (o *overload) release(tk *ticket) {
	if tk.tokens != [2]*bucket{} {
		o.refund(&tk.tokens)
	}
	if tk.brk != nil && tk.probe {
		o.brk.unprobe(tk.brk)
	}
	*tk = ticket{}
}

// controlled is submit for a pool with overload controls: admission (rate
// limits, breaker) first, then the shedding check and the key's share under
// the lock, then submit's usual placement. It is kept out of line so that
// a pool without controls pays only the nil check that leads here.
//
//go:noinline
func (p *Pool) controlled(ctx context.Context, o *overload, t Task, done completer) error {
	tk, why, err := p.admit(ctx, o, t.Key)
	if err != nil {
		return p.refuse(why, err)
	}
	r := &taskRec{fn: t.Fn, ctx: ctx, done: done, key: t.Key, label: t.Label, prio: t.Priority, timeout: int64(t.Timeout), probe: tk.probe}
	if p.observed {
		r.timed, r.submitted = true, nanotime()
	}
	p.mu.Lock()
	if o.shed != nil && !p.stopped {
		// Tasks starting and ending drive the ticks; when none does (the
		// queue stands still, or everything is shed), submissions do, so
		// that shedding always gets to see the queue drain.
		o.mu.Lock()
		t, due := o.meter.due(nanotime())
		o.mu.Unlock()
		if due {
			p.tickLocked(o, &t)
		}
		if why := p.shedCheck(o, r); why != 0 {
			p.mu.Unlock()
			o.release(&tk)
			return p.refuse(why, ErrShed)
		}
	}
	counted := o.countKey(r.key, 1)
	p.sample(r)
	if p.place(r) {
		p.mu.Unlock()
	} else if err = p.blocked(ctx, r); err != nil { // unlocks p.mu
		if counted {
			o.countKey(r.key, -1)
		}
		o.release(&tk)
		return p.refuse(refusalOf(err), err)
	}
	return nil
}

// started reports to the controls that r starts at now, after waiting
// since its submission. Only shedding needs it. It is called on the worker
// without p.mu.
func (p *Pool) started(o *overload, r *taskRec, now int64) {
	if o.shed == nil {
		return
	}
	o.mu.Lock()
	t, due := o.meter.waited(r.prio.level(), now-r.submitted, now)
	o.mu.Unlock()
	if due {
		p.tick(o, &t)
	}
}

// ended reports a task's end to the controls: when it started (0 if it
// never ran) and ended, its outcome, and whether its run was cut short (its
// context ended first, or it never really ran), so that its run time says
// nothing of how long the work takes. A task that never ran waited until
// end. It is called on the worker after the task's outcome is known,
// without p.mu; once per tick it takes p.mu to move the adaptive limit and
// the shedding state.
func (p *Pool) ended(o *overload, r *taskRec, start, end int64, outcome Outcome, err error, cut bool) {
	if o.brk != nil {
		o.brk.record(r.key, r.probe, outcome, err, end)
	}
	o.countKey(r.key, -1)
	if o.adaptive == nil && o.shed == nil {
		return
	}
	var t tick
	var due bool
	o.mu.Lock()
	if outcome == Canceled {
		if o.shed != nil && r.submitted != 0 {
			t, due = o.meter.waited(r.prio.level(), end-r.submitted, end)
		}
	} else {
		t, due = o.meter.ran(cut, start, end)
	}
	o.mu.Unlock()
	if due {
		p.tick(o, &t)
	}
}

// tick applies what one interval measured: shedding decides whether the
// queue stands, and the adaptive limit moves when it has enough run times.
// p.mu is taken here.
func (p *Pool) tick(o *overload, t *tick) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.tickLocked(o, t)
}

// tickLocked is tick with p.mu held.
func (p *Pool) tickLocked(o *overload, t *tick) {
	if p.stopped {
		return
	}
	if a := o.adaptive; a != nil && t.ready {
		m := &t.m
		// The limit binds when tasks wait for a worker it withholds, or
		// every worker it allows is busy, or shedding finds the queue
		// standing (the wait is then short because shedding refuses).
		binding := p.waiting() > 0 || p.running >= p.maxW || o.shed != nil && o.shed.stands()
		n := a.update(m, binding, p.ceilW)
		if n != p.maxW {
			p.setLimit(n)
		}
		o.mu.Lock()
		o.meter.need = a.samples()
		o.mu.Unlock()
	}
	if s := o.shed; s != nil {
		p.shedUpdate(s, &t.waits)
	}
}

// statsLocked fills in what Stats reports of the controls' decisions.
// p.mu held.
func (o *overload) statsLocked(s *Stats) {
	s.Adaptive = o.adaptive != nil
	if sh := o.shed; sh != nil {
		s.ShedTarget = time.Duration(sh.target)
		s.Shedding = sh.stands()
	}
}

// stats fills in the rest of what Stats reports of the controls. p.mu not
// held.
func (o *overload) stats(s *Stats) {
	o.mu.Lock()
	if o.rate != nil {
		s.Rate = o.rate.Rate
	}
	s.KeyRate = o.keyRate
	o.mu.Unlock()
	if o.brk != nil {
		s.Breakers = o.brk.stats(nanotime())
		s.BreakerOpens = o.brk.opens.Load()
	}
}
