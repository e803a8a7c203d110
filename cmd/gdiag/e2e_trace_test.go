package main_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// traceJSON is gdiag trace --json, as its help documents it.
type traceJSON struct {
	Target        string `json:"target"`
	Saved         string `json:"saved"`
	Flight        bool   `json:"flight"`
	DurationNanos int64  `json:"durationNanos"`
	Events        int    `json:"events"`
	Goroutines    int    `json:"goroutines"`
	SchedLatency  struct {
		Count int   `json:"count"`
		P50   int64 `json:"p50Nanos"`
		P90   int64 `json:"p90Nanos"`
		P99   int64 `json:"p99Nanos"`
		Max   int64 `json:"maxNanos"`
	} `json:"schedLatency"`
	Waits []struct {
		Category   string   `json:"category"`
		TotalNanos int64    `json:"totalNanos"`
		Count      int      `json:"count"`
		Reasons    []string `json:"reasons"`
	} `json:"waits"`
	BeforeTrace struct {
		Waits     int `json:"waits"`
		FromStack int `json:"fromStack"`
		FromDump  int `json:"fromDump"`
		Runtime   int `json:"runtime"`
		Unknown   int `json:"unknown"`
	} `json:"beforeTrace"`
	GC struct {
		Cycles          int   `json:"cycles"`
		LongestNanos    int64 `json:"longestNanos"`
		AssistNanos     int64 `json:"assistNanos"`
		STW             int   `json:"stw"`
		STWLongestNanos int64 `json:"stwLongestNanos"`
		STWTotalNanos   int64 `json:"stwTotalNanos"`
	} `json:"gc"`
	TopRunnable []struct {
		Function      string `json:"function"`
		Goroutines    int    `json:"goroutines"`
		RunnableNanos int64  `json:"runnableNanos"`
		MaxLatency    int64  `json:"maxLatencyNanos"`
	} `json:"topRunnable"`
	LongestSTW []struct {
		Reason        string `json:"reason"`
		StartNanos    int64  `json:"startNanos"`
		TotalNanos    int64  `json:"totalNanos"`
		StoppingNanos int64  `json:"stoppingNanos"`
		Partial       bool   `json:"partial"`
		Delayer       *struct {
			Goroutine     int64    `json:"goroutine"`
			StartFunction string   `json:"startFunction"`
			Function      string   `json:"function"`
			FunctionFrom  string   `json:"functionFrom"`
			Stack         []string `json:"stack"`
			StoppedAs     string   `json:"stoppedAs"`
			Samples       int      `json:"samples"`
			SampleStack   []string `json:"sampleStack"`
		} `json:"delayer"`
	} `json:"longestSTW"`
}

// TestTraceLive traces the demo (whose flight recorder is on: the agent's
// /v1/trace must work beside it), dumps its flight recorder, and traces a
// plain net/http/pprof service.
func TestTraceLive(t *testing.T) {
	d := sharedDemo(t)
	po := startPprofOnly(t)
	cases := []struct {
		name   string
		args   []string
		flight bool
	}{
		{"agent socket trace", []string{d.Socket, "--duration", "1s"}, false},
		{"agent tcp flight", []string{d.TCP, "--token", d.Token, "--flight"}, true},
		{"pprof trace", []string{po.URL, "--duration", "1s"}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "t.out")
			args := append([]string{"trace", "--json", "--out", out}, c.args...)
			r := gdiag(t, d.Dir, args...)
			if r.Code != 0 {
				t.Fatalf("gdiag %s: %s", strings.Join(args, " "), r)
			}
			var s traceJSON
			decodeJSON(t, r, &s)
			l := s.SchedLatency
			if s.Saved != out || s.Flight != c.flight || s.Events == 0 || s.Goroutines == 0 || s.DurationNanos <= 0 {
				t.Errorf("gdiag %s = saved %q, flight %v, %d events, %d goroutines, %d ns; want %q, %v and a non-empty trace",
					strings.Join(args, " "), s.Saved, s.Flight, s.Events, s.Goroutines, s.DurationNanos, out, c.flight)
			}
			if l.Count == 0 || l.Max <= 0 || l.P50 > l.P99 || l.P99 > l.Max {
				t.Errorf("gdiag %s: schedLatency = %+v; want samples, p50 <= p99 <= max", strings.Join(args, " "), l)
			}
			if len(s.Waits) == 0 || s.Waits[0].TotalNanos <= 0 || len(s.Waits[0].Reasons) == 0 {
				t.Errorf("gdiag %s: waits = %+v; want time by wait reason", strings.Join(args, " "), s.Waits)
			}
			// The demo's garbage stops the world within the flight
			// recorder's seconds; a 1s trace may see no collection.
			if len(s.LongestSTW) > 5 || c.flight && len(s.LongestSTW) == 0 {
				t.Errorf("gdiag %s: longestSTW has %d pauses; want at most 5, and one at least in the flight recorder", strings.Join(args, " "), len(s.LongestSTW))
			}
			for i, e := range s.LongestSTW {
				if e.Reason == "" || e.TotalNanos <= 0 || e.StoppingNanos < 0 || e.StoppingNanos > e.TotalNanos ||
					i > 0 && e.TotalNanos > s.LongestSTW[i-1].TotalNanos || e.Delayer != nil && (e.Delayer.Goroutine <= 0 || e.Delayer.StoppedAs == "") {
					t.Errorf("gdiag %s: longestSTW[%d] = %+v; want a reason, 0 ≤ stopping ≤ total, longest first, and a goroutine with how it stopped", strings.Join(args, " "), i, e)
				}
			}
			b, err := os.ReadFile(out)
			if err != nil || !bytes.HasPrefix(b, []byte("go 1.")) {
				t.Errorf("saved trace %s: %v, %d bytes; want a Go trace", out, err, len(b))
			}
		})
	}
	t.Run("text", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "t.out")
		r := gdiag(t, d.Dir, "trace", d.Socket, "--flight", "--out", out)
		for _, want := range []string{"flight recorder trace of", "scheduling latency", "p99", "time waiting", "GC:", "saved to " + out} {
			if r.Code != 0 || !strings.Contains(r.Stdout, want) {
				t.Errorf("gdiag trace --flight: stdout lacks %q\n%s", want, r)
			}
		}
	})
	t.Run("pprof flight", func(t *testing.T) {
		r := gdiag(t, d.Dir, "trace", po.URL, "--flight", "--out", filepath.Join(t.TempDir(), "f"))
		if r.Code != 3 || !strings.Contains(r.Stderr, "needs the gdiag agent") {
			t.Errorf("gdiag trace --flight on pprof-only: want exit 3 saying it needs the agent\n%s", r)
		}
	})
	t.Run("usage", func(t *testing.T) {
		for _, args := range [][]string{{"trace"}, {"trace", d.Socket, "--flight", "--duration", "1s"}, {"trace", d.Socket, "--duration", "0s"}} {
			if r := gdiag(t, d.Dir, args...); r.Code != 2 {
				t.Errorf("gdiag %s: want exit 2\n%s", strings.Join(args, " "), r)
			}
		}
	})
}
