package otel

import (
	"context"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/gdiag/gdiag/pool"
	"github.com/gdiag/gdiag/probes"
	"github.com/gdiag/gdiag/schedstats"
)

// The attribute keys of the overload controls' metrics that task spans do
// not have.
const (
	attrReason = attribute.Key("gdiag.pool.refusal_reason")
	attrScope  = attribute.Key("gdiag.pool.rate_scope")
)

// The attribute keys of metrics, one per catalogue label. The pool and
// outcome keys are the ones task spans use, so metrics and traces join.
var labelKeys = map[string]attribute.Key{
	"pool":    attrPoolName,
	"outcome": attrOutcome,
	"key":     attrKey,
	"reason":  attrReason,
	"scope":   attrScope,
	"state":   "gdiag.goroutine.state",
	"kind":    "gdiag.pause.kind",
	"p":       "gdiag.sched.p",
}

// MetricsOptions configures NewProducer. The zero value reads the running
// process with probes.Read and every registered pool.
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
	if per, ok := strings.CutSuffix(u, "/s"); ok {
		return "{" + strings.TrimSuffix(per, "s") + "}/s"
	}
	return "{" + strings.TrimSuffix(u, "s") + "}"
}

// Producer is an sdkmetric.Producer of gdiag's scheduler and pool metrics:
// the semantic-convention go.goroutine.count, go.processor.limit and
// go.schedule.duration, and every metric of the schedstats catalogue, named
// by OTelName. Give it to the reader of an SDK MeterProvider with
// sdkmetric.WithProducer; at each collection it reads one scheduler
// snapshot and each pool's Stats. Create it with NewProducer; the zero
// value is not usable. Produce is safe for concurrent use: collections are
// serialized so that the snapshot is reused.
type Producer struct {
	opts  MetricsOptions
	start time.Time // the start of every cumulative series but pools'

	mu    sync.Mutex
	snap  schedstats.Snapshot
	pools map[string]*poolAttrs // by name: the pools of the last collection
	round uint64                // counts collections, to forget pools
}

var _ sdkmetric.Producer = (*Producer)(nil)

// NewProducer returns a Producer of the metrics of the scheduler (read by
// opts.Read) and of the pools opts.Pools lists. Pass it to a reader:
//
//	reader := sdkmetric.NewPeriodicReader(exporter, sdkmetric.WithProducer(gotel.NewProducer(gotel.MetricsOptions{})))
func NewProducer(opts MetricsOptions) *Producer {
	if opts.Read == nil {
		opts.Read = probes.Read
	}
	if opts.Pools == nil {
		opts.Pools = pool.Registered
	}
	if opts.MaxPools <= 0 {
		opts.MaxPools = 64
	}
	return &Producer{opts: opts, start: time.Now(), pools: make(map[string]*poolAttrs)}
}

// Produce reads a snapshot and the pools' statistics and returns them as
// one scope (github.com/gdiag/gdiag/exporters/otel) of cumulative metrics.
// It never fails; ctx is not used.
func (p *Producer) Produce(context.Context) ([]metricdata.ScopeMetrics, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	b := newBuilder(time.Now(), p.start)
	p.opts.Read(&p.snap)
	b.sched(&p.snap)
	pools := p.opts.Pools()
	if len(pools) > p.opts.MaxPools {
		pools = pools[:p.opts.MaxPools]
	}
	p.round++
	for _, pl := range pools {
		st := pl.Stats()
		b.pool(&st, p.poolAttrs(&st, b.now))
	}
	for name, a := range p.pools {
		if a.seen != p.round {
			delete(p.pools, name)
		}
	}
	return []metricdata.ScopeMetrics{{Scope: instrumentation.Scope{Name: scope}, Metrics: b.metrics()}}, nil
}
