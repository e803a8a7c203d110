package dashboards

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// boundQuantile is the PromQL of gdiag's quantile rule
// (schedstats.Histogram.Quantile) over a histogram's recent observations,
// grouped by the labels in by (such as "instance, kind"): the upper bound
// of the first bucket whose cumulative count reaches q of the total, the
// figure gdiag sched and gdiag doctor print for the same window.
// Prometheus's histogram_quantile alone interpolates inside the bucket, a
// figure that looks measured but assumes the values spread evenly over it;
// so the buckets are first turned into 0 (below the q-quantile) and 1 (at
// or past it), whose quantile 1 histogram_quantile gives exactly as the
// first such bucket's upper bound (the largest finite bound when it is the
// +Inf one, as gdiag does). Windows without observations give no point.
func boundQuantile(q, histogram, by string) string {
	count := "sum by (" + by + ") (" + rate(histogram+"_count") + ")"
	return fmt.Sprintf("histogram_quantile(1, (sum by (%s, le) (%s) >= bool on (%s) group_left %s * %s) and on (%s) (%s > 0))",
		by, rate(histogram+"_bucket"), by, q, count, by, count)
}

// stwPanels are the stop-the-world panels of the Scheduler dashboard: the
// longest pause and its time to stop, and the percentiles of both, by
// cause, by gdiag's quantile rule over each $__rate_interval.
func stwPanels() []*timeseries.PanelBuilder {
	var longest, pct []query
	for _, h := range []struct{ metric, name string }{
		{"gdiag_sched_pause_seconds", "total"},
		{"gdiag_sched_pause_stopping_seconds", "stopping"},
	} {
		longest = append(longest, query{boundQuantile("1", h.metric, "instance, kind"), "{{instance}} {{kind}} " + h.name + " max"})
		pct = append(pct, query{boundQuantile("0.99", h.metric, "instance, kind"), "{{instance}} {{kind}} " + h.name + " p99"})
	}
	return []*timeseries.PanelBuilder{
		graph("Stop-the-world: time to stop vs total",
			"The longest stop-the-world pause by cause (gc or other) against the longest time the runtime took to stop the world: from the request to stop until every goroutine stopped, the first part of each pause. "+
				"When the time to stop is most of the pause, a goroutine did not reach a safe point (gdiag doctor's preemption-delay); when it is small, the time went in the work done while the world was stopped. "+
				"Each figure is the upper bound of the histogram bucket that holds it, as gdiag sched and gdiag doctor print it.",
			unitSeconds, 12, longest...),
		graph("Stop-the-world p99: time to stop vs total",
			"p99 of stop-the-world pauses and of their time to stop, by cause (gc or other), as the upper bound of the bucket that holds it. GdiagLongSTWPause fires on pauses over 50ms that keep recurring.",
			unitSeconds, 12, pct...),
	}
}
