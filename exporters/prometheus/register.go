package prometheus

import (
	"errors"
	"fmt"
	"log/slog"
	"regexp"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/gdiag/gdiag/pool"
	"github.com/gdiag/gdiag/probes"
	"github.com/gdiag/gdiag/schedstats"
)

// DefaultMaxPools is the cap on exported pools when Options.MaxPools is zero.
const DefaultMaxPools = 64

// DefaultMaxKeys is the cap on gdiag_pool_key_running series per pool when
// Options.MaxKeys is zero: every key pool.Stats lists (pool.MaxStatsKeys).
const DefaultMaxKeys = pool.MaxStatsKeys

// ErrNilRegisterer is returned by Register when given a nil Registerer.
var ErrNilRegisterer = errors.New("prometheus: nil registerer")

// Options configures Register. The zero value registers the scheduler
// collector reading the runtime through probes.Read and the pool
// collector over pool.Registered, capped at DefaultMaxPools pools and
// DefaultMaxKeys keys per pool.
type Options struct {
	// Read fills scheduler snapshots; nil uses probes.Read, the process's
	// one reader, shared with the agent and other exporters.
	Read schedstats.ReadFunc
	// Pools lists the pools to export at each scrape; nil uses pool.Registered.
	Pools func() []*pool.Pool
	// GoCollector also registers client_golang's Go collector, with its
	// default MemStats and GC metrics plus the runtime's /sched/ metrics
	// and its CPU time by class (/cpu/classes/, for example
	// go_cpu_classes_gc_total_cpu_seconds_total and
	// go_cpu_classes_total_cpu_seconds_total), which the GC-overhead alert
	// and dashboard panel read. Leave it off when the registry already has
	// a Go collector (as prometheus.DefaultRegisterer does): the names
	// would clash.
	GoCollector bool
	// MaxPools caps how many pools are exported (DefaultMaxPools when zero).
	MaxPools int
	// MaxKeys caps the gdiag_pool_key_running series per pool and scrape,
	// the busiest keys first (DefaultMaxKeys when zero). A larger value
	// changes nothing, since pool.Stats lists no more than
	// pool.MaxStatsKeys keys. A negative value exports no per-key series,
	// for keys that must not leave the process or that are unbounded
	// (request or user IDs), which would leave a trail of short-lived
	// series in Prometheus.
	MaxKeys int
	// Logger receives a warning when pools are left out of a scrape by the
	// MaxPools cap or a duplicate name; nil is silent.
	Logger *slog.Logger
}

// Register registers a SchedCollector and a PoolCollector (and, when
// opts.GoCollector is set, client_golang's Go collector) with reg. It returns
// ErrNilRegisterer for a nil reg, and otherwise the registration errors,
// joined; collectors registered before an error stay registered.
func Register(reg prometheus.Registerer, opts Options) error {
	if reg == nil {
		return ErrNilRegisterer
	}
	read := opts.Read
	if read == nil {
		read = probes.Read
	}
	pools := opts.Pools
	if pools == nil {
		pools = pool.Registered
	}
	pc := NewPoolCollector(pools, opts.MaxPools)
	pc.logger = opts.Logger
	if opts.MaxKeys != 0 {
		pc.maxKeys = opts.MaxKeys
	}

	var errs []error
	if err := reg.Register(NewSchedCollector(read)); err != nil {
		errs = append(errs, fmt.Errorf("prometheus: register scheduler collector: %w", err))
	}
	if err := reg.Register(pc); err != nil {
		errs = append(errs, fmt.Errorf("prometheus: register pool collector: %w", err))
	}
	if opts.GoCollector {
		gc := collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(collectors.MetricsScheduler, metricsCPUClasses))
		if err := reg.Register(gc); err != nil {
			errs = append(errs, fmt.Errorf("prometheus: register go collector: %w", err))
		}
	}
	return errors.Join(errs...)
}

// metricsCPUClasses selects the runtime's estimates of CPU time by class
// (GC, scavenger, user code, idle, and their total, GOMAXPROCS times wall
// time), which client_golang's MetricsGC leaves out.
var metricsCPUClasses = collectors.GoRuntimeMetricsRule{Matcher: regexp.MustCompile(`^/cpu/classes/`)}

// newDesc builds the descriptor of a catalogued metric. Every name passed here
// is a constant of this package, so a missing entry is a programming error
// caught by the tests; it panics rather than exporting an uncatalogued name.
func newDesc(name string) *prometheus.Desc {
	m, ok := schedstats.Lookup(name)
	if !ok {
		panic("prometheus: metric " + name + " is not in the schedstats catalogue")
	}
	return prometheus.NewDesc(m.Name, m.Help, m.Labels, nil)
}
