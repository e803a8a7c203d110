package pool

import (
	"log/slog"
	"runtime"
	"time"
)

// Option configures a pool at construction. Options are applied in order.
type Option func(*config)

type config struct {
	minWorkers   int
	maxWorkers   int
	queueSize    int
	failFast     bool
	stats        bool
	sampleEvery  int
	registry     bool
	idleTimeout  time.Duration
	keyLimit     int
	observer     Observer
	panicHandler func(*PanicError)
	logger       *slog.Logger

	rate, keyRate Rate
	adaptive      *AdaptiveOptions
	shed          *ShedOptions
	breaker       *BreakerOptions
}

func defaultConfig() config {
	return config{
		maxWorkers:  runtime.GOMAXPROCS(0),
		queueSize:   1024,
		stats:       true,
		sampleEvery: 16,
		registry:    true,
		idleTimeout: 10 * time.Second,
	}
}

// WithMaxWorkers sets the maximum number of worker goroutines (default
// GOMAXPROCS). New panics if n < 1.
func WithMaxWorkers(n int) Option { return func(c *config) { c.maxWorkers = n } }

// WithMinWorkers sets how many workers are started by New and kept alive
// while idle (default 0). New panics if n < 0 or n > the maximum.
func WithMinWorkers(n int) Option { return func(c *config) { c.minWorkers = n } }

// WithQueueSize sets how many accepted tasks may wait for a worker (default
// 1024). Zero means no waiting room: a task is accepted only when a worker
// can take it at once. New panics if n < 0.
func WithQueueSize(n int) Option { return func(c *config) { c.queueSize = n } }

// WithFailFast makes Submit return ErrOverloaded at once when the queue is
// full. Without it Submit blocks until there is room or its ctx ends.
func WithFailFast() Option { return func(c *config) { c.failFast = true } }

// WithStats turns the queue-wait and run-time histograms on or off (default
// on). Outcome counters and gauges are always kept: they cost one atomic add
// per task and the pool's correctness checks rely on them.
func WithStats(enabled bool) Option { return func(c *config) { c.stats = enabled } }

// WithStatsSampling makes the histograms time one task in n (default 16);
// 1 times every task. Timing a task costs two or three monotonic clock
// reads (about 30 ns each on a virtual machine), more than the rest of the
// pool's work on an empty task, so the default spreads that cost over 16
// tasks: about 6 ns per task. A deterministic stride keeps the estimate
// unbiased for workloads without a period of exactly n. Counters are exact
// whatever n is, and with an Observer every task is timed. New panics if
// n < 1.
func WithStatsSampling(n int) Option { return func(c *config) { c.sampleEvery = n } }

// WithoutRegistry keeps the pool out of Registered.
func WithoutRegistry() Option { return func(c *config) { c.registry = false } }

// WithIdleTimeout sets how long a worker above the minimum waits for work
// before it exits (default 10 s). New panics if d <= 0.
func WithIdleTimeout(d time.Duration) Option { return func(c *config) { c.idleTimeout = d } }

// WithKeyLimit caps how many tasks with the same non-empty Task.Key run at
// once; further tasks of that key are held back (counted in Stats.Parked,
// taking queue slots) while other keys' tasks run. Zero, the default, means
// no cap. New panics if n < 0.
func WithKeyLimit(n int) Option { return func(c *config) { c.keyLimit = n } }

// WithObserver installs an Observer for every task. Without one, the pool
// spends nothing on observation.
func WithObserver(o Observer) Option { return func(c *config) { c.observer = o } }

// WithPanicHandler sets a function called (on the worker goroutine) with
// each task panic, after it has been recovered and before it is counted. A
// panic in the handler is recovered and counted in Stats.HookPanics.
func WithPanicHandler(h func(*PanicError)) Option { return func(c *config) { c.panicHandler = h } }

// WithLogger sets a logger for rare events (task panics, hook panics, tasks
// dropped by Stop). A nil logger, the default, is silent.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

func (c *config) validate() {
	switch {
	case c.maxWorkers < 1:
		panic("pool: max workers must be at least 1")
	case c.minWorkers < 0 || c.minWorkers > c.maxWorkers:
		panic("pool: min workers must be between 0 and max workers")
	case c.queueSize < 0:
		panic("pool: queue size must not be negative")
	case c.idleTimeout <= 0:
		panic("pool: idle timeout must be positive")
	case c.sampleEvery < 1:
		panic("pool: stats sampling must be at least 1")
	case c.keyLimit < 0:
		panic("pool: key limit must not be negative")
	case !c.rate.valid() || !c.keyRate.valid():
		panic("pool: rate must be finite and not negative")
	}
	c.validateControls()
}

func (c *config) validateControls() {
	if a := c.adaptive; a != nil && (a.Min < 0 || a.Min > c.maxWorkers || a.Interval < 0) {
		panic("pool: adaptive limit: min must be between 0 and max workers, interval not negative")
	}
	if s := c.shed; s != nil && (s.Target < 0 || s.Interval < 0 || s.MaxKeyShare < 0) {
		panic("pool: shedding: target, interval and key share must not be negative")
	}
	if b := c.breaker; b != nil && (b.FailureRatio < 0 || b.FailureRatio > 1 || b.MinRequests < 0 ||
		b.Window < 0 || b.OpenFor < 0 || b.Probes < 0) {
		panic("pool: breaker: ratio must be between 0 and 1, other settings not negative")
	}
}
