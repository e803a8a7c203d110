package e2e_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gdiag/gdiag/internal/e2etest"
)

// TestPrometheusScrapesDemo runs the demo service and a real Prometheus
// server (Debian's, installed by scripts/install-prometheus) scraping its
// /metrics every second, then reads the scheduler and pool series back
// through Prometheus's HTTP API.
func TestPrometheusScrapesDemo(t *testing.T) {
	e2etest.RequireE2E(t, "run Prometheus against the demo service")
	bin := promBinary(t)
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })

	demo := e2etest.StartDemoT(t, nil, "-load", "50")
	target := demo.Addr()

	// The exposition itself first: a failure here is easier to read than an
	// empty Prometheus query.
	body := promGet(t, demo.URL+"/metrics")
	for _, want := range []string{"gdiag_sched_gomaxprocs ", `gdiag_pool_tasks_total{outcome="completed",pool="http"}`} {
		if !strings.Contains(body, want) {
			t.Fatalf("demo /metrics lacks %q; got:\n%s", want, promHead(body, 40))
		}
	}

	prom := promStartServer(t, bin, target, nil)
	deadline := time.Now().Add(60 * time.Second)

	// Scheduler series.
	for _, q := range []string{
		`gdiag_sched_gomaxprocs`,
		`gdiag_sched_goroutines{state="running"}`,
		`gdiag_sched_latency_seconds_bucket{le="+Inf"}`,
		`gdiag_sched_latency_seconds_bucket{le="0.01"}`,
	} {
		v := promPollValue(t, prom, q, deadline, func(v float64) bool { return v >= 0 })
		t.Logf("%s = %g", q, v)
	}
	if v := promPollValue(t, prom, `gdiag_sched_gomaxprocs`, deadline, func(v float64) bool { return v >= 1 }); v < 1 {
		t.Errorf("gdiag_sched_gomaxprocs = %g; want ≥ 1", v)
	}
	if v := promPollValue(t, prom, `gdiag_sched_latency_seconds_count`, deadline, func(v float64) bool { return v > 0 }); v <= 0 {
		t.Errorf("gdiag_sched_latency_seconds_count = %g; want > 0", v)
	}

	// Pool series: the load generator keeps the http pool busy, so its
	// completed-task counter must rise between two scrapes.
	const completed = `gdiag_pool_tasks_total{pool="http",outcome="completed"}`
	first := promPollValue(t, prom, completed, deadline, func(float64) bool { return true })
	later := promPollValue(t, prom, completed, deadline, func(v float64) bool { return v > first })
	if later <= first {
		t.Errorf("%s went from %g to %g; want an increase", completed, first, later)
	}
	t.Logf("%s: %g then %g", completed, first, later)
	if v := promPollValue(t, prom, `sum(increase(gdiag_pool_tasks_total{pool="http"}[10s]))`, deadline, func(v float64) bool { return v > 0 }); v <= 0 {
		t.Errorf("increase of gdiag_pool_tasks_total{pool=http} over 10s = %g; want > 0", v)
	}

	// The target is healthy.
	var targets struct {
		Status string `json:"status"`
		Data   struct {
			ActiveTargets []struct {
				ScrapeURL string `json:"scrapeUrl"`
				Health    string `json:"health"`
				LastError string `json:"lastError"`
			} `json:"activeTargets"`
		} `json:"data"`
	}
	promGetJSON(t, prom.url+"/api/v1/targets", &targets)
	if len(targets.Data.ActiveTargets) != 1 {
		t.Fatalf("/api/v1/targets lists %d active targets; want 1", len(targets.Data.ActiveTargets))
	}
	if tg := targets.Data.ActiveTargets[0]; tg.Health != "up" || tg.ScrapeURL != demo.URL+"/metrics" {
		t.Errorf("target = %s health %q (error %q); want %s/metrics health \"up\"", tg.ScrapeURL, tg.Health, tg.LastError, demo.URL)
	}
}

// promBinary returns the Prometheus server's path; scripts/install-prometheus
// puts it in /usr/bin.
func promBinary(t *testing.T) string {
	t.Helper()
	return e2etest.Tool(t, "prometheus", "run scripts/install-prometheus (scripts/setup does)")
}

type promServer struct {
	*e2etest.Proc
	url string
}

// promStartServer writes a configuration scraping target every second,
// with rules (when not nil) loaded and evaluated every second, starts
// Prometheus on a free loopback port with its TSDB in a temporary
// directory, and waits until it is ready.
func promStartServer(t *testing.T, bin, target string, rules []byte) promServer {
	t.Helper()
	return promStartServerScrape(t, bin, target, rules, "1s")
}

// promStartServerScrape is promStartServer with another scrape interval
// (and timeout), such as "973ms".
func promStartServerScrape(t *testing.T, bin, target string, rules []byte, scrape string) promServer {
	t.Helper()
	dir := t.TempDir()
	ruleFiles := ""
	if rules != nil {
		path := filepath.Join(dir, "gdiag.rules.yml")
		if err := os.WriteFile(path, rules, 0o644); err != nil {
			t.Fatal(err)
		}
		ruleFiles = fmt.Sprintf("rule_files:\n  - %q\n", path)
	}
	cfg := filepath.Join(dir, "prometheus.yml")
	conf := fmt.Sprintf(`global:
  scrape_interval: %[3]s
  scrape_timeout: %[3]s
  evaluation_interval: 1s
%[1]sscrape_configs:
  - job_name: demo
    static_configs:
      - targets: [%[2]q]
`, ruleFiles, target, scrape)
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := e2etest.FreeAddr(t)
	p := e2etest.StartT(t, "prometheus", exec.Command(bin,
		"--config.file="+cfg,
		"--web.listen-address="+addr,
		"--storage.tsdb.path="+filepath.Join(dir, "tsdb"),
	))
	s := promServer{p, "http://" + addr}
	e2etest.WaitHTTP(t, p, s.url+"/-/ready", 60*time.Second)
	return s
}

// promPollValue runs an instant query until it returns one sample whose
// value satisfies ok, and returns that value; it fails the test at deadline.
func promPollValue(t *testing.T, s promServer, query string, deadline time.Time, ok func(float64) bool) float64 {
	t.Helper()
	var last string
	for {
		v, n, err := promQuery(s.url, query)
		switch {
		case err != nil:
			last = err.Error()
		case n != 1:
			last = fmt.Sprintf("%d samples", n)
		case ok(v):
			return v
		default:
			last = fmt.Sprintf("value %g", v)
		}
		if time.Now().After(deadline) {
			t.Fatalf("query %s: no acceptable answer before the deadline (last: %s)", query, last)
		}
		select {
		case <-s.Done():
			t.Fatalf("prometheus exited:\n%s", s.Tail(4000))
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// promQuery runs an instant query and returns the first sample's value and
// the number of samples.
func promQuery(base, query string) (float64, int, error) {
	resp, err := http.Get(base + "/api/v1/query?query=" + url.QueryEscape(query))
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
	if len(r.Data.Result) == 0 {
		return 0, 0, nil
	}
	s, _ := r.Data.Result[0].Value[1].(string)
	v, err := strconv.ParseFloat(s, 64)
	return v, len(r.Data.Result), err
}

func promGet(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s\n%s", u, resp.Status, promHead(string(b), 20))
	}
	return string(b)
}

func promGetJSON(t *testing.T, u string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(promGet(t, u)), v); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
}

// promHead returns the first n lines of s.
func promHead(s string, n int) string {
	sc := bufio.NewScanner(strings.NewReader(s))
	var b strings.Builder
	for i := 0; i < n && sc.Scan(); i++ {
		b.WriteString(sc.Text() + "\n")
	}
	return b.String()
}
