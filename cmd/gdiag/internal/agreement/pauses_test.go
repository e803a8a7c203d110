package agreement_test

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/gdiag/gdiag/cmd/gdiag/internal/doctor"
	"github.com/gdiag/gdiag/cmd/gdiag/internal/sched"
	promexp "github.com/gdiag/gdiag/exporters/prometheus"
	"github.com/gdiag/gdiag/probes"
	"github.com/gdiag/gdiag/schedstats"
)

// pauseHistory is eight snapshots a second apart, in the runtime's layout,
// whose GC pauses grow in uneven buckets; their stopping times are most of
// each pause (a preemption delay) and fall in buckets of their own.
func pauseHistory() []schedstats.Snapshot {
	bounds := []float64{math.Inf(-1), 0}
	for b := 1e-6; b < 100; b *= 1.25 {
		bounds = append(bounds, b)
	}
	bounds = append(bounds, math.Inf(1))
	bucket := func(v float64) int { // the runtime bucket [b_i, b_i+1) holding v
		return slices.IndexFunc(bounds[1:], func(b float64) bool { return b > v })
	}
	empty := func() schedstats.Histogram {
		return schedstats.Histogram{Bounds: bounds, Counts: make([]uint64, len(bounds)-1)}
	}
	var h []schedstats.Snapshot
	gc, gcStop, other, otherStop := empty(), empty(), empty(), empty()
	for i := range 8 {
		if i > 0 {
			for j, ms := range []float64{0.08, 12, 0.3, 70 + 9*float64(i), 0.05} {
				gc.Counts[bucket(ms*1e-3)] += uint64(1 + (i+j)%3)
			}
			for j, ms := range []float64{0.01, 11, 0.02, 66 + 9*float64(i), 0.005} {
				gcStop.Counts[bucket(ms*1e-3)] += uint64(1 + (i+j)%3)
			}
		}
		clone := func(h schedstats.Histogram) schedstats.Histogram {
			return schedstats.Histogram{Bounds: h.Bounds, Counts: slices.Clone(h.Counts)}
		}
		s := schedstats.Snapshot{Time: time.Unix(1700000000+int64(i), 0), GOMAXPROCS: 2,
			GCPauses: clone(gc), GCStopping: clone(gcStop), OtherPauses: clone(other), OtherStopping: clone(otherStop),
			Sources: schedstats.Sources{Procs: schedstats.SourceRuntimeMetrics, Pauses: schedstats.SourceRuntimeMetrics}}
		h = append(h, s)
	}
	return h
}

// TestPauseFiguresAgree: over one history, gdiag sched --json, gdiag
// doctor's evidence, the Prometheus exporter's scrapes at the window's two
// ends and the Scheduler dashboard's stop-the-world queries (evaluated by
// promtool on those scrapes) give the same longest pause and longest time
// to stop, and the same p99s, the exposition's on its coarser buckets
// (the first exported bound at or above gdiag's figure).
func TestPauseFiguresAgree(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	hist := pauseHistory()
	first, last := hist[0], hist[len(hist)-1]
	window := last.Time.Sub(first.Time)
	n := 0
	s := schedstats.NewSampler(func(dst *schedstats.Snapshot) { hist[min(n, len(hist)-1)].CopyInto(dst); n++ },
		schedstats.SamplerOptions{Size: len(hist)})
	for range hist {
		s.SampleNow()
	}
	srv := httptest.NewServer(probes.Handler(probes.HandlerOptions{Sampler: s}))
	defer srv.Close()
	defer srv.Client().CloseIdleConnections()

	// gdiag sched: pauses over the whole history it reads.
	var sr sched.Report
	runJSON(t, sched.Command(), []string{"sched", srv.URL, "--json"}, &sr)
	d := sr.Derived
	if d.PauseWindowSeconds != window.Seconds() {
		t.Fatalf("gdiag sched pause window = %vs; want the history's %v", d.PauseWindowSeconds, window)
	}
	want := map[string]float64{
		"pause max":    last.GCPauses.Sub(first.GCPauses).Quantile(1),
		"pause p99":    last.GCPauses.Sub(first.GCPauses).Quantile(0.99),
		"stopping max": last.GCStopping.Sub(first.GCStopping).Quantile(1),
		"stopping p99": last.GCStopping.Sub(first.GCStopping).Quantile(0.99),
		"stopping p50": last.GCStopping.Sub(first.GCStopping).Quantile(0.5),
	}
	for name, got := range map[string]float64{"pause max": d.GCPauses.Max, "pause p99": d.GCPauses.P99,
		"stopping max": d.GCStopping.Max, "stopping p99": d.GCStopping.P99, "stopping p50": d.GCStopping.P50} {
		if got != want[name] {
			t.Errorf("gdiag sched %s = %v; the library's quantile rule gives %v", name, got, want[name])
		}
	}
	if !(want["stopping max"] > 0.05) || !(want["pause max"] >= want["stopping max"]) {
		t.Fatalf("fixture: pause max %v, stopping max %v; want a stopping max past 50ms, under the pause max", want["pause max"], want["stopping max"])
	}

	// gdiag doctor: the preemption-delay and stw-pauses evidence.
	asyncPreemptOff := true
	obs := &doctor.Observation{Agent: true, GOMAXPROCS: 2, Elapsed: window, History: hist,
		Preemption: &doctor.Preemption{AsyncPreemptOff: &asyncPreemptOff, GODEBUGFrom: "a test"}}
	findings, _, _ := doctor.Analyze(obs, "1234")
	evidence := map[string]float64{}
	for _, f := range findings {
		for _, e := range f.Evidence {
			evidence[f.Cause+" "+e.Name] = e.Value
		}
	}
	for key, name := range map[string]string{
		"preemption-delay stopping_max": "stopping max", "preemption-delay pause_max": "pause max", "stw-pauses gc_pause_max": "pause max",
	} {
		if got, ok := evidence[key]; !ok || got != want[name] {
			t.Errorf("gdiag doctor %s = %v (present %v); gdiag sched and the library give %v\nfindings: %+v", key, got, ok, want[name], findings)
		}
	}

	// The exporter, scraped at both ends of the window: the quantiles of
	// the difference, by the same rule, on its buckets.
	var cur schedstats.Snapshot
	reg := prometheus.NewRegistry()
	reg.MustRegister(promexp.NewSchedCollector(func(dst *schedstats.Snapshot) { cur.CopyInto(dst) }))
	scrape := func(at schedstats.Snapshot) map[string]schedstats.Histogram {
		cur = at
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]schedstats.Histogram{}
		for _, name := range []string{"gdiag_sched_pause_seconds", "gdiag_sched_pause_stopping_seconds"} {
			out[name] = promHistogram(t, mfs, name) // the first series: kind="gc"
		}
		return out
	}
	before, after := scrape(first), scrape(last)
	exposed := schedstats.ExportBounds()
	firstAtOrAbove := func(v float64) float64 {
		if k := slices.IndexFunc(exposed, func(b float64) bool { return b >= v }); k >= 0 {
			return exposed[k]
		}
		return exposed[len(exposed)-1]
	}
	promFigures := map[string]float64{}
	for name, metric := range map[string]string{"pause": "gdiag_sched_pause_seconds", "stopping": "gdiag_sched_pause_stopping_seconds"} {
		delta := after[metric].Sub(before[metric])
		for _, q := range []struct {
			label string
			q     float64
		}{{"max", 1}, {"p99", 0.99}} {
			got, w := delta.Quantile(q.q), firstAtOrAbove(want[name+" "+q.label])
			promFigures[name+" "+q.label] = got
			if got != w {
				t.Errorf("the Prometheus exposition's %s %s over the window = %v; want %v, the first exported bound ≥ gdiag sched's %v",
					name, q.label, got, w, want[name+" "+q.label])
			}
		}
	}

	// The dashboard: its stop-the-world queries, run by promtool over the
	// two scrapes.
	checkDashboard(t, before, after, window, promFigures)
}

// checkDashboard runs the Scheduler dashboard's stop-the-world queries
// with promtool over the scraped buckets at the two ends of the window,
// and expects the figures of the exposition (the same as gdiag sched's, on
// the exported buckets).
func checkDashboard(t *testing.T, before, after map[string]schedstats.Histogram, window time.Duration, want map[string]float64) {
	t.Helper()
	bin := promtoolPath(t)
	queries := dashboardQueries(t)
	var b strings.Builder
	fmt.Fprintf(&b, "rule_files: []\nevaluation_interval: %v\ntests:\n  - interval: %v\n    input_series:\n", window, window)
	for metric, h0 := range before {
		h1 := after[metric]
		var c0, c1 uint64
		for i, up := range h0.Bounds[1:] {
			c0, c1 = c0+h0.Counts[i], c1+h1.Counts[i]
			le := "+Inf"
			if !math.IsInf(up, 1) {
				le = fmt.Sprint(up)
			}
			fmt.Fprintf(&b, "      - series: '%s_bucket{job=\"svc\",instance=\"a\",kind=\"gc\",le=\"%s\"}'\n        values: '%d %d'\n", metric, le, c0, c1)
		}
		fmt.Fprintf(&b, "      - series: '%s_count{job=\"svc\",instance=\"a\",kind=\"gc\"}'\n        values: '%d %d'\n", metric, c0, c1)
	}
	b.WriteString("    promql_expr_test:\n")
	vars := strings.NewReplacer("$job", "svc", "$instance", "a", "$__rate_interval", window.String())
	checked := 0
	for _, q := range queries {
		name := ""
		switch {
		case strings.Contains(q.legend, "total max"):
			name = "pause max"
		case strings.Contains(q.legend, "stopping max"):
			name = "stopping max"
		case strings.Contains(q.legend, "total p99"):
			name = "pause p99"
		case strings.Contains(q.legend, "stopping p99"):
			name = "stopping p99"
		default:
			continue
		}
		checked++
		fmt.Fprintf(&b, "      - expr: '%s'\n        eval_time: %v\n        exp_samples:\n          - labels: '{instance=\"a\",kind=\"gc\"}'\n            value: %v\n",
			strings.ReplaceAll(vars.Replace(q.expr), "'", "''"), window, want[name])
	}
	if checked != 4 {
		t.Fatalf("found %d stop-the-world queries (max and p99 of the total and of the time to stop) in the dashboard; want 4", checked)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "dashboard_test.yml")
	if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "test", "rules", file).CombinedOutput()
	if err != nil {
		t.Errorf("promtool test rules: the dashboard's stop-the-world queries disagree with the exposition's figures %v: %v\n%s\n%s", want, err, out, b.String())
	}
}

type dashQuery struct{ expr, legend string }

// dashboardQueries returns the targets of the Scheduler dashboard's
// stop-the-world panels, from the committed JSON.
func dashboardQueries(t *testing.T) []dashQuery {
	t.Helper()
	raw, err := os.ReadFile("../../../../dashboards/json/gdiag-scheduler.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr         string `json:"expr"`
				LegendFormat string `json:"legendFormat"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	var out []dashQuery
	for _, p := range d.Panels {
		if strings.HasPrefix(p.Title, "Stop-the-world") {
			for _, tg := range p.Targets {
				out = append(out, dashQuery{tg.Expr, tg.LegendFormat})
			}
		}
	}
	return out
}

// promtoolPath finds promtool. Without it the dashboard check fails when
// GDIAG_E2E=1 (the tools are meant to be installed) and is skipped
// otherwise.
func promtoolPath(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("promtool"); err == nil {
		return p
	}
	if p := filepath.Join(os.Getenv("GDIAG_TOOLS"), "promtool"); os.Getenv("GDIAG_TOOLS") != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("GDIAG_E2E") == "1" {
		t.Fatal("promtool not found in PATH or GDIAG_TOOLS; run scripts/install-prometheus")
	}
	t.Skip("promtool not found: the dashboard's queries are not run (set GDIAG_E2E=1 to make this a failure)")
	return ""
}
