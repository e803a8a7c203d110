package pool

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// BreakerOptions configures WithBreaker. The zero value of each field is
// its default.
type BreakerOptions struct {
	// FailureRatio opens the breaker when at least this share of the
	// outcomes in the window are failures (default 0.5). New panics unless
	// it is between 0 and 1.
	FailureRatio float64
	// MinRequests is how many outcomes the window must hold before the
	// ratio counts (default 20), so that one early failure does not open
	// it. New panics if it is negative.
	MinRequests int
	// Window is how far back outcomes count (default 10 s, kept in ten
	// slices that expire one by one). New panics if it is negative.
	Window time.Duration
	// OpenFor is how long an open breaker refuses every task before it
	// lets probes through (default 5 s). New panics if it is negative.
	OpenFor time.Duration
	// Probes is how many tasks a half-open breaker admits (default 3). If
	// all of them succeed the breaker closes; the first failure opens it
	// again. New panics if it is negative.
	Probes int
	// PerKey gives each non-empty Task.Key a breaker of its own, so that a
	// failing tenant or endpoint is cut off alone; tasks without a key
	// share the pool's breaker. The pool keeps at most maxBreakerKeys keyed
	// breakers, forgetting closed ones with an empty window first.
	PerKey bool
	// IsFailure classifies a task's error (a *PanicError for a panic). The
	// default counts every error except context.Canceled, so that a caller
	// who gave up does not count against the work; a task's own deadline
	// (context.DeadlineExceeded) counts.
	IsFailure func(error) bool
}

// WithBreaker adds a circuit breaker: when the share of failed tasks in
// the window reaches o.FailureRatio, the breaker opens and submissions
// return ErrBreakerOpen for o.OpenFor; then it admits o.Probes tasks
// (half-open) and closes when they all succeed, or opens again at the
// first failure. A task that never ran (canceled in the queue) counts
// neither way. Stats.Breakers shows each breaker's state. Every task's end
// is reported to the breaker, through the pool's full task path.
func WithBreaker(o BreakerOptions) Option {
	return func(c *config) { c.breaker = &o }
}

// BreakerState is a breaker's state. The zero value is BreakerClosed. The
// states are numbered by severity, so that a gauge of them reads 0 closed,
// 1 half-open, 2 open.
type BreakerState uint8

// The states of a breaker.
const (
	BreakerClosed   BreakerState = iota // tasks pass; outcomes are counted
	BreakerHalfOpen                     // a few probes pass; the rest are refused
	BreakerOpen                         // tasks are refused
)

// String returns "closed", "open" or "half-open".
func (s BreakerState) String() string {
	switch s {
	case BreakerClosed:
		return "closed"
	case BreakerOpen:
		return "open"
	case BreakerHalfOpen:
		return "half-open"
	}
	return fmt.Sprintf("breakerstate(%d)", uint8(s))
}

// MarshalText encodes the state as its String, so that Stats marshals it
// by name.
func (s BreakerState) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText decodes a state's String.
func (s *BreakerState) UnmarshalText(b []byte) error {
	for v := BreakerClosed; v <= BreakerOpen; v++ {
		if v.String() == string(b) {
			*s = v
			return nil
		}
	}
	return fmt.Errorf("pool: unknown breaker state %q", b)
}

// BreakerStats is one breaker at the moment of a Stats call. The zero
// value is a closed breaker that has seen nothing.
type BreakerStats struct {
	Key      string       `json:"key"`      // the Task.Key it covers; "" for the pool's breaker
	State    BreakerState `json:"state"`    // by name on the wire: "closed", "half-open", "open"
	Opened   uint64       `json:"opened"`   // times it has opened
	Requests uint64       `json:"requests"` // outcomes in its window
	Failures uint64       `json:"failures"` // failures among them
}

// maxBreakerKeys bounds the keyed breakers a pool keeps.
const maxBreakerKeys = 1024

// breakerSlices is how many slices a breaker's window is kept in.
const breakerSlices = 10

// breakers holds a pool's breakers.
type breakers struct {
	ratio     float64
	minReq    int
	slice     int64 // ns per window slice
	openFor   int64 // ns
	probes    int
	perKey    bool
	isFailure func(error) bool

	opens atomic.Uint64 // times any of them opened

	mu   sync.Mutex
	pool breaker
	keys map[string]*breaker
}

// breaker is one breaker's state, guarded by breakers.mu.
type breaker struct {
	state     BreakerState
	ok, fail  [breakerSlices]uint32
	at        int64 // index of the current slice (now / slice)
	openUntil int64
	inflight  int // probes admitted and not yet ended
	passed    int // probes that succeeded since it went half-open
	opened    uint64
}

func newBreakers(o BreakerOptions) *breakers {
	b := &breakers{
		ratio: o.FailureRatio, minReq: o.MinRequests, slice: int64(o.Window) / breakerSlices,
		openFor: int64(o.OpenFor), probes: o.Probes, perKey: o.PerKey, isFailure: o.IsFailure,
	}
	if b.ratio == 0 {
		b.ratio = 0.5
	}
	if b.minReq == 0 {
		b.minReq = 20
	}
	if b.slice == 0 {
		b.slice = int64(10*time.Second) / breakerSlices
	}
	if b.openFor == 0 {
		b.openFor = int64(5 * time.Second)
	}
	if b.probes == 0 {
		b.probes = 3
	}
	if b.isFailure == nil {
		b.isFailure = func(err error) bool { return err != nil && !errors.Is(err, context.Canceled) }
	}
	if b.perKey {
		b.keys = make(map[string]*breaker)
	}
	return b
}

// of returns the breaker that covers key, adding it if add; nil if there
// is none. b.mu held.
func (b *breakers) of(key string, add bool, now int64) *breaker {
	if !b.perKey || key == "" {
		return &b.pool
	}
	if k := b.keys[key]; k != nil || !add {
		return k
	}
	if len(b.keys) >= maxBreakerKeys {
		for key, k := range b.keys {
			if k.state == BreakerClosed && k.inflight == 0 {
				if k.advance(now, b.slice); k.total() == 0 {
					delete(b.keys, key)
				}
			}
		}
	}
	k := &breaker{}
	b.keys[key] = k
	return k
}

// admit decides whether a task with key may be submitted, and whether it
// is a half-open probe.
func (b *breakers) admit(key string, now int64) (k *breaker, probe, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	k = b.of(key, true, now)
	switch k.state {
	case BreakerOpen:
		if now < k.openUntil {
			return k, false, false
		}
		k.state, k.inflight, k.passed = BreakerHalfOpen, 0, 0
		fallthrough
	case BreakerHalfOpen:
		if k.inflight+k.passed >= b.probes {
			return k, false, false
		}
		k.inflight++
		return k, true, true
	}
	return k, false, true
}

// unprobe gives back a probe whose task was not accepted.
func (b *breakers) unprobe(k *breaker) {
	b.mu.Lock()
	if k.state == BreakerHalfOpen && k.inflight > 0 {
		k.inflight--
	}
	b.mu.Unlock()
}

// record counts the outcome of a task with key that ended at now.
func (b *breakers) record(key string, probe bool, outcome Outcome, err error, now int64) {
	failure := outcome == Panicked || outcome == Failed && b.isFailure(err)
	b.mu.Lock()
	defer b.mu.Unlock()
	k := b.of(key, false, now)
	if k == nil { // forgotten meanwhile
		return
	}
	if probe {
		if k.state != BreakerHalfOpen || k.inflight == 0 {
			return // a probe of an earlier half-open spell
		}
		k.inflight--
		switch {
		case outcome == Canceled: // never ran: no verdict, the probe is free again
		case failure:
			b.open(k, now)
		default:
			if k.passed++; k.passed >= b.probes {
				*k = breaker{opened: k.opened}
			}
		}
		return
	}
	if k.state != BreakerClosed || outcome == Canceled {
		return // admitted before it opened, or never ran
	}
	k.advance(now, b.slice)
	i := k.at % breakerSlices
	if failure {
		k.fail[i]++
	} else {
		k.ok[i]++
	}
	if n := k.total(); n >= uint64(b.minReq) && float64(k.failures()) >= b.ratio*float64(n) {
		b.open(k, now)
	}
}

// open opens k. b.mu held.
func (b *breakers) open(k *breaker, now int64) {
	k.state, k.openUntil, k.inflight, k.passed = BreakerOpen, now+b.openFor, 0, 0
	k.ok, k.fail = [breakerSlices]uint32{}, [breakerSlices]uint32{}
	k.opened++
	b.opens.Add(1)
}

// advance moves k's window to now, clearing the slices that expired.
func (k *breaker) advance(now, slice int64) {
	at := now / slice
	for i := 0; k.at < at && i < breakerSlices; i++ {
		k.at++
		k.ok[k.at%breakerSlices], k.fail[k.at%breakerSlices] = 0, 0
	}
	k.at = max(k.at, at)
}

func (k *breaker) total() uint64 { return k.failures() + sum(k.ok[:]) }
func (k *breaker) failures() uint64 {
	return sum(k.fail[:])
}

func sum(v []uint32) uint64 {
	var n uint64
	for _, x := range v {
		n += uint64(x)
	}
	return n
}

// stats returns the pool's breaker and the keyed breakers most worth a
// look, at most MaxStatsKeys of them: open first, then half-open, then by
// outcomes in the window, then by key.
func (b *breakers) stats(now int64) []BreakerStats {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := []BreakerStats{b.pool.stats("", now, b.slice)}
	if len(b.keys) == 0 {
		return out
	}
	t := top[BreakerStats]{first: worse}
	for key, k := range b.keys {
		t.add(k.stats(key, now, b.slice))
	}
	return append(out, t.vs[:t.n]...)
}

func (k *breaker) stats(key string, now, slice int64) BreakerStats {
	st := k.state
	if st == BreakerOpen && now >= k.openUntil {
		st = BreakerHalfOpen // the next submission will find it so
	}
	if st == BreakerClosed {
		k.advance(now, slice)
	}
	return BreakerStats{Key: key, State: st, Opened: k.opened, Requests: k.total(), Failures: k.failures()}
}

// worse reports whether a sorts before b in Stats.Breakers.
func worse(a, b BreakerStats) bool {
	if a.State != b.State {
		return a.State > b.State // by severity
	}
	if a.Requests != b.Requests {
		return a.Requests > b.Requests
	}
	return a.Key < b.Key
}
