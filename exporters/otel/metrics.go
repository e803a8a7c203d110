package otel

import (
	"errors"
	"fmt"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/semconv/v1.37.0/goconv"

	"github.com/gdiag/gdiag/pool"
	"github.com/gdiag/gdiag/probes"
	"github.com/gdiag/gdiag/schedstats"
)

// ErrNilMeterProvider is returned by RegisterMetrics when given a nil
// MeterProvider.
var ErrNilMeterProvider = errors.New("otel: nil MeterProvider")

// The attribute keys of metrics, one per catalogue label. The pool and
// outcome keys are the ones task spans use, so metrics and traces join.
var labelKeys = map[string]attribute.Key{
	"pool":    attrPoolName,
	"outcome": attrOutcome,
	"key":     attrKey,
	"state":   "gdiag.goroutine.state",
	"kind":    "gdiag.pause.kind",
	"p":       "gdiag.sched.p",
}

// attrQuantile marks the quantile of a histogram published as gauges.
const attrQuantile = attribute.Key("gdiag.quantile")

// quantiles are the quantiles published for each catalogued histogram.
var quantiles = [...]float64{0.5, 0.9, 0.99}

// MetricsOptions configures RegisterMetrics. The zero value reads the
// running process with probes.Read and every registered pool.
type MetricsOptions struct {
	// Read fills a scheduler snapshot; nil means probes.Read, the
	// process's one reader, shared with the agent and other exporters.
	Read schedstats.ReadFunc
	// Pools lists the pools to export; nil means pool.Registered.
	Pools func() []*pool.Pool
	// MaxPools caps how many pools are exported per collection, bounding
	// the metrics' cardinality; zero or less means 64.
	MaxPools int
}

// OTelName returns the OpenTelemetry name of a catalogued (Prometheus) metric
// name: the gdiag_ prefix and the area become dotted (gdiag.sched., gdiag.pool.,
// gdiag.sync.), and the _seconds and _total suffixes, which OpenTelemetry
// carries in the unit and the instrument kind, are dropped. An OpenTelemetry
// to Prometheus translation turns the result back into the catalogue's name.
func OTelName(promName string) string {
	n := strings.TrimSuffix(promName, "_total")
	n = strings.TrimSuffix(n, "_seconds")
	n = strings.Replace(n, "_", ".", 2)
	return n
}

// otelUnit turns a catalogue unit into a UCUM unit: seconds become "s",
// counted things become an annotation such as "{goroutine}".
func otelUnit(u string) string {
	if u == "seconds" {
		return "s"
	}
	return "{" + strings.TrimSuffix(u, "s") + "}"
}

// RegisterMetrics registers observable instruments on a meter from mp and a
// callback that fills them on each collection: the semantic-convention
// go.goroutine.count and go.processor.limit, and one instrument per metric of
// the schedstats catalogue, named by OTelName. Catalogued gauges and counters
// become observable gauges and counters; catalogued histograms, which no
// observable instrument can carry, become gauges of their 0.5, 0.9 and 0.99
// quantiles (attribute gdiag.quantile) since the process (or pool) started.
// The returned function unregisters the callback; the instruments stay but
// report nothing more.
func RegisterMetrics(mp metric.MeterProvider, opts MetricsOptions) (unregister func() error, err error) {
	if mp == nil {
		return nil, ErrNilMeterProvider
	}
	if opts.Read == nil {
		opts.Read = probes.Read
	}
	if opts.Pools == nil {
		opts.Pools = pool.Registered
	}
	if opts.MaxPools <= 0 {
		opts.MaxPools = 64
	}
	c := &collector{opts: opts, inst: make(map[string]metric.Observable)}
	m := mp.Meter(scope)
	var errs []error
	gc, err := goconv.NewGoroutineCount(m)
	errs = append(errs, err)
	pl, err := goconv.NewProcessorLimit(m)
	errs = append(errs, err)
	c.goroutines, c.procs = gc.Inst(), pl.Inst()
	all := []metric.Observable{c.goroutines, c.procs}
	for _, cm := range schedstats.Catalogue() {
		inst, err := newInstrument(m, cm)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		c.inst[cm.Name] = inst
		all = append(all, inst)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("otel: creating instruments: %w", err)
	}
	reg, err := m.RegisterCallback(c.observe, all...)
	if err != nil {
		return nil, fmt.Errorf("otel: registering callback: %w", err)
	}
	return reg.Unregister, nil
}

func newInstrument(m metric.Meter, cm schedstats.Metric) (metric.Observable, error) {
	name, unit := OTelName(cm.Name), otelUnit(cm.Unit)
	switch {
	case cm.Type == schedstats.TypeHistogram:
		return m.Float64ObservableGauge(name, metric.WithUnit(unit),
			metric.WithDescription(cm.Help+" Quantiles (gdiag.quantile) since start."))
	case cm.Type == schedstats.TypeCounter && cm.Unit == "seconds":
		return m.Float64ObservableCounter(name, metric.WithUnit(unit), metric.WithDescription(cm.Help))
	case cm.Type == schedstats.TypeCounter:
		return m.Int64ObservableCounter(name, metric.WithUnit(unit), metric.WithDescription(cm.Help))
	default:
		return m.Int64ObservableGauge(name, metric.WithUnit(unit), metric.WithDescription(cm.Help))
	}
}
