package e2e_test

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gdiag/gdiag/internal/e2etest"

	"github.com/gdiag/gdiag/dashboards"
)

// TestDashboardQueries runs every panel query of every gdiag dashboard,
// with Grafana's template variables substituted, against a real Prometheus
// scraping the demo service under load, and requires each to return at
// least one finite sample within a bounded time.
//
// No panel is exempt. Panels that stay flat on a healthy process still
// return data because the exporter emits their series at zero: Panics
// and Rejections (gdiag_pool_tasks_total{outcome="panicked"} and
// gdiag_pool_tasks_rejected_total are exported for every pool from the
// start). Percentile panels need observations in the window; the demo's
// load gives the pools and the scheduler those, and its garbage gives GC
// pauses. gdiag_sched_local_runqueue (deep mode only) is in no panel.
func TestDashboardQueries(t *testing.T) {
	e2etest.RequireE2E(t, "run the dashboards' queries against Prometheus and the demo service")
	bin := promBinary(t)
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })

	queries := dashQueries(t)
	demo := e2etest.StartDemoT(t, nil, "-load", "50")
	target := demo.Addr()
	prom := promStartServer(t, bin, target, nil)

	// What Grafana would put in place of each variable with one job and one
	// instance selected and "All" pools. Grafana regex-escapes a single
	// value inside a PromQL string, so "." becomes \\. as here.
	vars := strings.NewReplacer(
		"$job", "demo",
		"$instance", strings.ReplaceAll(regexp.QuoteMeta(target), `\`, `\\`),
		"$pool", ".+",
		"$__rate_interval", "10s",
		"$__interval", "5s",
		"$__range", "1m",
	)

	pending := map[string]string{} // panel description → query
	for _, q := range queries {
		pending[q.where] = vars.Replace(q.expr)
	}
	last := map[string]string{}
	deadline := time.Now().Add(2 * time.Minute)
	for len(pending) > 0 && time.Now().Before(deadline) {
		for where, q := range pending {
			n, finite, err := dashQuery(prom.url, q)
			switch {
			case err != nil:
				last[where] = err.Error()
			case finite > 0:
				t.Logf("%s: %d series, %d finite", where, n, finite)
				delete(pending, where)
			default:
				last[where] = fmt.Sprintf("%d series, none finite", n)
			}
		}
		select {
		case <-prom.Done():
			t.Fatalf("prometheus exited:\n%s", prom.Tail(4000))
		case <-demo.Done():
			t.Fatalf("demo exited:\n%s", demo.Tail(4000))
		case <-time.After(time.Second):
		}
	}
	var failed []string
	for where, q := range pending {
		failed = append(failed, fmt.Sprintf("%s\n\t%s\n\tlast: %s", where, q, last[where]))
	}
	sort.Strings(failed)
	for _, f := range failed {
		t.Errorf("no finite data within 2m: %s", f)
	}
	if len(queries) < 40 {
		t.Errorf("ran %d panel queries; want at least 40", len(queries))
	}
	if t.Failed() {
		return
	}

	// Rejections is flat at zero on a healthy demo; the overload incident
	// fills the http pool's queue, and the panel must then show it. (No
	// incident makes a task panic, so Panics is only checked to return its
	// zero series above; the exporter's own tests cover non-zero counts.)
	rejections := ""
	for _, q := range queries {
		if q.where == "gdiag-pools.json: Rejections [A]" {
			rejections = vars.Replace(q.expr)
		}
	}
	if rejections == "" {
		t.Fatal("no Rejections panel in gdiag-pools.json")
	}
	resp, err := http.Post(demo.URL+"/incident?name=overload", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /incident?name=overload: %s", resp.Status)
	}
	v := promPollValue(t, prom, `max(`+rejections+`)`, time.Now().Add(time.Minute), func(v float64) bool { return v > 0 })
	t.Logf("Rejections during overload: %g/s", v)
}

type dashTarget struct {
	where string // dashboard, panel and refId
	expr  string
}

// dashQueries lists every target of every dashboard as the committed JSON
// has it (dashboards' own golden test keeps the two equal).
func dashQueries(t *testing.T) []dashTarget {
	t.Helper()
	files, err := dashboards.Files()
	if err != nil {
		t.Fatal(err)
	}
	type panel struct {
		Type    string  `json:"type"`
		Title   string  `json:"title"`
		Panels  []panel `json:"panels"`
		Targets []struct {
			Expr  string `json:"expr"`
			RefID string `json:"refId"`
		} `json:"targets"`
	}
	var out []dashTarget
	var walk func(file string, ps []panel)
	walk = func(file string, ps []panel) {
		for _, p := range ps {
			walk(file, p.Panels)
			for _, tg := range p.Targets {
				out = append(out, dashTarget{where: fmt.Sprintf("%s: %s [%s]", file, p.Title, tg.RefID), expr: tg.Expr})
			}
		}
	}
	for name, raw := range files {
		var d struct {
			Panels []panel `json:"panels"`
		}
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		walk(name, d.Panels)
	}
	for _, q := range out {
		if strings.Contains(q.expr, "$__") && !regexp.MustCompile(`\$__(rate_interval|interval|range)\b`).MatchString(q.expr) {
			t.Fatalf("%s uses a Grafana variable this test does not substitute: %s", q.where, q.expr)
		}
	}
	return out
}

// dashQuery runs an instant query and counts the samples and the finite ones.
func dashQuery(base, query string) (n, finite int, err error) {
	client := http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(base + "/api/v1/query?query=" + url.QueryEscape(query))
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return 0, 0, fmt.Errorf("decode: %w", err)
	}
	if r.Status != "success" {
		return 0, 0, fmt.Errorf("status %s: %s", r.Status, r.Error)
	}
	if r.Data.ResultType != "vector" {
		return 0, 0, fmt.Errorf("result type %s; want vector", r.Data.ResultType)
	}
	for _, s := range r.Data.Result {
		str, _ := s.Value[1].(string)
		if v, err := strconv.ParseFloat(str, 64); err == nil && !math.IsNaN(v) && !math.IsInf(v, 0) {
			finite++
		}
	}
	return len(r.Data.Result), finite, nil
}
