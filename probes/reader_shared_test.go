package probes_test

import (
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	gotel "github.com/gdiag/gdiag/exporters/otel"
	promexp "github.com/gdiag/gdiag/exporters/prometheus"
	"github.com/gdiag/gdiag/probes"
	"github.com/gdiag/gdiag/schedstats"
)

const sharedEnv = "GDIAG_TEST_SHARED_READER_DIR"

// TestOneReaderPerProcess runs TestSharedReaderHelper in a fresh process,
// where nothing has read the runtime yet, and checks what it reports: an
// agent, Handler, both exporters with their defaults and the caller's own
// probes.Read all share one reader, so the start-up self-check, which
// stops the world, ran once.
func TestOneReaderPerProcess(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "gdr")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	cmd := exec.Command(exe, "-test.run=^TestSharedReaderHelper$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), sharedEnv+"="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	_, n, ok := strings.Cut(string(out), "SELF-CHECKS: ")
	n, _, _ = strings.Cut(n, "\n")
	if got, err := strconv.Atoi(n); !ok || err != nil || got != 1 {
		t.Errorf("self-checks in a process with an agent, Handler, both exporters and probes.Read = %q; want 1\n%s", n, out)
	}
}

// TestSharedReaderHelper is the child half of TestOneReaderPerProcess.
func TestSharedReaderHelper(t *testing.T) {
	dir := os.Getenv(sharedEnv)
	if dir == "" {
		return // not the child
	}
	if n := probes.FactsGathered(); n != 0 {
		t.Fatalf("%d self-checks before anything read the runtime", n)
	}
	a, err := probes.Start(probes.Options{Dir: filepath.Join(dir, "rt")})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	srv := httptest.NewServer(probes.Handler(probes.HandlerOptions{}))
	defer srv.Close()
	if resp, err := srv.Client().Get(srv.URL + "/v1/snapshot"); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}
	reg := prometheus.NewRegistry()
	if err := promexp.Register(reg, promexp.Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Gather(); err != nil {
		t.Fatal(err)
	}
	r := sdkmetric.NewManualReader(sdkmetric.WithProducer(gotel.NewProducer(gotel.MetricsOptions{})))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r))
	defer mp.Shutdown(context.Background())
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	var s schedstats.Snapshot
	probes.Read(&s)
	t.Logf("SELF-CHECKS: %d\n", probes.FactsGathered())
}
