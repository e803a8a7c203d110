package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/gdiag/gdiag/pool"
)

// The incidents the demo can cause, in the order -h lists them.
var incidentNames = []string{"none", "leak", "cpu", "mutex", "gc", "overload"}

func incidentList() string { return strings.Join(incidentNames, "|") }

func validIncident(name string) bool {
	for _, n := range incidentNames {
		if n == name {
			return true
		}
	}
	return false
}

// Tuning of the incidents: strong enough to show on a 2-core machine,
// bounded so that the demo never takes the machine down.
const (
	leakPerSecond = 50
	leakCap       = 100_000
	cpuPerProc    = 4  // spinning goroutines per P: more than GOMAXPROCS means a run-queue backlog
	mutexFighters = 32 // goroutines sharing one mutex
	gcWorkers     = 2
	gcAllocSize   = 32 << 10
	floodPerTick  = 8 // slow tasks pushed into the http pool every 5 ms during overload
	floodTaskTime = 200 * time.Millisecond
)

// incidents runs at most one incident at a time. Its methods are safe for
// concurrent use. Every goroutine it starts ends when the incident is
// switched off (Set("none") or Close).
type incidents struct {
	httpPool *pool.Pool

	mu      sync.Mutex
	current string
	since   time.Time
	stop    chan struct{}  // closed to end the current incident
	wg      sync.WaitGroup // the current incident's goroutines
	slow    bool           // overload: /work tasks are slow too
}

func newIncidents(httpPool *pool.Pool) *incidents {
	return &incidents{httpPool: httpPool, current: "none", since: time.Now()}
}

// Current returns the running incident's name and when it started.
func (in *incidents) Current() (string, time.Time) {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.current, in.since
}

// slowTasks reports whether /work tasks should be slow (the overload incident).
func (in *incidents) slowTasks() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.slow
}

var errUnknownIncident = errors.New("unknown incident")

// Set stops the current incident (releasing leaked goroutines) and starts name.
func (in *incidents) Set(name string) error {
	if !validIncident(name) {
		return fmt.Errorf("%w %q (want one of %s)", errUnknownIncident, name, incidentList())
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	in.stopLocked()
	in.current, in.since = name, time.Now()
	if name == "none" {
		return nil
	}
	stop := make(chan struct{})
	in.stop = stop
	switch name {
	case "leak":
		in.spawn(func() { in.leak(stop) })
	case "cpu":
		for range cpuPerProc * runtime.GOMAXPROCS(0) {
			in.spawn(func() { spin(stop) })
		}
	case "mutex":
		var shared sync.Mutex
		for range mutexFighters {
			in.spawn(func() { fight(stop, &shared) })
		}
	case "gc":
		for range gcWorkers {
			in.spawn(func() { churn(stop) })
		}
	case "overload":
		in.slow = true
		in.spawn(func() { in.flood(stop) })
	}
	return nil
}

// Close stops the current incident and waits for its goroutines.
func (in *incidents) Close() {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.stopLocked()
	in.current = "none"
}

func (in *incidents) stopLocked() {
	if in.stop != nil {
		close(in.stop)
		in.wg.Wait()
		in.stop = nil
	}
	in.slow = false
}

func (in *incidents) spawn(f func()) {
	in.wg.Add(1)
	go func() {
		defer in.wg.Done()
		f()
	}()
}

// leak starts leakPerSecond goroutines a second, each blocked on stop, as a
// forgotten channel receive would be. They are all released when stop closes.
func (in *incidents) leak(stop chan struct{}) {
	tick := time.NewTicker(time.Second / leakPerSecond)
	defer tick.Stop()
	for n := 0; ; {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		if n >= leakCap {
			continue
		}
		n++
		in.wg.Add(1)
		go leaked(stop, &in.wg)
	}
}

// leaked is a separate function so that it has its own name in stacks and
// in the goroutine census.
func leaked(stop <-chan struct{}, wg *sync.WaitGroup) {
	defer wg.Done()
	<-stop
}

// spin burns CPU until stop closes; the scheduler preempts it, so more
// spinners than Ps keep goroutines waiting in the run queues.
func spin(stop <-chan struct{}) {
	var h [32]byte
	for {
		select {
		case <-stop:
			return
		default:
		}
		for range 1000 {
			h = sha256.Sum256(h[:])
		}
	}
}

// fight takes the shared mutex in a loop and works while holding it, so
// the others wait on it (mutex wait time and the mutex profile grow).
func fight(stop <-chan struct{}, mu *sync.Mutex) {
	var h [32]byte
	for {
		select {
		case <-stop:
			return
		default:
		}
		mu.Lock()
		for range 200 {
			h = sha256.Sum256(h[:])
		}
		mu.Unlock()
	}
}

// gcSink keeps the compiler from proving the allocations dead.
var gcSink struct {
	mu  sync.Mutex
	buf []byte
}

// churn allocates short-lived garbage as fast as it can.
func churn(stop <-chan struct{}) {
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		b := make([]byte, gcAllocSize)
		b[i%len(b)] = byte(i)
		if i%1024 == 0 {
			gcSink.mu.Lock()
			gcSink.buf = b
			gcSink.mu.Unlock()
		}
	}
}

// flood pushes slow low-priority tasks into the http pool faster than its
// workers can take them, so its queue fills and, being fail-fast, it
// rejects (ErrOverloaded), which is the point of the incident.
func (in *incidents) flood(stop chan struct{}) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { <-stop; cancel() }()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	task := pool.Task{Priority: pool.Low, Key: "flood", Label: "flood", Fn: func(ctx context.Context) error {
		select {
		case <-time.After(floodTaskTime):
		case <-ctx.Done():
		}
		return nil
	}}
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		for range floodPerTick {
			if err := in.httpPool.Go(ctx, task); err != nil {
				break // overloaded (the point) or stopped: try again next tick
			}
		}
	}
}
