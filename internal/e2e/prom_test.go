package e2e_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// TestPrometheusScrapesDemo runs the demo service and a real Prometheus
// server (Debian's, installed by scripts/install-prometheus) scraping its
// /metrics every second, then reads the scheduler and pool series back
// through Prometheus's HTTP API.
func TestPrometheusScrapesDemo(t *testing.T) {
	if os.Getenv("GDIAG_E2E") != "1" {
		t.Skip("set GDIAG_E2E=1 (scripts/test does) to run Prometheus against the demo service")
	}
	bin := promBinary(t)
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })

	demo := promStartDemo(t)
	target := strings.TrimPrefix(demo.url, "http://")

	// The exposition itself first: a failure here is easier to read than an
	// empty Prometheus query.
	body := promGet(t, demo.url+"/metrics")
	for _, want := range []string{"gdiag_sched_gomaxprocs ", `gdiag_pool_tasks_total{outcome="completed",pool="http"}`} {
		if !strings.Contains(body, want) {
			t.Fatalf("demo /metrics lacks %q; got:\n%s", want, promHead(body, 40))
		}
	}

	prom := promStartServer(t, bin, target)
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
	if tg := targets.Data.ActiveTargets[0]; tg.Health != "up" || tg.ScrapeURL != demo.url+"/metrics" {
		t.Errorf("target = %s health %q (error %q); want %s/metrics health \"up\"", tg.ScrapeURL, tg.Health, tg.LastError, demo.url)
	}
}

// promBinary returns the Prometheus server's path; scripts/install-prometheus
// puts it in /usr/bin.
func promBinary(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/prometheus", filepath.Join(os.Getenv("GDIAG_TOOLS"), "prometheus")} {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	if p, err := exec.LookPath("prometheus"); err == nil {
		return p
	}
	t.Fatal("prometheus not found in /usr/bin, GDIAG_TOOLS or PATH; run scripts/install-prometheus (scripts/setup does)")
	return ""
}

// promRepoRoot is the module root, two levels above this package.
func promRepoRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		t.Fatalf("module root not found at %s: %v", dir, err)
	}
	return dir
}

// promDemoBinary builds examples/demo into the test's temporary directory;
// only one test here runs the demo, and the build cache makes this cheap.
func promDemoBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "demo")
	cmd := exec.Command("go", "build", "-o", bin, "./examples/demo")
	cmd.Dir = promRepoRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./examples/demo: %v\n%s", err, out)
	}
	return bin
}

// promProc is a child process in its own process group, with its output
// kept in a file for failure reports.
type promProc struct {
	name   string
	cmd    *exec.Cmd
	log    string
	exited chan struct{}
}

// promStart starts bin in a new process group with its output going to a log
// file (and stdout also to stdout when given), and stops it at cleanup: SIGTERM to
// the group, then SIGKILL after grace.
func promStart(t *testing.T, name string, stdout io.Writer, bin string, args ...string) *promProc {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), name+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Stderr = logf
	cmd.Stdout = logf
	if stdout != nil {
		cmd.Stdout = io.MultiWriter(logf, stdout)
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	p := &promProc{name: name, cmd: cmd, log: logPath, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait() // also waits for stdout to be copied
		logf.Close()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.stop(15 * time.Second)
		if t.Failed() {
			t.Logf("%s output (tail):\n%s", name, p.tail())
		}
	})
	return p
}

func (p *promProc) stop(grace time.Duration) {
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.exited:
		return
	case <-time.After(grace):
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.exited
}

func (p *promProc) tail() string {
	b, _ := os.ReadFile(p.log)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// promLines is an io.Writer that passes complete lines to a channel, dropping
// them when nobody listens.
type promLines struct {
	mu  sync.Mutex
	buf []byte
	ch  chan string
}

func (l *promLines) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, b...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			return len(b), nil
		}
		select {
		case l.ch <- string(l.buf[:i]):
		default:
		}
		l.buf = l.buf[i+1:]
	}
}

type promDemo struct {
	*promProc
	url string
}

// promStartDemo starts the demo service on a free loopback port and returns
// its base URL once it has printed it.
func promStartDemo(t *testing.T) promDemo {
	t.Helper()
	bin := promDemoBinary(t)
	// probes refuses a socket directory that others may enter.
	agentDir := filepath.Join(t.TempDir(), "agent")
	if err := os.Mkdir(agentDir, 0o700); err != nil {
		t.Fatal(err)
	}
	lines := &promLines{ch: make(chan string, 1)}
	// -duration bounds the demo's life should this test binary die.
	p := promStart(t, "demo", lines, bin, "-listen", "127.0.0.1:0", "-agent-dir", agentDir, "-load", "50", "-duration", "5m")
	re := regexp.MustCompile(`^demo: listening on (http://127\.0\.0\.1:\d+)$`)
	select {
	case line := <-lines.ch:
		m := re.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("demo's first line = %q; want a match for %s", line, re)
		}
		return promDemo{p, m[1]}
	case <-p.exited:
		t.Fatalf("demo exited before listening:\n%s", p.tail())
	case <-time.After(30 * time.Second):
		t.Fatalf("demo did not print its address within 30s:\n%s", p.tail())
	}
	return promDemo{}
}

type promServer struct {
	*promProc
	url string
}

// promFreePort returns a loopback port that was free a moment ago.
func promFreePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// promStartServer writes a configuration scraping target every second, starts
// Prometheus on a free loopback port with its TSDB in a temporary directory,
// and waits until it is ready.
func promStartServer(t *testing.T, bin, target string) promServer {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	conf := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: demo
    static_configs:
      - targets: [%q]
`, target)
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(promFreePort(t)))
	p := promStart(t, "prometheus", nil, bin,
		"--config.file="+cfg,
		"--web.listen-address="+addr,
		"--storage.tsdb.path="+filepath.Join(dir, "tsdb"),
	)
	s := promServer{p, "http://" + addr}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(s.url + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		select {
		case <-p.exited:
			t.Fatalf("prometheus exited before it was ready:\n%s", p.tail())
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus not ready at %s within 30s (last error %v):\n%s", s.url, err, p.tail())
		}
	}
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
		case <-s.exited:
			t.Fatalf("prometheus exited:\n%s", s.tail())
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
