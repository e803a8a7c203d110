package pyroscope_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"
	pyro "github.com/grafana/pyroscope-go"
	"go.uber.org/goleak"

	"github.com/gdiag/gdiag/exporters/pyroscope"
	"github.com/gdiag/gdiag/probes"
)

func get(t *testing.T, url string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: read body: %v", url, err)
	}
	return resp.StatusCode, body
}

// TestCPUProfileWhileContinuousProfiling shows both behaviours documented in
// the package: the standard probes CPU profile answers 409 while Start holds
// the CPU profiler, and CPUProfile registered as "cpu" takes the profile and
// lets continuous profiling go on.
func TestCPUProfileWhileContinuousProfiling(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	in := newIngest(t)
	stopLoad := startBatchLoad(t)
	defer stopLoad()

	stop, err := pyroscope.Start(pyroscope.Config{
		ApplicationName: "gdiag.test",
		ServerAddress:   in.srv.URL,
		UploadRate:      time.Second,
		ProfileTypes:    []pyro.ProfileType{pyro.ProfileCPU},
	})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	defer func() {
		if err := stop(); err != nil {
			t.Errorf("stop() = %v; want nil", err)
		}
	}()

	std := httptest.NewServer(probes.Handler(probes.HandlerOptions{}))
	defer std.Close()
	coop := httptest.NewServer(probes.Handler(probes.HandlerOptions{
		Profiles: map[string]probes.ProfileFunc{"cpu": pyroscope.CPUProfile()},
	}))
	defer coop.Close()

	// Wait until the continuous profiler holds the CPU profiler: it has
	// uploaded a first CPU profile.
	waitFor(t, "a first CPU upload", func() bool { return len(in.cpuProfiles()) > 0 })

	code, body := get(t, std.URL+"/v1/profile/cpu?seconds=1")
	if code != http.StatusConflict {
		t.Errorf("standard /v1/profile/cpu status = %d (%s); want 409", code, body)
	}
	var apiErr struct{ Error, Hint string }
	if err := json.Unmarshal(body, &apiErr); err != nil {
		t.Errorf("409 body %q is not the JSON error: %v", body, err)
	} else if !strings.Contains(apiErr.Error, "CPU profile is already running") ||
		!strings.Contains(apiErr.Hint, "cpu profiling already in use") {
		t.Errorf("409 body = %+v; want the busy message with the runtime's error as hint", apiErr)
	}

	code, body = get(t, coop.URL+"/v1/profile/cpu?seconds=1")
	if code != http.StatusOK {
		t.Fatalf("cooperative /v1/profile/cpu status = %d (%s); want 200", code, body)
	}
	p, err := profile.ParseData(body)
	if err != nil {
		t.Fatalf("cooperative CPU profile does not parse: %v", err)
	}
	if !hasLabel(p, "pool", "batch") {
		t.Errorf("on-demand CPU profile has no sample labelled pool=batch (%d samples)", len(p.Sample))
	}

	// Continuous profiling resumes: more CPU profiles arrive afterwards.
	n := len(in.cpuProfiles())
	waitFor(t, "a CPU upload after the on-demand profile", func() bool { return len(in.cpuProfiles()) > n })
}

// TestCPUProfileBusy shows that CPUProfile fails with ErrCPUProfile, and
// probes answers 409, when a profiler outside pyroscope-go holds the CPU
// profiler.
func TestCPUProfileBusy(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	if err := pprof.StartCPUProfile(io.Discard); err != nil {
		t.Fatalf("pprof.StartCPUProfile: %v", err)
	}
	defer pprof.StopCPUProfile()

	var buf strings.Builder
	err := pyroscope.CPUProfile()(context.Background(), &buf, time.Second)
	if !errors.Is(err, pyroscope.ErrCPUProfile) {
		t.Errorf("CPUProfile() while profiling = %v; want ErrCPUProfile", err)
	}

	srv := httptest.NewServer(probes.Handler(probes.HandlerOptions{
		Profiles: map[string]probes.ProfileFunc{"cpu": pyroscope.CPUProfile()},
	}))
	defer srv.Close()
	if code, body := get(t, srv.URL+"/v1/profile/cpu?seconds=1"); code != http.StatusConflict {
		t.Errorf("/v1/profile/cpu while profiling: status = %d (%s); want 409", code, body)
	}
}

func TestCPUProfileEndsWithContext(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	var buf strings.Builder
	start := time.Now()
	err := pyroscope.CPUProfile()(ctx, &buf, time.Minute)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("CPUProfile()(canceled ctx) = %v; want context.Canceled", err)
	}
	if el := time.Since(start); el > 30*time.Second {
		t.Errorf("CPUProfile()(canceled ctx) returned after %v; want soon after the cancel", el)
	}
	// The profile must be released: a new one can start.
	if err := pprof.StartCPUProfile(io.Discard); err != nil {
		t.Errorf("CPU profiler still busy after CPUProfile returned: %v", err)
	} else {
		pprof.StopCPUProfile()
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(45 * time.Second); time.Now().Before(deadline); {
		if cond() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// TestCPUProfileOneAtATime shows that two overlapping on-demand captures
// do not share the profiler: one succeeds and the other fails with
// ErrCPUProfile, while continuous profiling runs.
func TestCPUProfileOneAtATime(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	in := newIngest(t)
	stop, err := pyroscope.Start(pyroscope.Config{
		ApplicationName: "gdiag.test",
		ServerAddress:   in.srv.URL,
		UploadRate:      time.Second,
		ProfileTypes:    []pyro.ProfileType{pyro.ProfileCPU},
	})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	defer func() {
		if err := stop(); err != nil {
			t.Errorf("stop() = %v; want nil", err)
		}
	}()

	// Both captures last long enough to overlap on any machine.
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			var buf strings.Builder
			errs <- pyroscope.CPUProfile()(context.Background(), &buf, 4*time.Second)
		}()
	}
	var ok, busy int
	for range 2 {
		switch err := <-errs; {
		case err == nil:
			ok++
		case errors.Is(err, pyroscope.ErrCPUProfile):
			busy++
		default:
			t.Errorf("CPUProfile() = %v; want nil or ErrCPUProfile", err)
		}
	}
	if ok != 1 || busy != 1 {
		t.Errorf("two overlapping CPUProfile calls: %d succeeded, %d busy; want 1 and 1", ok, busy)
	}
}
