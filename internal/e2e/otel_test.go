package e2e_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gdiag/gdiag/internal/e2etest"
)

// otelConfig is a collector configuration that writes every trace and
// metric it receives over OTLP/HTTP to JSON-lines files, one line a batch.
const otelConfig = `receivers:
  otlp:
    protocols:
      http: {endpoint: "%[1]s"}
processors:
  batch: {timeout: 200ms}
exporters:
  file/traces: {path: "%[2]s", format: json, flush_interval: 100ms}
  file/metrics: {path: "%[3]s", format: json, flush_interval: 100ms}
service:
  telemetry: {metrics: {level: none}}
  pipelines:
    traces: {receivers: [otlp], processors: [batch], exporters: [file/traces]}
    metrics: {receivers: [otlp], processors: [batch], exporters: [file/metrics]}
`

// otelDemoMetrics are metrics the demo must export through the collector,
// by name and the OTLP kind they must arrive as: the semantic-convention
// go.* ones and gdiag.* from the catalogue, whose histograms arrive as
// histograms.
var otelDemoMetrics = map[string]string{
	"go.goroutine.count": "sum", "go.processor.limit": "sum", "go.schedule.duration": "histogram",
	"gdiag.sched.threads": "gauge", "gdiag.sched.idle_procs": "gauge", "gdiag.sched.global_runqueue": "gauge",
	"gdiag.sched.goroutines": "gauge", "gdiag.pool.workers": "gauge", "gdiag.pool.queued": "gauge",
	"gdiag.pool.tasks": "sum", "gdiag.pool.tasks_submitted": "sum",
	"gdiag.sched.latency": "histogram", "gdiag.sched.pause": "histogram",
	"gdiag.pool.queue_wait": "histogram", "gdiag.pool.run": "histogram",
}

func TestOTelCollector(t *testing.T) {
	e2etest.RequireE2E(t, "run against a real OpenTelemetry Collector")
	// Registered first, so it runs after the cleanups that stop the processes.
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
	otelcol := e2etest.Tool(t, "otelcol", "run scripts/build-otelcol (scripts/setup does)")
	dir := t.TempDir()
	traces, metrics := filepath.Join(dir, "traces.jsonl"), filepath.Join(dir, "metrics.jsonl")
	addr := e2etest.FreeAddr(t)
	cfg := filepath.Join(dir, "otelcol.yaml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, otelConfig, addr, traces, metrics), 0o600); err != nil {
		t.Fatal(err)
	}
	col := e2etest.StartT(t, "otelcol", exec.Command(otelcol, "--config="+cfg))
	e2etest.WaitPort(t, col, addr, 60*time.Second)

	demo := e2etest.StartDemoT(t, nil, "-otlp-endpoint", addr, "-otlp-interval", "1s", "-load", "50")

	// Let the demo serve and export until both kinds of telemetry have
	// reached the collector's files, then stop the demo.
	e2etest.WaitFor(t, demo.Proc, 2*time.Minute, "pool spans and metrics in the collector's files", func() bool {
		return otelHas(traces, `"gdiag.pool.name"`) && otelHas(metrics, `"gdiag.pool.tasks"`)
	})
	if err := demo.Stop(20 * time.Second); err != nil {
		t.Errorf("demo exit after SIGTERM = %v; want a clean exit\n%s", err, demo.Tail(4000))
	}
	// SIGTERM made the demo flush its batches, and the collector answered
	// each export once its batch processor held the data. A clean
	// shutdown of the collector then drains the processor into the file
	// exporters and closes their files: no wait is needed, only an exit 0.
	if err := col.Stop(30 * time.Second); err != nil {
		t.Errorf("collector exit after SIGTERM = %v; want a clean exit (it flushes the files)", err)
	}

	spans := otelReadSpans(t, traces)
	otelCheckSpans(t, spans)
	got := otelReadMetricNames(t, metrics)
	for name, kind := range otelDemoMetrics {
		switch kinds := got[name]; {
		case len(kinds) == 0:
			t.Errorf("metric %s did not reach the collector (got %d names)", name, len(got))
		case len(kinds) != 1 || !kinds[kind]:
			t.Errorf("metric %s arrived as %v; want a %s", name, kinds, kind)
		}
	}
}

func otelHas(path, s string) bool {
	b, err := os.ReadFile(path)
	return err == nil && strings.Contains(string(b), s)
}

// otelSpan is the part of an OTLP-JSON span the test reads.
type otelSpan struct {
	TraceID      string     `json:"traceId"`
	SpanID       string     `json:"spanId"`
	ParentSpanID string     `json:"parentSpanId"`
	Name         string     `json:"name"`
	Attributes   []otelAttr `json:"attributes"`
	Status       struct {
		Code int `json:"code"`
	} `json:"status"`
}

type otelAttr struct {
	Key   string `json:"key"`
	Value struct {
		StringValue *string  `json:"stringValue"`
		DoubleValue *float64 `json:"doubleValue"`
		IntValue    *string  `json:"intValue"`
	} `json:"value"`
}

func (s otelSpan) attr(key string) (otelAttr, bool) {
	for _, a := range s.Attributes {
		if a.Key == key {
			return a, true
		}
	}
	return otelAttr{}, false
}

func otelLines(t *testing.T, path string, each func([]byte)) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("collector output: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	for sc.Scan() {
		if len(strings.TrimSpace(sc.Text())) > 0 {
			each(sc.Bytes())
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
}

func otelReadSpans(t *testing.T, path string) []otelSpan {
	t.Helper()
	var spans []otelSpan
	otelLines(t, path, func(line []byte) {
		var doc struct {
			ResourceSpans []struct {
				ScopeSpans []struct {
					Spans []otelSpan `json:"spans"`
				} `json:"scopeSpans"`
			} `json:"resourceSpans"`
		}
		if err := json.Unmarshal(line, &doc); err != nil {
			t.Fatalf("traces line is not OTLP JSON: %v", err)
		}
		for _, rs := range doc.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				spans = append(spans, ss.Spans...)
			}
		}
	})
	return spans
}

// otelCheckSpans asserts that pool task spans arrived with their attributes,
// each a child of the HTTP handler's span in the same trace.
func otelCheckSpans(t *testing.T, spans []otelSpan) {
	t.Helper()
	byID := make(map[string]otelSpan, len(spans))
	for _, s := range spans {
		byID[s.SpanID] = s
	}
	var tasks, nested, keyed int
	for _, s := range spans {
		pn, ok := s.attr("gdiag.pool.name")
		if !ok || pn.Value.StringValue == nil || *pn.Value.StringValue != "http" {
			continue
		}
		tasks++
		for _, k := range []string{"gdiag.pool.priority", "gdiag.task.outcome", "gdiag.task.label"} {
			if a, ok := s.attr(k); !ok || a.Value.StringValue == nil || *a.Value.StringValue == "" {
				t.Errorf("span %s %q lacks string attribute %s", s.SpanID, s.Name, k)
			}
		}
		if a, ok := s.attr("gdiag.task.outcome"); ok && a.Value.StringValue != nil && *a.Value.StringValue != "canceled" {
			if qw, ok := s.attr("gdiag.pool.queue_wait"); !ok || qw.Value.DoubleValue == nil || *qw.Value.DoubleValue < 0 {
				t.Errorf("span %s %q lacks a float gdiag.pool.queue_wait", s.SpanID, s.Name)
			}
		}
		if k, ok := s.attr("gdiag.pool.key"); ok && k.Value.StringValue != nil && strings.HasPrefix(*k.Value.StringValue, "t") {
			keyed++
		}
		parent, ok := byID[s.ParentSpanID]
		if s.ParentSpanID == "" || !ok {
			continue // its handler span may have ended after the last export
		}
		if parent.Name != "GET /work" || parent.TraceID != s.TraceID {
			t.Errorf("task span %s has parent %q in trace %s; want the handler span GET /work in trace %s",
				s.SpanID, parent.Name, parent.TraceID, s.TraceID)
			continue
		}
		nested++
	}
	if tasks == 0 {
		t.Fatalf("no span with gdiag.pool.name=http among %d spans", len(spans))
	}
	// Every request's handler span ends after its tasks, and SIGTERM
	// flushes; at most the requests cut short by shutdown may lack one.
	if nested == 0 || nested < tasks/2 {
		t.Errorf("%d of %d http pool task spans have the handler span as parent; want most", nested, tasks)
	}
	if keyed == 0 {
		t.Errorf("no http pool task span carries a tenant gdiag.pool.key")
	}
	t.Logf("%d spans; %d http pool task spans, %d under their handler span", len(spans), tasks, nested)
}

// otelReadMetricNames returns the kinds (gauge, sum, histogram, ...) each
// metric name arrived as.
func otelReadMetricNames(t *testing.T, path string) map[string]map[string]bool {
	t.Helper()
	names := make(map[string]map[string]bool)
	otelLines(t, path, func(line []byte) {
		var doc struct {
			ResourceMetrics []struct {
				ScopeMetrics []struct {
					Metrics []map[string]json.RawMessage `json:"metrics"`
				} `json:"scopeMetrics"`
			} `json:"resourceMetrics"`
		}
		if err := json.Unmarshal(line, &doc); err != nil {
			t.Fatalf("metrics line is not OTLP JSON: %v", err)
		}
		for _, rm := range doc.ResourceMetrics {
			for _, sm := range rm.ScopeMetrics {
				for _, m := range sm.Metrics {
					var name string
					if err := json.Unmarshal(m["name"], &name); err != nil {
						t.Fatalf("metric without a name: %v", err)
					}
					if names[name] == nil {
						names[name] = map[string]bool{}
					}
					for _, kind := range []string{"gauge", "sum", "histogram", "exponentialHistogram", "summary"} {
						if _, ok := m[kind]; ok {
							names[name][kind] = true
						}
					}
				}
			}
		}
	})
	return names
}
