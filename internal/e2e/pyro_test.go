package e2e_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/pprof/profile"

	"github.com/gdiag/gdiag/apiv1"
)

// pyroCPUType is the profile type ID of Go CPU profiles pushed by pyroscope-go.
const pyroCPUType = "process_cpu:cpu:nanoseconds:cpu:nanoseconds"

// TestPyroscopeDemoPoolLabels runs a real Pyroscope server, points the demo
// service's continuous profiler at it and reads back, through the querier
// API, CPU samples labelled with the demo's pool names.
func TestPyroscopeDemoPoolLabels(t *testing.T) {
	bin := pyroBinary(t)
	base := pyroStartServer(t, bin)
	demo := pyroStartDemo(t, "-pyroscope-url", base, "-load", "50")
	defer demo.stop(t)

	start := time.Now().Add(-time.Minute).UnixMilli()
	var services, pools []string
	var batchTotal int64
	// Uploads come every 2 s; the bound is for a machine busy with builds.
	began := time.Now()
	deadline := began.Add(75 * time.Second)
	for time.Now().Before(deadline) {
		end := time.Now().Add(time.Minute).UnixMilli()
		services = pyroLabelValues(t, base, "service_name", start, end)
		pools = pyroLabelValues(t, base, "pool", start, end)
		if slices.Contains(services, "gdiag-demo") && slices.Contains(pools, "batch") {
			batchTotal = pyroMergedTotal(t, base, `{service_name="gdiag-demo", pool="batch"}`, start, end)
			if batchTotal > 0 {
				break
			}
		}
		time.Sleep(time.Second)
	}
	if !slices.Contains(services, "gdiag-demo") {
		t.Fatalf("service_name values = %q; want gdiag-demo among them", services)
	}
	if !slices.Contains(pools, "batch") || !slices.Contains(pools, "http") {
		t.Errorf("pool label values = %q; want batch and http among them", pools)
	}
	if batchTotal <= 0 {
		t.Errorf("SelectMergeStacktraces %s{pool=\"batch\"}: total = %d ns; want > 0", pyroCPUType, batchTotal)
	}
	// While the continuous profiler holds the CPU profiler, the demo's
	// probes endpoint still takes on-demand CPU profiles: it serves
	// exporters/pyroscope.CPUProfile as "cpu".
	code, body := pyroSocketGet(t, demo.agentDir, "/v1/profile/cpu?seconds=1")
	if code != http.StatusOK {
		t.Errorf("/v1/profile/cpu on the demo's socket: status %d (%s); want 200", code, body)
	} else if p, err := profile.ParseData(body); err != nil {
		t.Errorf("/v1/profile/cpu on the demo's socket: %v", err)
	} else if p.SampleType[len(p.SampleType)-1].Type != "cpu" {
		t.Errorf("/v1/profile/cpu sample types = %v; want cpu last", p.SampleType)
	}
	t.Logf("pyroscope: services %q, pools %q, batch CPU %v (after %v)", services, pools, time.Duration(batchTotal), time.Since(began).Round(time.Second))
}

// pyroBinary returns the Pyroscope server built by scripts/build-pyroscope,
// skipping the test unless GDIAG_E2E=1.
func pyroBinary(t *testing.T) string {
	t.Helper()
	if os.Getenv("GDIAG_E2E") != "1" {
		t.Skip("set GDIAG_E2E=1 (scripts/test does) to run against a real Pyroscope server")
	}
	dir := os.Getenv("GDIAG_TOOLS")
	if dir == "" {
		dir = filepath.Join(pyroRepoRoot(t), ".tools", "bin")
	}
	bin := filepath.Join(dir, "pyroscope")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("pyroscope server missing (%v); run scripts/build-pyroscope", err)
	}
	return bin
}

func pyroRepoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// pyroFreePort returns a loopback TCP port that was free a moment ago.
func pyroFreePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("pick a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// pyroStartServer starts Pyroscope on free loopback ports with its data in
// a temporary directory, waits for /ready and returns its base URL. The
// server is stopped (SIGTERM, then SIGKILL) when the test ends.
func pyroStartServer(t *testing.T, bin string) string {
	t.Helper()
	dir := t.TempDir()
	httpPort, grpcPort, gossipPort := pyroFreePort(t), pyroFreePort(t), pyroFreePort(t)
	args := []string{
		"-target=all",
		"-server.http-listen-address=127.0.0.1", "-server.http-listen-port=" + strconv.Itoa(httpPort),
		"-server.grpc-listen-address=127.0.0.1", "-server.grpc-listen-port=" + strconv.Itoa(grpcPort),
		"-memberlist.bind-addr=127.0.0.1", "-memberlist.bind-port=" + strconv.Itoa(gossipPort),
		"-memberlist.advertise-addr=127.0.0.1", "-memberlist.advertise-port=" + strconv.Itoa(gossipPort),
		"-ingester.lifecycler.addr=127.0.0.1", "-distributor.ring.instance-addr=127.0.0.1",
		"-compactor.ring.instance-addr=127.0.0.1", "-query-frontend.instance-addr=127.0.0.1",
		"-query-scheduler.ring.instance-addr=127.0.0.1", "-store-gateway.sharding-ring.instance-addr=127.0.0.1",
		"-overrides-exporter.ring.instance-addr=127.0.0.1",
		"-ingester.min-ready-duration=0s", "-self-profiling.disable-push=true", "-usage-stats.enabled=false",
		"-pyroscopedb.data-path=" + filepath.Join(dir, "db"),
		"-storage.backend=filesystem", "-storage.filesystem.dir=" + filepath.Join(dir, "shared"),
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	logf, err := os.Create(filepath.Join(dir, "pyroscope.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("start pyroscope: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		pyroStopGroup(cmd, exited, 15*time.Second)
		logf.Close()
		if t.Failed() {
			pyroTail(t, "pyroscope", filepath.Join(dir, "pyroscope.log"))
		}
	})
	base := "http://127.0.0.1:" + strconv.Itoa(httpPort)
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-exited:
			t.Fatalf("pyroscope exited before it was ready; log:\n%s", pyroReadTail(filepath.Join(dir, "pyroscope.log")))
		default:
		}
		resp, err := http.Get(base + "/ready")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("pyroscope not ready after 30 s (last: %v); log:\n%s", err, pyroReadTail(filepath.Join(dir, "pyroscope.log")))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// pyroStopGroup sends SIGTERM to the process group, then SIGKILL after grace.
func pyroStopGroup(cmd *exec.Cmd, exited <-chan struct{}, grace time.Duration) {
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(grace):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	}
}

func pyroReadTail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

func pyroTail(t *testing.T, what, path string) {
	t.Logf("%s log tail:\n%s", what, pyroReadTail(path))
}

// pyroDemoBinary builds examples/demo into the test's temporary directory;
// one test here runs the demo, so this is one build per test binary.
func pyroDemoBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "demo")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./examples/demo")
	cmd.Dir = pyroRepoRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./examples/demo: %v\n%s", err, out)
	}
	return bin
}

type pyroDemo struct {
	agentDir string
	cmd      *exec.Cmd
	exited   chan struct{}
	stderr   *bytes.Buffer
	mu       *sync.Mutex
	once     sync.Once
}

// pyroStartDemo starts the demo service with extra flags and waits for its
// "demo: listening on" line.
func pyroStartDemo(t *testing.T, flags ...string) *pyroDemo {
	t.Helper()
	bin := pyroDemoBinary(t)
	// probes refuses a socket directory that others may enter.
	agentDir := filepath.Join(t.TempDir(), "agent")
	if err := os.Mkdir(agentDir, 0o700); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"-listen", "127.0.0.1:0", "-agent-dir", agentDir}, flags...)
	cmd := exec.Command(bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	d := &pyroDemo{agentDir: agentDir, cmd: cmd, exited: make(chan struct{}), stderr: &bytes.Buffer{}, mu: &sync.Mutex{}}
	cmd.Stderr = &pyroLockedWriter{w: d.stderr, mu: d.mu}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start demo: %v", err)
	}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
		_ = cmd.Wait()
		close(d.exited)
	}()
	t.Cleanup(func() { d.stop(t) })
	re := regexp.MustCompile(`^demo: listening on http://127\.0\.0\.1:\d+$`)
	select {
	case line := <-lines:
		if !re.MatchString(line) {
			t.Fatalf("demo's first line = %q; want %q", line, re)
		}
	case <-d.exited:
		t.Fatalf("demo exited before listening; stderr:\n%s", d.logs())
	case <-time.After(30 * time.Second):
		t.Fatalf("demo did not print its address within 30 s; stderr:\n%s", d.logs())
	}
	return d
}

// stop shuts the demo down with SIGTERM (it flushes its exporters), then
// SIGKILL after a grace period.
func (d *pyroDemo) stop(t *testing.T) {
	d.once.Do(func() {
		pyroStopGroup(d.cmd, d.exited, 20*time.Second)
		if t.Failed() {
			t.Logf("demo stderr:\n%s", d.logs())
		}
	})
}

func (d *pyroDemo) logs() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.stderr.String()
	if len(s) > 4000 {
		s = s[len(s)-4000:]
	}
	return s
}

type pyroLockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *pyroLockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// pyroPost calls a Connect (JSON) method of the querier.
func pyroPost(t *testing.T, base, method string, req, resp any) {
	t.Helper()
	body, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/querier.v1.QuerierService/"+method, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("%s: status %d: %s", method, res.StatusCode, data)
	}
	if err := json.Unmarshal(data, resp); err != nil {
		t.Fatalf("%s: decode %s: %v", method, data, err)
	}
}

func pyroLabelValues(t *testing.T, base, name string, start, end int64) []string {
	t.Helper()
	var resp struct {
		Names []string `json:"names"`
	}
	pyroPost(t, base, "LabelValues", map[string]any{"name": name, "start": start, "end": end}, &resp)
	return resp.Names
}

// pyroMergedTotal returns the total CPU time, in nanoseconds, of the merged
// flame graph of the series matching selector.
func pyroMergedTotal(t *testing.T, base, selector string, start, end int64) int64 {
	t.Helper()
	var resp struct {
		Flamegraph struct {
			Names []string `json:"names"`
			Total string   `json:"total"`
		} `json:"flamegraph"`
	}
	pyroPost(t, base, "SelectMergeStacktraces", map[string]any{
		"profile_typeID": pyroCPUType, "label_selector": selector, "start": start, "end": end,
	}, &resp)
	if resp.Flamegraph.Total == "" {
		return 0
	}
	n, err := strconv.ParseInt(resp.Flamegraph.Total, 10, 64)
	if err != nil {
		t.Fatalf("SelectMergeStacktraces: total %q: %v", resp.Flamegraph.Total, err)
	}
	return n
}

// pyroSocketGet sends GET path to the probes endpoint found through the
// discovery file in dir, over its unix socket.
func pyroSocketGet(t *testing.T, dir, path string) (int, []byte) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) != 1 {
		t.Fatalf("discovery files in %s = %v (%v); want one", dir, files, err)
	}
	raw, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	var d apiv1.Discovery
	if err := json.Unmarshal(raw, &d); err != nil || d.Socket == "" {
		t.Fatalf("discovery file %s = %s (%v); want a socket", files[0], raw, err)
	}
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var dl net.Dialer
		return dl.DialContext(ctx, "unix", d.Socket)
	}}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	resp, err := client.Get("http://gdiag" + path)
	if err != nil {
		t.Fatalf("GET %s on %s: %v", path, d.Socket, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: read body: %v", path, err)
	}
	return resp.StatusCode, body
}
