package dashboards

import (
	"fmt"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/heatmap"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// Grafana units used by the panels.
const (
	unitSeconds   = "s"
	unitBytes     = "bytes"
	unitBytesRate = "Bps"
	unitPerSecond = "ops"   // events per second
	unitCount     = "short" // plain numbers (goroutines, threads, Ps, tasks)
	unitCores     = "short" // CPU-seconds per second
	unitRatio     = "percentunit"
	unitPercent   = "percent"
)

// query is one target of a panel: a PromQL expression and its legend.
type query struct {
	expr   string
	legend string
}

// sel writes metric{job=~"$job",instance=~"$instance",extra...}: every
// selector in the dashboards goes through it, so that one dashboard serves
// a fleet.
func sel(metric string, extra ...string) string {
	m := append([]string{`job=~"$job"`, `instance=~"$instance"`}, extra...)
	return metric + "{" + strings.Join(m, ",") + "}"
}

// rate is rate(selector[$__rate_interval]), Grafana's recommended window:
// at least four scrape intervals whatever the zoom.
func rate(metric string, extra ...string) string {
	return "rate(" + sel(metric, extra...) + "[$__rate_interval])"
}

// quantiles returns p50, p90 and p99 of a histogram's recent observations,
// grouped by the given labels.
func quantiles(histogram, by, legendPrefix string, extra ...string) []query {
	var qs []query
	for _, q := range []string{"0.5", "0.9", "0.99"} {
		qs = append(qs, query{
			expr:   fmt.Sprintf("histogram_quantile(%s, sum by (%sle) (%s))", q, by, rate(histogram+"_bucket", extra...)),
			legend: legendPrefix + "p" + strings.TrimPrefix(q, "0.") + pctSuffix(q),
		})
	}
	return qs
}

// pctSuffix turns "0.5" into p50 rather than p5.
func pctSuffix(q string) string {
	if len(strings.TrimPrefix(q, "0.")) == 1 {
		return "0"
	}
	return ""
}

// targets turns queries into Prometheus targets with RefIds A, B, ...;
// Grafana would invent them on load, but fixed ones keep the JSON stable.
func targets(qs []query) []cog.Builder[variants.Dataquery] {
	out := make([]cog.Builder[variants.Dataquery], 0, len(qs))
	for i, q := range qs {
		out = append(out, prometheus.NewDataqueryBuilder().
			Datasource(promDS()).
			Expr(q.expr).
			LegendFormat(q.legend).
			Range().
			RefId(string(rune('A'+i))))
	}
	return out
}

// graph is a time-series panel of width w (of 24) with the given unit.
func graph(title, description, unit string, w uint32, qs ...query) *timeseries.PanelBuilder {
	return timeseries.NewPanelBuilder().
		Title(title).
		Description(description).
		Datasource(promDS()).
		Unit(unit).
		Min(0).
		Span(w).
		Height(8).
		FillOpacity(10).
		Legend(common.NewVizLegendOptionsBuilder().
			DisplayMode(common.LegendDisplayModeList).
			Placement(common.LegendPlacementBottom).
			ShowLegend(true)).
		Tooltip(common.NewVizTooltipOptionsBuilder().
			Mode(common.TooltipDisplayModeMulti).
			Sort(common.SortOrderDescending)).
		Targets(targets(qs))
}

// stacked is a graph whose series are stacked, for parts of a whole.
func stacked(title, description, unit string, w uint32, qs ...query) *timeseries.PanelBuilder {
	return graph(title, description, unit, w, qs...).
		FillOpacity(40).
		Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal))
}

// single is a stat panel showing the last value of each query.
func single(title, description, unit string, w uint32, qs ...query) *stat.PanelBuilder {
	return stat.NewPanelBuilder().
		Title(title).
		Description(description).
		Datasource(promDS()).
		Unit(unit).
		Span(w).
		Height(4).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"})).
		Targets(targets(qs))
}

// bucketHeatmap shows a Prometheus histogram's buckets over time; the
// buckets are already counted, so Grafana must not recalculate them.
func bucketHeatmap(title, description, histogram string, w uint32) *heatmap.PanelBuilder {
	expr := fmt.Sprintf("sum by (le) (increase(%s[$__rate_interval]))", sel(histogram+"_bucket"))
	return heatmap.NewPanelBuilder().
		Title(title).
		Description(description).
		Datasource(promDS()).
		Unit(unitSeconds).
		Span(w).
		Height(8).
		Calculate(false).
		YAxis(heatmap.NewYAxisConfigBuilder().Unit(unitSeconds)).
		Color(heatmap.NewHeatmapColorOptionsBuilder().
			Mode(heatmap.HeatmapColorModeScheme).
			Scheme("Oranges").
			Scale(heatmap.HeatmapColorScaleExponential).
			Exponent(0.5).
			Steps(64)).
		CellValues(heatmap.NewCellValuesBuilder().Unit(unitCount)).
		Targets([]cog.Builder[variants.Dataquery]{
			prometheus.NewDataqueryBuilder().
				Datasource(promDS()).
				Expr(expr).
				LegendFormat("{{le}}").
				Format(prometheus.PromQueryFormatHeatmap).
				Range().
				RefId("A"),
		})
}

// row is a non-collapsed row header; the panels added after it belong to it.
func row(title string) *dashboard.RowBuilder {
	return dashboard.NewRowBuilder(title).Collapsed(false)
}

// profileLink is a panel link to a profile of the selected job in Pyroscope.
func profileLink(title, profileType, extra string) cog.Builder[dashboard.DashboardLink] {
	return dashboard.NewDashboardLinkBuilder(title).
		Type(dashboard.DashboardLinkTypeLink).
		Url(profileURL(profileType, extra)).
		TargetBlank(true)
}
