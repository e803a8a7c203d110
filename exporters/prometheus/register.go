package prometheus

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/gdiag/gdiag/pool"
	"github.com/gdiag/gdiag/probes"
	"github.com/gdiag/gdiag/schedstats"
)

// DefaultMaxPools is the cap on exported pools when Options.MaxPools is zero.
const DefaultMaxPools = 64

// ErrNilRegisterer is returned by Register when given a nil Registerer.
var ErrNilRegisterer = errors.New("prometheus: nil registerer")

// Options configures Register. The zero value registers the scheduler
// collector reading the runtime through probes.NewReader and the pool
// collector over pool.Registered, capped at DefaultMaxPools pools.
type Options struct {
	// Read fills scheduler snapshots; nil uses probes.NewReader().Read.
	Read schedstats.ReadFunc
	// Pools lists the pools to export at each scrape; nil uses pool.Registered.
	Pools func() []*pool.Pool
	// GoCollector also registers client_golang's Go collector, with its
	// default MemStats and GC metrics plus the runtime's /sched/ metrics.
	// Leave it off when the registry already has a Go collector (as
	// prometheus.DefaultRegisterer does): the names would clash.
	GoCollector bool
	// MaxPools caps how many pools are exported (DefaultMaxPools when zero).
	MaxPools int
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
		read = probes.NewReader().Read
	}
	pools := opts.Pools
	if pools == nil {
		pools = pool.Registered
	}
	pc := NewPoolCollector(pools, opts.MaxPools)
	pc.logger = opts.Logger

	var errs []error
	if err := reg.Register(NewSchedCollector(read)); err != nil {
		errs = append(errs, fmt.Errorf("prometheus: register scheduler collector: %w", err))
	}
	if err := reg.Register(pc); err != nil {
		errs = append(errs, fmt.Errorf("prometheus: register pool collector: %w", err))
	}
	if opts.GoCollector {
		gc := collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(collectors.MetricsScheduler))
		if err := reg.Register(gc); err != nil {
			errs = append(errs, fmt.Errorf("prometheus: register go collector: %w", err))
		}
	}
	return errors.Join(errs...)
}

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
