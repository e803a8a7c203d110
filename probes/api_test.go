package probes

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gdiag/gdiag/apiv1"
	"github.com/gdiag/gdiag/gdump"
	"github.com/gdiag/gdiag/schedstats"
	"go.uber.org/goleak"
)

func fakeSnapshot() schedstats.Snapshot {
	return schedstats.Snapshot{
		Time:       time.Unix(1700000000, 0).UTC(),
		GOMAXPROCS: 4,
		Threads:    7,
		Goroutines: schedstats.GoroutineStates{Total: 10, Running: 2, Runnable: 1, Waiting: 7},
		Sources:    schedstats.Sources{Procs: schedstats.SourceSched},
	}
}

var fakeFlight = []byte("go 1.26 trace\x00\x00fake")

// fakeSource fills every endpoint with known values, so that each test
// can check the JSON the API returns field by field.
func fakeSource() source {
	snap := fakeSnapshot()
	return source{
		latest:   func() (schedstats.Snapshot, bool) { return snap, true },
		history:  func() []schedstats.Snapshot { return []schedstats.Snapshot{snap, snap} },
		interval: time.Second,
		findings: func() []schedstats.Finding {
			return []schedstats.Finding{{Cause: schedstats.CauseSchedLatency, Severity: schedstats.Warning, Summary: "p99 12ms",
				Evidence: []schedstats.Evidence{{Name: "p99", Value: 0.012, Unit: "seconds", AtMost: true}}}}
		},
		census: func(_ context.Context, f apiv1.CensusFilter, _ time.Duration) (apiv1.Census, error) {
			return apiv1.Census{Goroutines: 3, Matched: 2, Groups: []gdump.Group{
				{State: f.State, Count: 2, MaxWait: f.MinWait, Frames: []gdump.Frame{{Func: "main.f", Line: f.MaxGroups}}},
			}}, nil
		},
		pools: func() []apiv1.Pool {
			return []apiv1.Pool{
				{Name: "io", MaxWorkers: 8, Submitted: 3, Keys: []apiv1.PoolKey{{Key: "tenant-a", Running: 2, Parked: 1}}},
				{Name: "batch", MaxWorkers: 2},
			}
		},
		reader: func() apiv1.ReaderStatus { return apiv1.ReaderStatus{Mode: schedstats.SourceSched, Mirror: "go1.26"} },
		flight: func(w io.Writer) (int64, error) { n, err := w.Write(fakeFlight); return int64(n), err },
	}
}

func get(t *testing.T, h http.Handler, target string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	return rec
}

func decode(t *testing.T, rec *httptest.ResponseRecorder, v any) {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type = %q; want application/json", ct)
	}
	dec := json.NewDecoder(rec.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decode %T: %v", v, err)
	}
}

func TestAPIEndpoints(t *testing.T) {
	defer goleak.VerifyNone(t)
	h := newAPI(fakeSource(), time.Second, nil, nil, context.Background())

	t.Run("info", func(t *testing.T) {
		rec := get(t, h, "/v1/info")
		var info apiv1.Info
		decode(t, rec, &info)
		if info.APIVersion != apiv1.Version || info.PID <= 0 || info.GoVersion == "" || info.GOMAXPROCS <= 0 {
			t.Errorf("info = %+v; want version v1, a pid, a Go version and GOMAXPROCS", info)
		}
		if info.Reader.Mode != schedstats.SourceSched || info.Reader.Mirror != "go1.26" {
			t.Errorf("info.Reader = %+v; want the source's status", info.Reader)
		}
		want := []string{"snapshot", "history", "findings", "goroutines", "pools", "profile", "trace", "flight"}
		if strings.Join(info.Capabilities, ",") != strings.Join(want, ",") {
			t.Errorf("info.Capabilities = %v; want %v", info.Capabilities, want)
		}
		if time.Duration(info.MaxDuration) != time.Second || info.Started.IsZero() || info.Uptime < 0 {
			t.Errorf("info.MaxDuration, Started, Uptime = %v, %v, %v", info.MaxDuration, info.Started, info.Uptime)
		}
	})
	t.Run("snapshot", func(t *testing.T) {
		var s apiv1.Snapshot
		decode(t, get(t, h, "/v1/snapshot"), &s)
		if want := fakeSnapshot(); s.Snapshot.GOMAXPROCS != want.GOMAXPROCS || s.Snapshot.Goroutines != want.Goroutines ||
			!s.Snapshot.Time.Equal(want.Time) || s.Snapshot.Sources != want.Sources {
			t.Errorf("snapshot = %+v; want %+v", s.Snapshot, want)
		}
	})
	t.Run("history", func(t *testing.T) {
		var hs apiv1.History
		decode(t, get(t, h, "/v1/history"), &hs)
		if len(hs.Snapshots) != 2 || time.Duration(hs.Interval) != time.Second || hs.Snapshots[1].Threads != 7 {
			t.Errorf("history = %+v; want 2 snapshots 1s apart", hs)
		}
	})
	t.Run("findings", func(t *testing.T) {
		var f apiv1.Findings
		decode(t, get(t, h, "/v1/findings"), &f)
		if len(f.Findings) != 1 || f.Findings[0].Cause != "sched-latency" || f.Findings[0].Evidence[0].Value != 0.012 {
			t.Errorf("findings = %+v; want the one fake finding", f)
		}
	})
	t.Run("pools", func(t *testing.T) {
		var p apiv1.Pools
		rec := get(t, h, "/v1/pools")
		raw := rec.Body.String()
		decode(t, rec, &p)
		if len(p.Pools) != 2 || p.Pools[0].Name != "io" || p.Pools[0].Submitted != 3 {
			t.Errorf("pools = %+v; want pools io and batch", p)
		}
		if want := []apiv1.PoolKey{{Key: "tenant-a", Running: 2, Parked: 1}}; len(p.Pools) == 0 || !slices.Equal(p.Pools[0].Keys, want) {
			t.Errorf("pools[0].Keys = %+v; want %+v", p.Pools, want)
		}
		// The wire names, and no "keys" at all for a pool without keyed tasks.
		if want := `"keys":[{"key":"tenant-a","running":2,"parked":1}]`; !strings.Contains(raw, want) || strings.Count(raw, `"keys"`) != 1 {
			t.Errorf("GET /v1/pools = %s; want %s once, for pool io only", raw, want)
		}
	})
	t.Run("goroutines", func(t *testing.T) {
		var g apiv1.Goroutines
		decode(t, get(t, h, "/v1/goroutines?min_wait=1m&state=chan+receive&max_groups=5"), &g)
		if time.Duration(g.MinWait) != time.Minute || g.State != "chan receive" || g.MaxGroups != 5 {
			t.Errorf("goroutines = %+v; want the parameters echoed", g)
		}
		c := g.Census
		if c.Goroutines != 3 || len(c.Groups) != 1 || c.Groups[0].State != "chan receive" ||
			c.Groups[0].MaxWait != time.Minute || c.Groups[0].Frames[0].Line != 5 {
			t.Errorf("census = %+v; want the parameters passed to the census", c)
		}
	})
	t.Run("flight", func(t *testing.T) {
		rec := get(t, h, "/v1/flight")
		if rec.Code != 200 || !bytes.Equal(rec.Body.Bytes(), fakeFlight) {
			t.Errorf("GET /v1/flight = %d %q; want 200 and the recorder's bytes", rec.Code, rec.Body.Bytes())
		}
	})
	t.Run("profiles", func(t *testing.T) {
		for _, name := range []string{"heap", "allocs", "mutex", "block", "goroutine", "threadcreate"} {
			rec := get(t, h, "/v1/profile/"+name)
			if rec.Code != 200 || rec.Body.Len() == 0 || rec.Header().Get("Content-Type") != "application/octet-stream" {
				t.Errorf("GET /v1/profile/%s = %d, %d bytes, %q; want 200 and a binary profile",
					name, rec.Code, rec.Body.Len(), rec.Header().Get("Content-Type"))
			}
		}
		rec := get(t, h, "/v1/profile/goroutine?debug=2")
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), "goroutine ") {
			t.Errorf("GET goroutine?debug=2 = %d; want 200 and a text dump", rec.Code)
		}
		rec = get(t, h, "/v1/profile/cpu?duration=50ms")
		if rec.Code != 200 || rec.Body.Len() == 0 {
			t.Errorf("GET cpu?duration=50ms = %d, %d bytes; want 200 and a profile", rec.Code, rec.Body.Len())
		}
	})
	t.Run("trace", func(t *testing.T) {
		rec := get(t, h, "/v1/trace?seconds=0.05")
		if rec.Code != 200 || !bytes.HasPrefix(rec.Body.Bytes(), []byte("go 1.")) {
			t.Errorf("GET /v1/trace = %d, prefix %q; want 200 and a trace", rec.Code, rec.Body.Bytes()[:min(16, rec.Body.Len())])
		}
	})
}

func TestAPIErrors(t *testing.T) {
	defer goleak.VerifyNone(t)
	h := newAPI(fakeSource(), time.Second, nil, nil, context.Background())
	tests := []struct {
		method, target string
		code           int
	}{
		{"GET", "/v1/nope", 404},
		{"GET", "/v2/info", 404},
		{"GET", "/", 404},
		{"GET", "/v1/profile/", 404},
		{"POST", "/v1/info", 405},
		{"DELETE", "/v1/profile/cpu", 405},
		{"GET", "/v1/profile/nope", 400},
		{"GET", "/v1/history?last=-1", 400},
		{"GET", "/v1/history?last=x", 400},
		{"GET", "/v1/profile/cpu?seconds=-1", 400},
		{"GET", "/v1/profile/cpu?seconds=abc", 400},
		{"GET", "/v1/profile/cpu?seconds=NaN", 400},
		{"GET", "/v1/profile/cpu?seconds=1e300", 400},
		{"GET", "/v1/profile/cpu?seconds=0", 400},
		{"GET", "/v1/profile/cpu?duration=2s", 400}, // above the 1s maximum
		{"GET", "/v1/profile/cpu?duration=1s&seconds=1", 400},
		{"GET", "/v1/profile/cpu?debug=1", 400},
		{"GET", "/v1/profile/heap?seconds=1", 400},
		{"GET", "/v1/profile/heap?debug=2", 400},
		{"GET", "/v1/profile/heap?debug=9", 400},
		{"GET", "/v1/trace?duration=-5s", 400},
		{"GET", "/v1/trace?duration=99999h", 400},
		{"GET", "/v1/goroutines?min_wait=x", 400},
		{"GET", "/v1/goroutines?max_groups=-1", 400},
		{"GET", "/v1/goroutines?max_groups=99999999999999999999", 400},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.target, nil))
		if rec.Code != tt.code {
			t.Errorf("%s %s = %d; want %d (%s)", tt.method, tt.target, rec.Code, tt.code, rec.Body)
			continue
		}
		var e apiv1.Error
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error == "" {
			t.Errorf("%s %s body = %q; want a JSON error", tt.method, tt.target, rec.Body)
		}
	}
}

func TestAPIDisabledParts(t *testing.T) {
	h := newAPI(source{}, time.Second, nil, nil, context.Background())
	for _, p := range []string{"snapshot", "history", "findings", "goroutines", "pools", "flight"} {
		if rec := get(t, h, "/v1/"+p); rec.Code != http.StatusNotFound {
			t.Errorf("GET /v1/%s without a source = %d; want 404", p, rec.Code)
		}
	}
	var info apiv1.Info
	decode(t, get(t, h, "/v1/info"), &info)
	if strings.Join(info.Capabilities, ",") != "profile,trace" {
		t.Errorf("Capabilities = %v; want [profile trace]", info.Capabilities)
	}
	src := fakeSource()
	src.flight = func(io.Writer) (int64, error) { return 0, errors.New("not running") }
	if rec := get(t, newAPI(src, time.Second, nil, nil, context.Background()), "/v1/flight"); rec.Code != http.StatusConflict {
		t.Errorf("GET /v1/flight with a failing recorder = %d; want 409", rec.Code)
	}
}

// TestCaptureBusy holds the CPU profiler and the tracer with one request
// each and checks that a second request is refused at once with 409.
func TestCaptureBusy(t *testing.T) {
	defer goleak.VerifyNone(t)
	h := newAPI(fakeSource(), time.Minute, nil, nil, context.Background())
	for _, target := range []string{"/v1/profile/cpu?duration=1m", "/v1/trace?duration=1m"} {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan int)
		go func() {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", target, nil).WithContext(ctx))
			done <- rec.Code
		}()
		busy := &cpuBusy
		if strings.Contains(target, "trace") {
			busy = &traceBusy
		}
		for deadline := time.Now().Add(30 * time.Second); !busy.Load(); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s never started", target)
			}
		}
		rec := get(t, h, target)
		if rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "already running; retry when it ends") {
			t.Errorf("second GET %s = %d %s; want 409 and a clear message", target, rec.Code, rec.Body)
		}
		cancel() // the first client goes away: its capture must end early
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatalf("%s did not end when its client went away", target)
		}
	}
}

func TestCustomProfile(t *testing.T) {
	var gotD time.Duration
	wall := func(ctx context.Context, w io.Writer, d time.Duration) error {
		gotD = d
		_, err := io.WriteString(w, "wall")
		return err
	}
	h := Handler(HandlerOptions{MaxDuration: time.Minute, Profiles: map[string]ProfileFunc{"wall": wall}})
	rec := get(t, h, "/v1/profile/wall?seconds=2")
	if rec.Code != 200 || rec.Body.String() != "wall" || gotD != 2*time.Second {
		t.Errorf("GET /v1/profile/wall?seconds=2 = %d %q, d=%v; want 200 \"wall\" 2s", rec.Code, rec.Body, gotD)
	}
	var info apiv1.Info
	decode(t, get(t, h, "/v1/info"), &info)
	if !strings.Contains(strings.Join(info.Profiles, ","), "wall") {
		t.Errorf("Info.Profiles = %v; want wall listed", info.Profiles)
	}
}

// TestHandlerZeroValue serves a real snapshot from the process's reader.
func TestHandlerZeroValue(t *testing.T) {
	h := Handler(HandlerOptions{})
	var s apiv1.Snapshot
	decode(t, get(t, h, "/v1/snapshot"), &s)
	if s.Snapshot.GOMAXPROCS <= 0 || s.Snapshot.Goroutines.Total <= 0 || s.Snapshot.Time.IsZero() {
		t.Errorf("snapshot = %+v; want a live snapshot", s.Snapshot)
	}
}
