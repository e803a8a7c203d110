package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.uber.org/goleak"

	otelexp "github.com/gdiag/gdiag/exporters/otel"
	"github.com/gdiag/gdiag/pool"
)

func testContext(t *testing.T) (context.Context, context.CancelFunc) {
	return context.WithTimeout(t.Context(), 20*time.Second)
}

func TestParseFlags(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr bool
	}{
		{nil, false},
		{[]string{"-listen", "127.0.0.1:0", "-load", "0", "-incident", "gc", "-duration", "1s", "-watch", "2s"}, false},
		{[]string{"-incident", "meteor"}, true},
		{[]string{"-load", "-1"}, true},
		{[]string{"-otlp-interval", "0s"}, true},
		{[]string{"extra"}, true},
	}
	for _, tt := range tests {
		_, err := parseFlags(tt.args, io.Discard)
		if (err != nil) != tt.wantErr {
			t.Errorf("parseFlags(%q) = %v; want error %v", tt.args, err, tt.wantErr)
		}
	}
	c, _ := parseFlags(nil, io.Discard)
	if c.load != 50 || c.incident != "none" || c.duration != 0 || c.otlpEndpoint != "" || c.pyroscopeURL != "" {
		t.Errorf("parseFlags(nil) = %+v; want load 50, incident none, no duration, no exporters", c)
	}
}

// TestHelp checks that -h explains every flag of the contract.
func TestHelp(t *testing.T) {
	var out bytes.Buffer
	if _, err := parseFlags([]string{"-h"}, &out); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("parseFlags(-h) = %v; want flag.ErrHelp", err)
	}
	for _, f := range []string{"-listen", "-agent-dir", "-otlp-endpoint", "-otlp-interval", "-pyroscope-url", "-load", "-incident", "-duration", "-watch"} {
		if !strings.Contains(out.String(), f+" ") && !strings.Contains(out.String(), f+"\n") {
			t.Errorf("-h output lacks %s:\n%s", f, out.String())
		}
	}
}

// TestRun runs the whole service in-process: the listening line, /metrics,
// switching an incident, the watch lines, and a clean stop that removes the
// probes socket and leaves no goroutine behind.
func TestRun(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "agent") // created 0700 by the agent
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	c := config{listen: "127.0.0.1:0", agentDir: dir, otlpInterval: time.Second, load: 20, incident: "none", watch: 300 * time.Millisecond}
	go func() {
		err := run(ctx, c, pw, slog.New(slog.DiscardHandler))
		pw.Close()
		done <- err
	}()
	lines := bufio.NewScanner(pr)
	if !lines.Scan() {
		t.Fatalf("no output: %v", <-done)
	}
	base, ok := strings.CutPrefix(lines.Text(), "demo: listening on ")
	if !ok || !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Fatalf("first line = %q; want demo: listening on http://127.0.0.1:PORT", lines.Text())
	}
	client := &http.Client{Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()

	waitFor(t, "completed http tasks in /metrics", func() bool {
		body, _ := do(t, client, http.MethodGet, base+"/metrics")
		return strings.Contains(body, `gdiag_pool_tasks_total{outcome="completed",pool="http"}`) &&
			!strings.Contains(body, `gdiag_pool_tasks_total{outcome="completed",pool="http"} 0`)
	})
	if body, code := do(t, client, http.MethodGet, base+"/work?tenant=t3&n=5"); code != http.StatusOK || !strings.Contains(body, "tasks=5") {
		t.Errorf("GET /work = %d %q; want 200 ok tenant=t3 tasks=5", code, body)
	}
	if _, code := do(t, client, http.MethodGet, base+"/work?n=1000"); code != http.StatusBadRequest {
		t.Errorf("GET /work?n=1000 = %d; want 400", code)
	}
	if body, code := do(t, client, http.MethodPost, base+"/incident?name=leak"); code != http.StatusOK || !strings.Contains(body, `"incident":"leak"`) {
		t.Errorf("POST /incident?name=leak = %d %q; want 200 with the incident", code, body)
	}
	if body, _ := do(t, client, http.MethodGet, base+"/incident"); !strings.Contains(body, `"incident":"leak"`) {
		t.Errorf("GET /incident = %q; want leak", body)
	}
	if _, code := do(t, client, http.MethodPost, base+"/incident?name=meteor"); code != http.StatusBadRequest {
		t.Errorf("POST /incident?name=meteor = %d; want 400", code)
	}
	if body, _ := do(t, client, http.MethodPost, base+"/incident?name=none"); !strings.Contains(body, `"incident":"none"`) {
		t.Errorf("POST /incident?name=none = %q; want none", body)
	}
	if !lines.Scan() || !strings.HasPrefix(lines.Text(), "watch ") || !strings.Contains(lines.Text(), "http: workers=") {
		t.Errorf("second line = %q; want a watch summary with the http pool", lines.Text())
	}
	if socks, _ := filepath.Glob(filepath.Join(dir, "*.sock")); len(socks) != 1 {
		t.Errorf("sockets in the agent dir while running = %q; want one", socks)
	}

	cancel()
	go io.Copy(io.Discard, pr) // more watch lines may come until the stop
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run() = %v; want nil", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("run did not return after its context ended")
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("agent dir after stop holds %d entries; want none", len(left))
	}
	client.CloseIdleConnections()
	goleak.VerifyNone(t)
}

func do(t *testing.T, c *http.Client, method, url string) (string, int) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body), resp.StatusCode
}

// TestWorkSpans checks that /work's span is the parent of the pool's
// per-task spans, in the same trace.
func TestWorkSpans(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	p := newHTTPPool("spans-test", pool.WithoutRegistry(), pool.WithObserver(otelexp.NewObserver(tp)))
	s := &server{httpPool: p, incidents: newIncidents(p), tracer: tp.Tracer("test")}
	mux := http.NewServeMux()
	s.routes(mux)
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/work?tenant=t2&n=3", nil))
	if w.Code != http.StatusOK {
		t.Fatalf("GET /work = %d %q; want 200", w.Code, w.Body)
	}
	ctx, cancel := testContext(t)
	defer cancel()
	if err := p.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if err := tp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	var handler sdktrace.ReadOnlySpan
	for _, sp := range rec.Ended() {
		if sp.Name() == "GET /work" {
			handler = sp
		}
	}
	if handler == nil {
		t.Fatalf("no GET /work span among %d", len(rec.Ended()))
	}
	children := 0
	for _, sp := range rec.Ended() {
		if sp.Parent().SpanID() == handler.SpanContext().SpanID() && sp.SpanContext().TraceID() == handler.SpanContext().TraceID() {
			children++
		}
	}
	if children != 3 {
		t.Errorf("children of the /work span = %d; want 3 (one per pool task)", children)
	}
	goleak.VerifyNone(t)
}
