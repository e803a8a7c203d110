package prometheus

import (
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// series is one exported series, a prometheus.Metric whose Write hands the
// registry values the collector already built. Series live in blocks that
// hold a whole scrape's (or a whole pool's) series, so that a scrape makes
// a few allocations rather than several per series.
//
// What Write hands out is shared: the label pairs with every scrape, the
// histogram bounds with every histogram of the same layout, and a pool's
// series with later scrapes while the pool's numbers do not change. Like
// the label pairs of client_golang's own metrics, they are immutable by
// contract: no one writes to a gathered dto.Metric.
type series struct {
	desc    *prometheus.Desc
	labels  []*dto.LabelPair // sorted by name
	gauge   *dto.Gauge
	counter *dto.Counter
	hist    *dto.Histogram
}

// Desc returns the series' descriptor.
func (s *series) Desc() *prometheus.Desc { return s.desc }

// Write fills out with the series' labels and value.
func (s *series) Write(out *dto.Metric) error {
	out.Label = s.labels
	out.Gauge = s.gauge
	out.Counter = s.counter
	out.Histogram = s.hist
	return nil
}

// gaugeCell is the storage of a gauge series.
type gaugeCell struct {
	s series
	g dto.Gauge
	v float64
}

func (c *gaugeCell) set(d *prometheus.Desc, v float64, labels []*dto.LabelPair) prometheus.Metric {
	c.v = v
	c.g.Value = &c.v
	c.s = series{desc: d, labels: labels, gauge: &c.g}
	return &c.s
}

// counterCell is the storage of a counter series.
type counterCell struct {
	s series
	c dto.Counter
	v float64
}

func (c *counterCell) set(d *prometheus.Desc, v float64, labels []*dto.LabelPair) prometheus.Metric {
	c.v = v
	c.c.Value = &c.v
	c.s = series{desc: d, labels: labels, counter: &c.c}
	return &c.s
}

// histCell is the storage of a histogram series, but for its buckets.
type histCell struct {
	s     series
	h     dto.Histogram
	count uint64
	sum   float64
}

// bucketCell is the storage of one histogram bucket.
type bucketCell struct {
	b dto.Bucket
	n uint64
}

// set makes c a histogram series with the given upper bounds (shared, never
// written) and cumulative counts, using cells and ptrs, both as long as
// bounds, for its buckets.
func (c *histCell) set(d *prometheus.Desc, labels []*dto.LabelPair, bounds []float64, cum []uint64, count uint64, sum float64, cells []bucketCell, ptrs []*dto.Bucket) prometheus.Metric {
	for i := range cells {
		b := &cells[i]
		b.n = cum[i]
		b.b.UpperBound = &bounds[i]
		b.b.CumulativeCount = &b.n
		ptrs[i] = &b.b
	}
	c.count, c.sum = count, sum
	c.h.Bucket, c.h.SampleCount, c.h.SampleSum = ptrs, &c.count, &c.sum
	c.s = series{desc: d, labels: labels, hist: &c.h}
	return &c.s
}

// send sends ms in one burst. Building every series first and sending them
// together lets the registry's gathering goroutine take them from the
// channel's buffer instead of waiting for each.
func send(ch chan<- prometheus.Metric, ms []prometheus.Metric) {
	for _, m := range ms {
		ch <- m
	}
}

// labelPairs builds the label pairs of a series from names and values given
// in turn, sorted by name as the registry wants them.
func labelPairs(kv ...string) []*dto.LabelPair {
	out := make([]*dto.LabelPair, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		name, value := kv[i], kv[i+1]
		out = append(out, &dto.LabelPair{Name: &name, Value: &value})
	}
	for i := 1; i < len(out); i++ { // insertion sort: two labels at most
		for j := i; j > 0 && out[j].GetName() < out[j-1].GetName(); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}
