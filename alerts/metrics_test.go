package alerts_test

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"go.uber.org/goleak"

	gdiagprom "github.com/gdiag/gdiag/exporters/prometheus"
	"github.com/gdiag/gdiag/pool"
	"github.com/gdiag/gdiag/schedstats"
)

var (
	// Groupings whose parentheses hold label names, not metrics.
	grouping = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	matchers = regexp.MustCompile(`\{[^}]*\}`)
	quoted   = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	bucketLE = regexp.MustCompile(`\b([a-zA-Z_:][a-zA-Z0-9_:]*)_bucket\{[^}]*\ble="([^"]*)"`)
	ident    = regexp.MustCompile(`\b[a-zA-Z_:][a-zA-Z0-9_:]*\b(\s*\()?`)
	keywords = map[string]bool{
		"and": true, "or": true, "unless": true, "bool": true, "offset": true,
		"inf": true, "nan": true, "atan2": true,
	}
)

// exprMetrics returns the metric names an expression selects: identifiers
// that are not functions, keywords or label names.
func exprMetrics(expr string) []string {
	s := quoted.ReplaceAllString(expr, `""`)
	s = matchers.ReplaceAllString(s, "{}")
	s = grouping.ReplaceAllString(s, " ")
	var out []string
	for _, m := range ident.FindAllStringSubmatch(s, -1) {
		if m[1] != "" || keywords[strings.ToLower(m[0])] {
			continue // a function call or an operator
		}
		if !slices.Contains(out, m[0]) {
			out = append(out, m[0])
		}
	}
	return out
}

func TestExprMetrics(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want []string
	}{
		{`rate(a_total[5m]) > 0`, []string{"a_total"}},
		{`sum by (pool, job) (x{pool="http",le="+Inf"}) / ignoring(le) y offset 5m`, []string{"x", "y"}},
		{`histogram_quantile(0.99, rate(h_bucket{x="rate(z)"}[1m])) > 1e-3 and on(instance) c`, []string{"h_bucket", "c"}},
		{`a / (b > 0) >= bool 1 unless c`, []string{"a", "b", "c"}},
	} {
		if got := exprMetrics(tc.expr); !slices.Equal(got, tc.want) {
			t.Errorf("exprMetrics(%q) = %q; want %q", tc.expr, got, tc.want)
		}
	}
}

// catalogueName maps a series name to its catalogued family: a histogram's
// _bucket, _sum and _count series belong to the histogram.
func catalogueName(series string) (schedstats.Metric, bool) {
	if m, ok := schedstats.Lookup(series); ok {
		return m, m.Type != schedstats.TypeHistogram
	}
	for _, suf := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(series, suf); ok {
			if m, ok := schedstats.Lookup(base); ok && m.Type == schedstats.TypeHistogram {
				return m, true
			}
		}
	}
	return schedstats.Metric{}, false
}

// TestRuleMetricsExist checks every metric the rules select against the
// schedstats catalogue (gdiag_*) and against a live scrape of
// exporters/prometheus registered as the demo does (with the Go collector,
// whose go_cpu_classes_* the GC-overhead rule reads), with real pools that
// have run tasks. No rule uses a deep-mode-only series such as
// gdiag_sched_local_runqueue, so none is exempt.
func TestRuleMetricsExist(t *testing.T) {
	defer goleak.VerifyNone(t)
	live, bounds := liveSeries(t)
	var used []string
	for _, r := range loadRules(t) {
		names := exprMetrics(r.Expr)
		if len(names) == 0 {
			t.Errorf("%s: no metric found in %q", r.Alert, r.Expr)
		}
		for _, n := range names {
			if !slices.Contains(used, n) {
				used = append(used, n)
			}
			switch {
			case strings.HasPrefix(n, "gdiag_"):
				if _, ok := catalogueName(n); !ok {
					t.Errorf("%s uses %s, which is not in the schedstats catalogue", r.Alert, n)
				}
			case strings.HasPrefix(n, "go_"):
				// client_golang's Go collector, which exporters/prometheus
				// registers with Options.GoCollector: checked live below.
			default:
				t.Errorf("%s uses %s, neither a gdiag metric of the catalogue nor one of the Go collector", r.Alert, n)
			}
			if !live[n] {
				t.Errorf("%s uses %s, which a live scrape of exporters/prometheus lacks", r.Alert, n)
			}
		}
		// A bucket bound the rule names must be one the exporter emits.
		for _, m := range bucketLE.FindAllStringSubmatch(r.Expr, -1) {
			if !bounds[m[1]][m[2]] {
				t.Errorf("%s selects %s{le=%q}, a bucket bound the live scrape lacks", r.Alert, m[1], m[2])
			}
		}
	}
	sort.Strings(used)
	t.Logf("metrics used by the rules: %s", strings.Join(used, " "))
}

// liveSeries gathers a registry filled by gdiagprom.Register and returns
// the series names it holds (histograms expanded to _bucket, _sum, _count)
// and the bucket bounds of each histogram, as le label values.
func liveSeries(t *testing.T) (map[string]bool, map[string]map[string]bool) {
	t.Helper()
	ctx := context.Background()
	p := pool.New("alerts_live", pool.WithoutRegistry(), pool.WithMaxWorkers(2),
		pool.WithShedding(pool.ShedOptions{}), pool.WithBreaker(pool.BreakerOptions{}))
	for i := range 8 {
		err := p.Submit(ctx, func(context.Context) error {
			if i == 0 {
				return errors.New("one failure")
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Stop(ctx); err != nil { // waits for the tasks
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	err := gdiagprom.Register(reg, gdiagprom.Options{
		Pools:       func() []*pool.Pool { return []*pool.Pool{p} },
		GoCollector: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	out, bounds := map[string]bool{}, map[string]map[string]bool{}
	for _, mf := range mfs {
		n := mf.GetName()
		if len(mf.GetMetric()) == 0 {
			continue
		}
		switch mf.GetType() {
		case dto.MetricType_HISTOGRAM:
			out[n+"_bucket"], out[n+"_sum"], out[n+"_count"] = true, true, true
			bounds[n] = map[string]bool{"+Inf": true}
			for _, b := range mf.GetMetric()[0].GetHistogram().GetBucket() {
				bounds[n][strconv.FormatFloat(b.GetUpperBound(), 'g', -1, 64)] = true
			}
		case dto.MetricType_SUMMARY:
			out[n], out[n+"_sum"], out[n+"_count"] = true, true, true
		default:
			out[n] = true
		}
	}
	if !out["gdiag_pool_tasks_total"] || !out["go_goroutines"] {
		t.Fatalf("live scrape lacks gdiag_pool_tasks_total or go_goroutines; got %d series names", len(out))
	}
	return out, bounds
}
