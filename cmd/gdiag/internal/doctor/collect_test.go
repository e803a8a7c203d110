package doctor

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gdiag/gdiag/apiv1"
	"github.com/gdiag/gdiag/cmd/gdiag/internal/cli"
	"github.com/gdiag/gdiag/schedstats"
)

// fakeAgent serves the /v1/ routes doctor reads, with a goroutine count
// that grows by leak on every snapshot, and profiles that do not exist.
type fakeAgent struct {
	leak  int
	calls atomic.Int64
	mu    sync.Mutex
	snaps []schedstats.Snapshot
}

func (f *fakeAgent) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.calls.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	var v any
	switch r.URL.Path {
	case "/v1/info":
		v = apiv1.Info{PID: 42, GoVersion: "go1.26.8", APIVersion: apiv1.Version, GOMAXPROCS: 2,
			Capabilities: []string{apiv1.CapSnapshot, apiv1.CapHistory, apiv1.CapPools, apiv1.CapGoroutines}}
	case "/v1/snapshot":
		n := len(f.snaps)
		s := schedstats.Snapshot{Time: time.Now(), GOMAXPROCS: 2, Threads: 8,
			Goroutines: schedstats.GoroutineStates{Total: 20 + f.leak*n}}
		f.snaps = append(f.snaps, s)
		v = apiv1.Snapshot{Snapshot: s}
	case "/v1/history":
		v = apiv1.History{Interval: apiv1.Duration(time.Second), Snapshots: f.snaps}
	case "/v1/pools":
		v = apiv1.Pools{Pools: []apiv1.Pool{}}
	case "/v1/profile/cpu":
		w.WriteHeader(http.StatusConflict)
		v = apiv1.Error{Error: "a CPU profile is already running; retry when it ends"}
	case "/v1/goroutines":
		v = apiv1.Goroutines{Census: apiv1.Census{Time: time.Now(), Goroutines: 20}}
	default:
		w.WriteHeader(http.StatusNotFound)
		v = apiv1.Error{Error: "not here"}
	}
	json.NewEncoder(w).Encode(v)
}

func runDoctor(t *testing.T, ctx context.Context, url string, window time.Duration) (*Report, error) {
	t.Helper()
	var out bytes.Buffer
	env := &cli.Env{Stdout: &out, Stderr: &out, JSON: true, Timeout: 2 * time.Second}
	err := run(ctx, env, url, window, t.TempDir())
	var rep Report
	if jerr := json.Unmarshal(out.Bytes(), &rep); jerr != nil {
		t.Fatalf("doctor printed no report: %v\n%s", jerr, out.String())
	}
	return &rep, err
}

// TestCollectFakeAgent runs the whole command against a fake agent: every
// request ends, no goroutine outlives the run, and a calm process with
// a CPU profile already running (409) and other profiles missing gives
// no findings and says what it could not check.
func TestCollectFakeAgent(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	srv := httptest.NewServer(&fakeAgent{})
	defer srv.Close()
	rep, err := runDoctor(t, context.Background(), srv.URL, 1500*time.Millisecond)
	if err != nil {
		t.Fatalf("run = %v; want no findings and no error", err)
	}
	if rep.PID != 42 || len(rep.Findings) != 0 {
		t.Errorf("report = pid %d, findings %s; want pid 42 and none", rep.PID, causes(rep.Findings))
	}
	all := strings.Join(rep.NotChecked, "\n")
	for _, want := range []string{"CPU profile: another capture was already running (409)", "mutex profile"} {
		if !strings.Contains(all, want) {
			t.Errorf("notChecked = %q; want %q listed", rep.NotChecked, want)
		}
	}
	srv.CloseClientConnections()
}

// TestCollectTargetGoes: a target that stops answering mid-window ends
// the watch at once, and with nothing concluded the error is a target error.
func TestCollectTargetGoes(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	srv := httptest.NewServer(&fakeAgent{})
	time.AfterFunc(1200*time.Millisecond, srv.Close)
	start := time.Now()
	rep, err := runDoctor(t, context.Background(), srv.URL, 30*time.Second)
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("doctor took %v after its target went; want it to stop at once", took)
	}
	var ce *cli.Error
	if !asCLI(err, &ce) || ce.Code != cli.ExitTarget {
		t.Errorf("run = %v; want a target error (exit 3)", err)
	}
	if len(rep.Errors) == 0 || !strings.Contains(rep.Errors[0], "stopped answering") {
		t.Errorf("report errors = %q; want it to say the target stopped answering", rep.Errors)
	}
}

// TestCollectInterrupted: cancelling the context (Ctrl-C) prints what was
// gathered; a leak seen so far is still reported.
func TestCollectInterrupted(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	srv := httptest.NewServer(&fakeAgent{leak: 200})
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(6500*time.Millisecond, cancel)
	rep, err := runDoctor(t, ctx, srv.URL, time.Minute)
	if err != cli.Findings || len(rep.Findings) == 0 || rep.Findings[0].Cause != schedstats.CauseGoroutineLeak {
		t.Fatalf("run = %v, findings %s; want the leak reported", err, causes(rep.Findings))
	}
	if len(rep.Errors) == 0 || !strings.Contains(rep.Errors[0], "interrupted") {
		t.Errorf("report errors = %q; want it to say it was interrupted", rep.Errors)
	}
	srv.CloseClientConnections()
}

func asCLI(err error, ce **cli.Error) bool {
	e, ok := err.(*cli.Error)
	*ce = e
	return ok
}
