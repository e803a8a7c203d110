package main

import (
	"context"
	"math/rand/v2"
	"sync/atomic"
	"time"
)

// The service every contender protects: requests that need a CPU burst on
// one of a fixed number of CPU slots, then a call to a dependency. Past
// the knee (all slots busy) requests queue for a slot, so latency grows
// with concurrency while throughput does not; each request waiting for a
// slot also makes the bursts behind it slower by a small factor
// (contention: cache, GC and scheduler overhead of many requests in
// flight), so throughput falls a little past the knee, as it does in real
// services. Time is virtual (see main.go): service times are timers.
const (
	slots    = 4                      // CPU slots
	cpuMean  = 10 * time.Millisecond  // mean CPU burst (exponential)
	depMean  = 20 * time.Millisecond  // mean dependency call (exponential), before a slowdown
	deadline = 250 * time.Millisecond // every request's deadline, from its arrival
	capacity = float64(slots) / (float64(cpuMean) / float64(time.Second))
)

// phase is one stretch of the scenario.
type phase struct {
	Name string
	Dur  time.Duration
	Load float64 // arrival rate, in multiples of the service's capacity
	Slow float64 // the dependency's slowdown factor
}

// scenario is the default run: steady load, twice the capacity for 30 s,
// steady again, then the dependency five times slower for 20 s, then
// steady. Its durations are scaled by -scale.
func scenario(scale float64) []phase {
	ph := []phase{
		{"steady", 20 * time.Second, 0.7, 1},
		{"overload 2x", 30 * time.Second, 2, 1},
		{"after overload", 20 * time.Second, 0.7, 1},
		{"dependency 5x slower", 20 * time.Second, 0.7, 5},
		{"after slowdown", 20 * time.Second, 0.7, 1},
	}
	for i := range ph {
		ph[i].Dur = time.Duration(float64(ph[i].Dur) * scale)
	}
	return ph
}

// request is one arrival: when it comes and what it will cost. The same
// requests (same seed) go through every contender.
type request struct {
	at  time.Duration // arrival, from the start of the run
	cpu time.Duration
	dep time.Duration // before the dependency's slowdown
}

// arrivals draws a Poisson arrival process following the phases' loads,
// with exponential CPU and dependency times.
func arrivals(ph []phase, seed uint64) []request {
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	var out []request
	var start time.Duration
	for _, p := range ph {
		rate := p.Load * capacity // per second
		t := start
		for {
			t += time.Duration(rng.ExpFloat64() / rate * float64(time.Second))
			if t >= start+p.Dur {
				break
			}
			out = append(out, request{
				at:  t,
				cpu: time.Duration(rng.ExpFloat64() * float64(cpuMean)),
				dep: time.Duration(rng.ExpFloat64() * float64(depMean)),
			})
		}
		start += p.Dur
	}
	return out
}

// service is the simulated service.
type service struct {
	start      time.Time
	phases     []phase
	contention float64
	slots      chan struct{}
	inCPU      atomic.Int64 // requests waiting for or holding a slot
	busy       atomic.Int64 // slot time used, ns
}

func newService(start time.Time, ph []phase, contention float64) *service {
	return &service{start: start, phases: ph, contention: contention, slots: make(chan struct{}, slots)}
}

// slowdown returns the dependency's slowdown factor at now.
func (s *service) slowdown(now time.Time) float64 {
	t := now.Sub(s.start)
	for _, p := range s.phases {
		if t < p.Dur {
			return p.Slow
		}
		t -= p.Dur
	}
	return 1
}

// serve handles one request: nothing if its deadline has passed when it
// starts or when it gets a CPU slot, else a CPU burst (which, like
// CPU-bound code, does not stop at the deadline) and a dependency call that
// returns at the deadline.
func (s *service) serve(ctx context.Context, r request) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	waiting := s.inCPU.Add(1) - slots
	s.slots <- struct{}{} // channel senders are served in order: a FIFO run queue
	if err := ctx.Err(); err != nil {
		// A handler that waited past its deadline for a CPU gives up at its
		// first context check, as most do at their first call.
		<-s.slots
		s.inCPU.Add(-1)
		return err
	}
	burst := time.Duration(float64(r.cpu) * (1 + s.contention*float64(max(waiting, 0))))
	time.Sleep(burst)
	s.busy.Add(int64(burst))
	<-s.slots
	s.inCPU.Add(-1)
	t := time.NewTimer(time.Duration(float64(r.dep) * s.slowdown(time.Now())))
	defer t.Stop()
	select {
	case <-t.C:
		return ctx.Err() // nil unless the deadline came at the same instant
	case <-ctx.Done():
		return ctx.Err()
	}
}
