package pool

import (
	"context"
	"fmt"
	"math"
	"time"
)

// Rate is a token bucket: PerSecond tokens are added each second, up to
// Burst, and each submitted task takes one. The zero value means no limit.
// A Burst below 1 allows bursts of one task.
type Rate struct {
	PerSecond float64 `json:"perSecond"`
	Burst     int     `json:"burst"`
}

// WithRateLimit limits how fast the pool accepts tasks with a token bucket
// (see Rate). A submission that finds no token blocks until the token it
// reserved comes (or returns ErrRateLimited at once if that is after its
// ctx deadline), or, under WithFailFast, returns ErrRateLimited at once.
// SetRate changes it at run time. New panics if r.PerSecond is negative or
// not finite.
func WithRateLimit(r Rate) Option { return func(c *config) { c.rate = r } }

// WithKeyRateLimit gives each non-empty Task.Key a token bucket of its own
// (see Rate and WithRateLimit); tasks without a key are not limited by it.
// A task must find a token in both the pool's bucket and its key's. The
// pool keeps the buckets of at most maxRateKeys keys at once, forgetting
// full ones first: a forgotten bucket was full, so a key that comes back
// starts as it would have. SetKeyRate changes it at run time. New panics if
// r.PerSecond is negative or not finite.
func WithKeyRateLimit(r Rate) Option { return func(c *config) { c.keyRate = r } }

// maxRateKeys bounds the per-key buckets a pool keeps.
const maxRateKeys = 4096

func (r Rate) valid() bool {
	return r.PerSecond >= 0 && !math.IsInf(r.PerSecond, 0) && !math.IsNaN(r.PerSecond)
}

// normal returns r with a zero rate as the zero Rate and a burst of at
// least 1.
func (r Rate) normal() Rate {
	if r.PerSecond == 0 {
		return Rate{}
	}
	r.Burst = max(r.Burst, 1)
	return r
}

// SetRate replaces the pool's token bucket (WithRateLimit) at run time; the
// zero Rate removes it. The new bucket starts full. It returns an error,
// changing nothing, if r.PerSecond is negative or not finite.
func (p *Pool) SetRate(r Rate) error {
	if !r.valid() {
		return errInvalidRate(p.name, r)
	}
	o := p.controls()
	o.mu.Lock()
	defer o.mu.Unlock()
	if r = r.normal(); r == (Rate{}) {
		o.rate = nil
	} else {
		o.rate = newBucket(r, nanotime())
	}
	return nil
}

// SetKeyRate replaces the token bucket each key gets (WithKeyRateLimit) at
// run time; the zero Rate removes it. Every key starts again with a full
// bucket. It returns an error, changing nothing, if r.PerSecond is negative
// or not finite.
func (p *Pool) SetKeyRate(r Rate) error {
	if !r.valid() {
		return errInvalidRate(p.name, r)
	}
	o := p.controls()
	o.mu.Lock()
	defer o.mu.Unlock()
	o.keyRate = r.normal()
	o.keys = nil
	if o.keyRate != (Rate{}) {
		o.keys = make(map[string]*bucket)
	}
	return nil
}

// controls returns the pool's overload controls, adding an empty set if it
// has none, so that a rate limit can be added to any pool at run time.
func (p *Pool) controls() *overload {
	for {
		if o := p.ov.Load(); o != nil {
			return o
		}
		p.ov.CompareAndSwap(nil, &overload{})
	}
}

// bucket is a token bucket. Its fields are guarded by overload.mu.
type bucket struct {
	Rate
	tokens float64 // may be negative: tokens reserved by blocked submitters
	last   int64   // nanotime of the last refill
}

func newBucket(r Rate, now int64) *bucket {
	r = r.normal()
	return &bucket{Rate: r, tokens: float64(r.Burst), last: now}
}

// refill adds the tokens earned since the last refill.
func (b *bucket) refill(now int64) {
	if now > b.last {
		b.tokens = min(b.tokens+float64(now-b.last)*b.PerSecond/1e9, float64(b.Burst))
		b.last = now
	}
}

// tokenSlack absorbs the rounding of refills: five refills of 0.2 tokens
// add up to slightly less than one, and that token must count as there.
const tokenSlack = 1e-9

// take takes a token and returns how long until it is due: 0 when the
// bucket had one.
func (b *bucket) take(now int64) int64 {
	b.refill(now)
	b.tokens--
	if b.tokens >= -tokenSlack {
		return 0
	}
	return int64(math.Ceil(-b.tokens * 1e9 / b.PerSecond))
}

// keyBucket returns key's bucket, adding it (and forgetting full buckets
// when at the bound) if new. o.mu held.
func (o *overload) keyBucket(key string, now int64) *bucket {
	if b := o.keys[key]; b != nil {
		return b
	}
	if len(o.keys) >= maxRateKeys {
		for k, b := range o.keys {
			if b.refill(now); b.tokens >= float64(b.Burst) {
				delete(o.keys, k)
			}
		}
	}
	b := newBucket(o.keyRate, now)
	o.keys[key] = b
	return b
}

// waitToken takes a token from the pool's bucket and from key's, recording
// them in tk. Without a token at hand it refuses under WithFailFast, or
// when the token would come after ctx's deadline; otherwise it waits for
// it (a timer) or for ctx to end.
func (p *Pool) waitToken(ctx context.Context, o *overload, key string, tk *ticket) (refusal, error) {
	o.mu.Lock()
	if o.rate == nil && (o.keys == nil || key == "") {
		o.mu.Unlock()
		return 0, nil
	}
	now := nanotime()
	var wait int64
	if b := o.rate; b != nil {
		wait = b.take(now)
		tk.tokens[0] = b
	}
	if o.keys != nil && key != "" {
		b := o.keyBucket(key, now)
		wait = max(wait, b.take(now))
		tk.tokens[1] = b
	}
	o.mu.Unlock()
	if wait == 0 {
		return 0, nil
	}
	if p.cfg.failFast {
		return refRate, ErrRateLimited
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < time.Duration(wait) {
		return refRate, ErrRateLimited
	}
	t := time.NewTimer(time.Duration(wait))
	defer t.Stop()
	select {
	case <-t.C:
		return 0, nil
	case <-ctx.Done():
		return refCanceled, ctx.Err()
	}
}

// refund gives back a token to each bucket, for a task that took tokens
// and was then refused. A bucket replaced by SetRate meanwhile is no longer
// used, so the refund to it changes nothing.
func (o *overload) refund(bs *[2]*bucket) {
	o.mu.Lock()
	for _, b := range bs {
		if b != nil {
			b.tokens = min(b.tokens+1, float64(b.Burst))
		}
	}
	o.mu.Unlock()
}

func errInvalidRate(pool string, r Rate) error {
	return fmt.Errorf("pool: %s: invalid rate %v per second: must be finite and not negative", pool, r.PerSecond)
}
