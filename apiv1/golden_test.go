package apiv1_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/gdiag/gdiag/apiv1"
	"github.com/gdiag/gdiag/pool"
	"github.com/gdiag/gdiag/probes"
	"github.com/gdiag/gdiag/schedstats"
)

var update = flag.Bool("update", false, "rewrite testdata/*.json from the bodies the agent serves now")

// goldenRead fills snapshots a second apart whose threads climb, so that
// the history holds a thread-growth finding, with the runtime's layout of
// histograms and its infinite outer bounds.
func goldenRead() schedstats.ReadFunc {
	n := 0
	return func(s *schedstats.Snapshot) {
		h := schedstats.Histogram{Bounds: []float64{math.Inf(-1), 0, 1e-6, 1e-3, math.Inf(1)}, Counts: []uint64{0, uint64(10 * n), 5, 1}}
		*s = schedstats.Snapshot{
			Time:       time.Date(2026, 1, 2, 3, 4, 5+n, 0, time.UTC),
			GOMAXPROCS: 2, IdlePs: 1, Threads: 10 + 30*n, IdleThreads: 2, MsCreated: uint64(10 + 30*n),
			Goroutines:       schedstats.GoroutineStates{Total: 20, Running: 1, Runnable: 1, Waiting: 18},
			SystemGoroutines: 4, GoroutinesCreated: uint64(100 * n),
			SchedLatency: h, GCPauses: h, OtherPauses: h, GCStopping: h, OtherStopping: h, MutexWait: time.Duration(n) * time.Millisecond,
			Sources: schedstats.Sources{Procs: schedstats.SourceSched, Threads: schedstats.SourceSched, RunQueues: schedstats.SourceSched,
				Goroutines: schedstats.SourceRuntimeMetrics, Latency: schedstats.SourceRuntimeMetrics,
				Pauses: schedstats.SourceRuntimeMetrics, Mutex: schedstats.SourceRuntimeMetrics},
		}
		n++
	}
}

func goldenBlocked(ch chan struct{}) { <-ch }

// TestGoldenBodies pins every JSON body of /v1 and the discovery file in
// testdata. Values that differ between runs and machines (pids, times,
// Go version, goroutine ids, file paths, line numbers, runtime frames)
// are replaced by placeholders first; names, types and structure are
// compared as served. go test -run TestGoldenBodies -update rewrites the
// files; a change to them is a change to the wire (see the package
// documentation's compatibility rule).
func TestGoldenBodies(t *testing.T) {
	p := pool.New("golden", pool.WithMaxWorkers(1), pool.WithStats(false), pool.WithIdleTimeout(time.Hour))
	defer p.Stop(context.Background())
	for i := range 3 {
		err := p.Submit(context.Background(), func(context.Context) error {
			if i == 2 {
				return errors.New("failed")
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for st := p.Stats(); st.Completed+st.Failed < 3 || st.Running > 0; st = p.Stats() {
		time.Sleep(time.Millisecond)
	}
	// A pool with every overload control, idle, so that its body is fixed.
	ctl := pool.New("golden-controls", pool.WithMaxWorkers(8), pool.WithStats(false), pool.WithIdleTimeout(time.Hour),
		pool.WithRateLimit(pool.Rate{PerSecond: 100, Burst: 10}), pool.WithKeyRateLimit(pool.Rate{PerSecond: 5, Burst: 1}),
		pool.WithAdaptiveLimit(pool.AdaptiveOptions{}), pool.WithShedding(pool.ShedOptions{}),
		pool.WithBreaker(pool.BreakerOptions{PerKey: true}))
	defer ctl.Stop(context.Background())
	block := make(chan struct{})
	defer close(block)
	for range 3 {
		go goldenBlocked(block)
	}

	s := schedstats.NewSampler(goldenRead(), schedstats.SamplerOptions{Size: 4})
	for range 4 {
		s.SampleNow()
	}
	srv := httptest.NewServer(probes.Handler(probes.HandlerOptions{Sampler: s, MaxDuration: time.Minute}))
	defer srv.Close()
	defer srv.Client().CloseIdleConnections()

	bodies := []struct {
		name, path string
		code       int
		into       any
	}{
		{"info", "/v1/info", 200, &apiv1.Info{}},
		{"snapshot", "/v1/snapshot", 200, &apiv1.Snapshot{}},
		{"history", "/v1/history", 200, &apiv1.History{}},
		{"findings", "/v1/findings", 200, &apiv1.Findings{}},
		{"goroutines", "/v1/goroutines?state=chan+receive&min_wait=0s", 200, &apiv1.Goroutines{}},
		{"pools", "/v1/pools", 200, &apiv1.Pools{}},
		{"error", "/v1/nope", 404, &apiv1.Error{}},
	}
	for _, b := range bodies {
		resp, err := srv.Client().Get(srv.URL + b.path)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != b.code {
			t.Fatalf("GET %s = %d %s; want %d", b.path, resp.StatusCode, raw, b.code)
		}
		checkGolden(t, b.name, raw, b.into)
	}

	dir := filepath.Join(shortTempDir(t), "rt")
	a, err := probes.Start(probes.Options{Dir: dir, TCPAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	raw, err := os.ReadFile(a.DiscoveryPath())
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "discovery", raw, &apiv1.Discovery{})

	// The operations, which only the agent offers, over its socket.
	prevGC, prevLimit := debug.SetGCPercent(100), debug.SetMemoryLimit(math.MaxInt64)
	defer debug.SetGCPercent(prevGC)
	defer debug.SetMemoryLimit(prevLimit)
	sock := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", a.SocketPath())
	}}}
	defer sock.CloseIdleConnections()
	ops := []struct {
		name, method, path string
		into               any
	}{
		{"memstats", http.MethodGet, "/v1/memstats", &apiv1.MemStats{}},
		{"gc", http.MethodPost, "/v1/gc", &apiv1.GC{}},
		{"gcpercent", http.MethodPost, "/v1/gcpercent?percent=100", &apiv1.GCPercent{}},
		{"memlimit", http.MethodPost, "/v1/memlimit?bytes=off", &apiv1.MemoryLimit{}},
	}
	for _, op := range ops {
		req, _ := http.NewRequest(op.method, "http://gdiag"+op.path, nil)
		resp, err := sock.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s %s = %d %s", op.method, op.path, resp.StatusCode, raw)
		}
		checkGolden(t, op.name, raw, op.into)
	}
}

// checkGolden decodes raw strictly into into (the body and its wire type
// must agree field for field), normalises it and compares it with
// testdata/name.json.
func checkGolden(t *testing.T, name string, raw []byte, into any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		t.Errorf("%s: the body does not decode strictly into %T: %v\n%s", name, into, err, raw)
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	got, err := json.MarshalIndent(normalize("", v), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	file := filepath.Join("testdata", name+".json")
	if *update {
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (go test -run TestGoldenBodies -update creates it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s body changed; a change to the /v1 wire must follow the compatibility rule (then go test -run TestGoldenBodies -update)\ngot:\n%s\nwant:\n%s", name, got, want)
	}
}

// volatile are the keys whose values differ between runs or machines.
var volatile = map[string]bool{
	"memStats": true, "heapBefore": true, "heapAfter": true, "took": true,
	"pid": true, "goVersion": true, "module": true, "gomaxprocs": true, "numCPU": true,
	"started": true, "uptime": true, "mirror": true, "fallback": true, "reason": true,
	"env": true, "default": true, "ids": true, "matched": true, "omitted": true, "socket": true, "tcpAddr": true, "token": true, "line": true,
}

// normalize replaces volatile values by placeholders of the same JSON
// type, file paths by their base name, and keeps, of a census, the group
// of this test's goroutines with its own frames only.
func normalize(key string, v any) any {
	if key == "memStats" { // every figure varies; the names and their types are the wire
		return zeroNumbers(v)
	}
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			v[k] = normalize(k, x)
		}
		if groups, ok := v["groups"].([]any); ok {
			v["groups"] = ownGroups(groups)
			if _, ok := v["goroutines"].(float64); ok {
				v["goroutines"], v["time"] = 0.0, "<time>"
			}
		}
		if mode, ok := v["mode"].(string); ok && key == "reader" && mode != "" {
			v["mode"] = "<mode>"
		}
		return v
	case []any:
		if volatile[key] {
			return []any{}
		}
		for i, x := range v {
			v[i] = normalize("", x)
		}
		return v
	case string:
		switch {
		case volatile[key]:
			return "<" + key + ">"
		case key == "file":
			return path.Base(v)
		}
	case float64:
		if volatile[key] {
			return 0.0
		}
	case bool:
		if volatile[key] {
			return false
		}
	}
	return v
}

// zeroNumbers replaces every number in v by 0 and keeps the rest.
func zeroNumbers(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			v[k] = zeroNumbers(x)
		}
	case []any:
		for i, x := range v {
			v[i] = zeroNumbers(x)
		}
	case float64:
		return 0.0
	}
	return v
}

// ownGroups keeps the census groups created by this package's tests, with
// only the frames of this package: the runtime's frames change with Go.
func ownGroups(groups []any) []any {
	own := []any{}
	for _, g := range groups {
		m, ok := g.(map[string]any)
		if !ok {
			continue
		}
		cb, _ := m["createdBy"].(map[string]any)
		if fn, _ := cb["func"].(string); !strings.Contains(fn, "apiv1_test") {
			continue
		}
		var frames []any
		for _, f := range m["frames"].([]any) {
			if fn, _ := f.(map[string]any)["func"].(string); strings.Contains(fn, "apiv1_test") {
				frames = append(frames, f)
			}
		}
		m["frames"] = frames
		own = append(own, m)
	}
	return own
}

// TestGoldenNormalizeKeepsTheWire checks the normalisation against a body
// with every kind of value: it must keep names and structure.
func TestGoldenNormalizeKeepsTheWire(t *testing.T) {
	var v any
	json.Unmarshal([]byte(`{"pid":7,"started":"x","fallback":true,"ids":[1,2],"name":"keep","file":"/a/b/c.go","n":3}`), &v)
	got, _ := json.Marshal(normalize("", v))
	if want := `{"fallback":false,"file":"c.go","ids":[],"n":3,"name":"keep","pid":0,"started":"\u003cstarted\u003e"}`; string(got) != want {
		t.Errorf("normalize = %s; want %s", got, want)
	}
}
