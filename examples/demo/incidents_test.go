package main

import (
	"runtime"
	"runtime/metrics"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gdiag/gdiag/pool"
)

func TestMain(m *testing.M) {
	// Besides the per-test checks, nothing may outlive the whole run,
	// including the helpers that read the child processes' output.
	goleak.VerifyTestMain(m)
}

// readMetric returns a cumulative runtime/metrics value as a float64.
func readMetric(name string) float64 {
	s := []metrics.Sample{{Name: name}}
	metrics.Read(s)
	switch s[0].Value.Kind() {
	case metrics.KindUint64:
		return float64(s[0].Value.Uint64())
	case metrics.KindFloat64:
		return s[0].Value.Float64()
	}
	return 0
}

// waitFor polls cond until it holds or a generous deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestIncidents switches each incident on, waits for its symptom in the
// runtime's own figures or the pool's statistics, switches it off and checks
// that every goroutine it started is gone.
func TestIncidents(t *testing.T) {
	tests := []struct {
		name    string
		symptom func(base float64) bool
		base    func() float64
	}{
		{"leak", func(b float64) bool { return float64(runtime.NumGoroutine()) >= b+25 }, func() float64 { return float64(runtime.NumGoroutine()) }},
		{"cpu", func(b float64) bool {
			return float64(runtime.NumGoroutine()) >= b+float64(cpuPerProc*runtime.GOMAXPROCS(0))
		}, func() float64 { return float64(runtime.NumGoroutine()) }},
		{"mutex", func(b float64) bool { return readMetric("/sync/mutex/wait/total:seconds") > b }, func() float64 { return readMetric("/sync/mutex/wait/total:seconds") }},
		{"gc", func(b float64) bool { return readMetric("/gc/cycles/total:gc-cycles") >= b+3 }, func() float64 { return readMetric("/gc/cycles/total:gc-cycles") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := newIncidents(nil)
			base := tt.base()
			if err := in.Set(tt.name); err != nil {
				t.Fatalf("Set(%q) = %v; want nil", tt.name, err)
			}
			if got, _ := in.Current(); got != tt.name {
				t.Errorf("Current() = %q; want %q", got, tt.name)
			}
			waitFor(t, tt.name+" symptom", func() bool { return tt.symptom(base) })
			if err := in.Set("none"); err != nil {
				t.Fatalf(`Set("none") = %v; want nil`, err)
			}
			if got, _ := in.Current(); got != "none" {
				t.Errorf("Current() = %q; want none", got)
			}
			goleak.VerifyNone(t)
		})
	}
}

// TestIncidentOverload checks that the overload incident makes the http pool
// reject work and that /work tasks become slow while it lasts.
func TestIncidentOverload(t *testing.T) {
	p := newHTTPPool("overload-test", pool.WithoutRegistry())
	in := newIncidents(p)
	if err := in.Set("overload"); err != nil {
		t.Fatalf(`Set("overload") = %v; want nil`, err)
	}
	if !in.slowTasks() {
		t.Error("slowTasks() = false during overload; want true")
	}
	waitFor(t, "rejections", func() bool { return p.Stats().Rejected > 0 })
	in.Close()
	if in.slowTasks() {
		t.Error("slowTasks() = true after Close; want false")
	}
	ctx, cancel := testContext(t)
	defer cancel()
	if err := p.Stop(ctx); err != nil {
		t.Errorf("Stop() = %v; want nil", err)
	}
	goleak.VerifyNone(t)
}

func TestIncidentUnknown(t *testing.T) {
	in := newIncidents(nil)
	if err := in.Set("meteor"); err == nil {
		t.Error(`Set("meteor") = nil; want an error`)
	}
	if got, _ := in.Current(); got != "none" {
		t.Errorf("Current() = %q after a refused Set; want none", got)
	}
}
