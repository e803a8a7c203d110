package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/google/pprof/profile"
	"go.uber.org/goleak"

	"github.com/gdiag/gdiag/apiv1"
	"github.com/gdiag/gdiag/internal/e2etest"
)

// pyroCPUType is the profile type ID of Go CPU profiles pushed by pyroscope-go.
const pyroCPUType = "process_cpu:cpu:nanoseconds:cpu:nanoseconds"

// TestPyroscopeDemoPoolLabels runs a real Pyroscope server, points the demo
// service's continuous profiler at it and reads back, through the querier
// API, CPU samples labelled with the demo's pool names.
func TestPyroscopeDemoPoolLabels(t *testing.T) {
	e2etest.RequireE2E(t, "run against a real Pyroscope server")
	// Registered first, so it runs after the cleanups that stop the processes.
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
	bin := e2etest.Tool(t, "pyroscope", "run scripts/build-pyroscope (scripts/setup does)")
	base := pyroStartServer(t, bin)
	demo := e2etest.StartDemoT(t, nil, "-pyroscope-url", base, "-load", "50")

	start := time.Now().Add(-time.Minute).UnixMilli()
	var services, pools []string
	var batchTotal int64
	// Uploads come every 2 s; the bound is for a machine busy with builds.
	began := time.Now()
	deadline := began.Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		end := time.Now().Add(time.Minute).UnixMilli()
		services = pyroLabelValues(t, base, "service_name", start, end)
		pools = pyroLabelValues(t, base, "pool", start, end)
		if slices.Contains(services, "gdiag-demo") && slices.Contains(pools, "batch") && slices.Contains(pools, "http") {
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
	code, body := pyroSocketGet(t, demo.AgentDir, "/v1/profile/cpu?seconds=1")
	if code != http.StatusOK {
		t.Errorf("/v1/profile/cpu on the demo's socket: status %d (%s); want 200", code, body)
	} else if p, err := profile.ParseData(body); err != nil {
		t.Errorf("/v1/profile/cpu on the demo's socket: %v", err)
	} else if p.SampleType[len(p.SampleType)-1].Type != "cpu" {
		t.Errorf("/v1/profile/cpu sample types = %v; want cpu last", p.SampleType)
	}
	t.Logf("pyroscope: services %q, pools %q, batch CPU %v (after %v)", services, pools, time.Duration(batchTotal), time.Since(began).Round(time.Second))
}

// pyroStartServer starts Pyroscope on free loopback ports with its data in
// a temporary directory, waits for /ready and returns its base URL. The
// server is stopped when the test ends.
func pyroStartServer(t *testing.T, bin string) string {
	t.Helper()
	dir := t.TempDir()
	httpPort, grpcPort, gossipPort := e2etest.FreePort(t), e2etest.FreePort(t), e2etest.FreePort(t)
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
	p := e2etest.StartT(t, "pyroscope", cmd)
	base := "http://127.0.0.1:" + strconv.Itoa(httpPort)
	e2etest.WaitHTTP(t, p, base+"/ready", 60*time.Second)
	return base
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
