package probes

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/gdiag/gdiag/apiv1"
	"github.com/gdiag/gdiag/pool"
	"github.com/gdiag/gdiag/schedstats"
	"go.uber.org/goleak"
)

// TestAgentLiveData reads every data endpoint of a running agent, fed by
// the real reader, sampler, census and pool registry.
func TestAgentLiveData(t *testing.T) {
	defer goleak.VerifyNone(t)
	p := pool.New("endpoint-test", pool.WithMaxWorkers(2))
	ctx := context.Background()
	for range 3 {
		if err := p.Submit(ctx, func(context.Context) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	defer p.Stop(ctx)
	block := make(chan struct{})
	defer close(block)
	keyed := make(chan struct{})
	if err := p.Go(ctx, pool.Task{Key: "tenant-a", Fn: func(context.Context) error { close(keyed); <-block; return nil }}); err != nil {
		t.Fatal(err)
	}
	<-keyed // running, so the endpoint lists its key

	for range 3 { // a known group for the census
		go func() { <-block }()
	}

	a, err := Start(Options{Dir: filepath.Join(shortTempDir(t), "rt"), Interval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	c, closeIdle := unixClient(a.SocketPath())
	defer closeIdle()
	const base = "http://gdiag"

	var pools apiv1.Pools
	if code := getJSON(t, c, base+"/v1/pools", "", &pools); code != 200 {
		t.Fatalf("GET /v1/pools = %d", code)
	}
	found := false
	for _, ps := range pools.Pools {
		if ps.Name == "endpoint-test" {
			found = ps.MaxWorkers == 2 && ps.Submitted == 4 &&
				len(ps.Keys) == 1 && ps.Keys[0] == apiv1.PoolKey{Key: "tenant-a", Running: 1}
		}
	}
	if !found {
		t.Errorf("pools = %+v; want endpoint-test with MaxWorkers 2, 4 submitted and key tenant-a running 1", pools)
	}

	var g apiv1.Goroutines
	if code := getJSON(t, c, base+"/v1/goroutines?state=chan+receive", "", &g); code != 200 {
		t.Fatalf("GET /v1/goroutines = %d", code)
	}
	most := 0
	for _, grp := range g.Census.Groups {
		if grp.State != "chan receive" {
			t.Errorf("group %+v passed the filter state=chan receive", grp)
		}
		most = max(most, grp.Count)
	}
	if g.Census.Goroutines < 3 || most < 3 {
		t.Errorf("census = %d goroutines, largest chan-receive group %d; want the 3 blocked goroutines grouped", g.Census.Goroutines, most)
	}

	var f apiv1.Findings
	if code := getJSON(t, c, base+"/v1/findings", "", &f); code != 200 || f.Findings == nil {
		t.Errorf("GET /v1/findings = %d %+v; want 200 and a list", code, f)
	}
	var s apiv1.Snapshot
	if code := getJSON(t, c, base+"/v1/snapshot", "", &s); code != 200 {
		t.Fatalf("GET /v1/snapshot = %d", code)
	}
	if s.Snapshot.GOMAXPROCS <= 0 || s.Snapshot.Goroutines.Total < 3 {
		t.Errorf("snapshot = %+v; want live figures", s.Snapshot)
	}
	var info apiv1.Info
	getJSON(t, c, base+"/v1/info", "", &info)
	if info.Reader.Mode == schedstats.SourceNone {
		t.Errorf("info.Reader = %+v; want the reader's mode", info.Reader)
	}
}

// TestInfiniteBoundsOnTheWire: the runtime's histograms start at -Inf and
// end at +Inf. /v1/snapshot and /v1/history send them as the strings
// "-Inf" and "+Inf", which any JSON decoder accepts and
// schedstats.Histogram decodes back into infinities, so that a quantile
// in the first bucket reads as that bucket's finite bound.
func TestInfiniteBoundsOnTheWire(t *testing.T) {
	defer goleak.VerifyNone(t)
	snap := schedstats.Snapshot{Time: time.Unix(1700000000, 0).UTC(),
		SchedLatency: schedstats.Histogram{Bounds: []float64{math.Inf(-1), 0, 1e-6, math.Inf(1)}, Counts: []uint64{0, 5, 1}}}
	src := source{
		latest:  func() (schedstats.Snapshot, bool) { return snap, true },
		history: func() []schedstats.Snapshot { return []schedstats.Snapshot{snap} },
	}
	h := newAPI(src, time.Second, nil, nil, context.Background())
	for _, path := range []string{"/v1/snapshot", "/v1/history"} {
		body := get(t, h, path).Body.Bytes()
		if !bytes.Contains(body, []byte(`"bounds":["-Inf",0,0.000001,"+Inf"]`)) {
			t.Errorf("GET %s = %s; want the bounds [\"-Inf\",0,0.000001,\"+Inf\"]", path, body)
		}
		var generic any
		if err := json.Unmarshal(body, &generic); err != nil {
			t.Errorf("GET %s: a generic JSON decoder fails: %v", path, err)
		}
	}
	var s apiv1.Snapshot
	if err := json.Unmarshal(get(t, h, "/v1/snapshot").Body.Bytes(), &s); err != nil {
		t.Fatal(err)
	}
	b := s.Snapshot.SchedLatency.Bounds
	if !math.IsInf(b[0], -1) || !math.IsInf(b[3], 1) {
		t.Errorf("decoded bounds = %v; want -Inf and +Inf at the ends", b)
	}
	if p50 := s.Snapshot.SchedLatency.Quantile(0.5); p50 < 0 || p50 > 1e-6 {
		t.Errorf("p50 of the decoded histogram = %v; want it inside the first filled bucket [0, 1e-06]", p50)
	}
	if !math.IsInf(snap.SchedLatency.Bounds[0], -1) {
		t.Error("serving the snapshot modified the sampler's histogram")
	}
}

func TestHandlerWithSampler(t *testing.T) {
	defer goleak.VerifyNone(t)
	s := schedstats.NewSampler(processReader().Read, schedstats.SamplerOptions{Size: 4})
	s.SampleNow()
	s.SampleNow()
	h := Handler(HandlerOptions{Sampler: s})
	var hist apiv1.History
	decode(t, get(t, h, "/v1/history"), &hist)
	if len(hist.Snapshots) != 2 {
		t.Errorf("history = %d snapshots; want the sampler's 2", len(hist.Snapshots))
	}
}

func TestAgentFlight(t *testing.T) {
	defer goleak.VerifyNone(t)
	a, err := Start(Options{Dir: filepath.Join(shortTempDir(t), "rt"), Flight: &FlightOptions{}})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	// A second recorder in the same process is refused, and Start
	// leaves nothing running behind it.
	if b, err := Start(Options{Dir: filepath.Join(shortTempDir(t), "rt"), Flight: &FlightOptions{}}); !errors.Is(err, ErrFlightActive) {
		t.Errorf("second Start with a flight recorder = %v; want ErrFlightActive", err)
		if b != nil {
			b.Close()
		}
	}
	c, closeIdle := unixClient(a.SocketPath())
	defer closeIdle()
	resp, err := c.Get("http://gdiag/v1/flight")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.HasPrefix(body, []byte("go 1.")) {
		t.Errorf("GET /v1/flight = %d, %d bytes starting %q; want 200 and a trace", resp.StatusCode, len(body), body[:min(len(body), 16)])
	}
	a.Close()

	// A recorder passed to Handler but not started answers 409.
	fr, err := NewFlightRecorder(FlightOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rec := get(t, Handler(HandlerOptions{Flight: fr}), "/v1/flight"); rec.Code != 409 {
		t.Errorf("GET /v1/flight with a stopped recorder = %d; want 409", rec.Code)
	}
	if rec := get(t, Handler(HandlerOptions{}), "/v1/flight"); rec.Code != 404 {
		t.Errorf("GET /v1/flight without a recorder = %d; want 404", rec.Code)
	}
}
