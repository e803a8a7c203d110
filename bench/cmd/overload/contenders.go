package main

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"time"
	_ "unsafe" // go:linkname, for go-zero's CPU reading

	"github.com/failsafe-go/failsafe-go/adaptivelimiter"
	"github.com/failsafe-go/failsafe-go/circuitbreaker"
	zerobreaker "github.com/zeromicro/go-zero/core/breaker"
	"github.com/zeromicro/go-zero/core/load"

	"github.com/gdiag/gdiag/pool"
)

// outcome is how one request ended.
type outcome uint8

const (
	refused outcome = iota // the contender turned it away
	ok                     // served before its deadline
	failed                 // admitted, but failed or missed its deadline
)

// handler runs requests through one contender. handle is called on the
// request's own goroutine, as an HTTP server calls its handler, and
// returns when the request ends or its deadline passes; stop ends what
// the contender started.
type handler interface {
	handle(ctx context.Context, r request) outcome
	stop()
}

// contender is one way of protecting the service.
type contender struct {
	name  string
	about string
	new   func(s *service) handler
}

// workers is the pool's maximum, and the other contenders' upper bound
// where they have one: more than the service needs at its knee (about 12
// requests in flight), as a user who sizes for the slow case would set it.
const workers = 64

func contenders() []contender {
	gd := func(name, about string, opts ...pool.Option) contender {
		return contender{name, about, func(s *service) handler {
			opts := append([]pool.Option{pool.WithMaxWorkers(workers), pool.WithoutRegistry()}, opts...)
			return &poolHandler{s: s, p: pool.New(name, opts...)}
		}}
	}
	return []contender{
		gd("gdiag plain", "pool.New, 64 workers, 1024-task queue, blocking Go"),
		gd("gdiag rate", "plain + WithRateLimit(Rate{360, 36}) (90% of capacity) + WithFailFast",
			pool.WithRateLimit(pool.Rate{PerSecond: 0.9 * capacity, Burst: 36}), pool.WithFailFast()),
		gd("gdiag adaptive", "plain + WithAdaptiveLimit(AdaptiveOptions{})", pool.WithAdaptiveLimit(pool.AdaptiveOptions{})),
		gd("gdiag shed", "plain + WithShedding(ShedOptions{}): 5 ms target", pool.WithShedding(pool.ShedOptions{})),
		gd("gdiag breaker", "plain + WithBreaker(BreakerOptions{})", pool.WithBreaker(pool.BreakerOptions{})),
		gd("gdiag adaptive+shed", "plain + adaptive limit + shedding",
			pool.WithAdaptiveLimit(pool.AdaptiveOptions{}), pool.WithShedding(pool.ShedOptions{})),
		gd("gdiag all", "plain + adaptive limit + shedding + breaker",
			pool.WithAdaptiveLimit(pool.AdaptiveOptions{}), pool.WithShedding(pool.ShedOptions{}), pool.WithBreaker(pool.BreakerOptions{})),
		{"go-zero shedder", "load.NewAdaptiveShedder() defaults, fed the service's CPU use", newZeroShedder},
		{"go-zero breaker", "breaker.NewBreaker() (Google SRE throttling)", newZeroBreaker},
		{"failsafe limiter", "adaptivelimiter, limits 1..64 (initial 20), TryAcquirePermit", newFailsafeLimiter},
		{"failsafe breaker", "circuitbreaker, 50% of >=20 in 10 s, 5 s delay, 3 successes", newFailsafeBreaker},
	}
}

// poolHandler runs each request as a task of a gdiag pool.
type poolHandler struct {
	s *service
	p *pool.Pool
}

func (h *poolHandler) handle(ctx context.Context, r request) outcome {
	done := make(chan error, 1)
	err := h.p.Go(ctx, pool.Task{Fn: func(ctx context.Context) error {
		err := h.s.serve(ctx, r)
		done <- err
		return err
	}})
	if err != nil {
		return refused
	}
	select {
	case err := <-done:
		if err != nil {
			return failed
		}
		return ok
	case <-ctx.Done(): // still queued (the pool will cancel it) or late
		return failed
	}
}

func (h *poolHandler) stop() { _ = h.p.Stop(context.Background()) }

// trace prints the pool's limit, queue, running tasks and refusals every
// 100 ms of virtual time until stop is closed.
func (h *poolHandler) trace(start time.Time, stop <-chan struct{}) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		s := h.p.Stats()
		fmt.Fprintf(os.Stderr, "%6.1fs limit %3d running %3d queued %4d shedding %-5v rejected %6d %+v\n",
			time.Since(start).Seconds(), s.Limit, s.Running, s.Queued, s.Shedding, s.Rejected, s.Refused)
	}
}

// gated runs each request on its own goroutine, as an HTTP handler
// would, once admit lets it through, and reports its result to the done
// function admit returned: how go-zero's and failsafe-go's controls are
// used in front of a handler.
type gated struct {
	s     *service
	admit func() (done func(err error), ok bool)
	end   func()
}

func (h *gated) handle(ctx context.Context, r request) outcome {
	done, admitted := h.admit()
	if !admitted {
		return refused
	}
	err := h.s.serve(ctx, r)
	done(err)
	if err != nil {
		return failed
	}
	return ok
}

func (h *gated) stop() {
	if h.end != nil {
		h.end()
	}
}

// go-zero's adaptive shedder decides from the process's CPU use (an
// average over about 5 s, refreshed every 250 ms from the cgroup) and from
// the requests in flight against the best throughput and latency seen. In
// the simulation the CPU is virtual, so the shedder is given the service's
// slot use, averaged the way go-zero averages its own reading, through the
// package variable its reading goes to. go-zero's own refresher (started
// when its stat package loads, on wall-clock time) keeps writing a blend
// with the real host's reading every 250 ms of wall time; each such write
// lasts until the simulation's next one (250 ms of virtual time, well under
// a millisecond of wall time), and weighs the real reading at 5%.
//
//go:linkname zeroCPU github.com/zeromicro/go-zero/core/stat.cpuUsage
var zeroCPU int64

func newZeroShedder(s *service) handler {
	load.DisableLog()
	sh := load.NewAdaptiveShedder()
	atomic.StoreInt64(&zeroCPU, 0)
	stop := make(chan struct{})
	go feedCPU(s, stop)
	return &gated{s: s, end: func() { close(stop) }, admit: func() (func(error), bool) {
		p, err := sh.Allow()
		if err != nil {
			return nil, false
		}
		return func(err error) {
			if err != nil {
				p.Fail() // as go-zero's HTTP middleware does for a 5xx
			} else {
				p.Pass()
			}
		}, true
	}}
}

// feedCPU publishes the service's slot use in millicpu, every 250 ms, with
// go-zero's moving average (beta 0.95), until stop is closed.
func feedCPU(s *service, stop <-chan struct{}) {
	const every = 250 * time.Millisecond
	t := time.NewTicker(every)
	defer t.Stop()
	var last int64
	var usage float64 // kept here, so that a write of go-zero's own refresher lasts until the next tick only
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		busy := s.busy.Load()
		cur := float64(busy-last) / float64(slots*every) * 1000
		last = busy
		usage = usage*0.95 + cur*0.05
		atomic.StoreInt64(&zeroCPU, int64(usage))
	}
}

func newZeroBreaker(s *service) handler {
	b := zerobreaker.NewBreaker()
	return &gated{s: s, admit: func() (func(error), bool) {
		p, err := b.Allow()
		if err != nil {
			return nil, false
		}
		return func(err error) {
			if err != nil {
				p.Reject(err.Error())
			} else {
				p.Accept()
			}
		}, true
	}}
}

func newFailsafeLimiter(s *service) handler {
	l := adaptivelimiter.NewBuilder[any]().WithLimits(1, workers, 20).Build()
	return &gated{s: s, admit: func() (func(error), bool) {
		p, ok := l.TryAcquirePermit()
		if !ok {
			return nil, false
		}
		return func(err error) {
			if err != nil {
				p.Drop() // as failsafe-go's executor does for an execution whose context ended
			} else {
				p.Record()
			}
		}, true
	}}
}

func newFailsafeBreaker(s *service) handler {
	b := circuitbreaker.NewBuilder[any]().
		WithFailureRateThreshold(0.5, 20, 10*time.Second).
		WithDelay(5 * time.Second).
		WithSuccessThreshold(3).
		Build()
	return &gated{s: s, admit: func() (func(error), bool) {
		if !b.TryAcquirePermit() {
			return nil, false
		}
		return func(err error) {
			if err != nil {
				b.RecordFailure()
			} else {
				b.RecordSuccess()
			}
		}, true
	}}
}
