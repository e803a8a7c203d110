package fgprof_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/pprof/profile"
	"go.uber.org/goleak"

	"github.com/gdiag/gdiag/exporters/fgprof"
	"github.com/gdiag/gdiag/probes"
)

// sleeper is the off-CPU function the wall-clock profile must see; a CPU
// profile would not.
//
//go:noinline
func sleeper(stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func TestProfileThroughHandlerFindsSleeper(t *testing.T) {
	defer goleak.VerifyNone(t)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); sleeper(stop) }()
	defer func() { close(stop); wg.Wait() }()

	srv := httptest.NewServer(probes.Handler(probes.HandlerOptions{
		Profiles: map[string]probes.ProfileFunc{"wall": fgprof.Profile()},
	}))
	defer srv.Close()

	start := time.Now()
	resp, err := http.Get(srv.URL + "/v1/profile/wall?seconds=1")
	if err != nil {
		t.Fatalf("GET /v1/profile/wall: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v1/profile/wall status = %d (%s); want 200", resp.StatusCode, body)
	}
	if el := time.Since(start); el < time.Second {
		t.Errorf("a 1 s capture answered after %v; want at least 1 s", el)
	}
	p, err := profile.ParseData(body)
	if err != nil {
		t.Fatalf("profile.ParseData: %v", err)
	}
	if len(p.Sample) == 0 {
		t.Fatal("wall profile has no samples")
	}
	if !hasFunction(p, "fgprof_test.sleeper") {
		t.Errorf("wall profile has no sample in fgprof_test.sleeper; functions: %v", functions(p))
	}
}

func TestProfileStopsWhenContextEnds(t *testing.T) {
	defer goleak.VerifyNone(t)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	var buf strings.Builder
	start := time.Now()
	err := fgprof.Profile()(ctx, &buf, time.Minute)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Profile()(canceled ctx) = %v; want context.Canceled", err)
	}
	// A generous bound: the point is "not a minute".
	if el := time.Since(start); el > 30*time.Second {
		t.Errorf("Profile()(canceled ctx) returned after %v; want soon after the cancel", el)
	}
	if _, err := profile.ParseData([]byte(buf.String())); err != nil {
		t.Errorf("profile written before the cancel does not parse: %v", err)
	}
}

func TestProfileRejectsNonPositiveDuration(t *testing.T) {
	for _, d := range []time.Duration{0, -time.Second} {
		var buf strings.Builder
		if err := fgprof.Profile()(context.Background(), &buf, d); err == nil {
			t.Errorf("Profile()(d=%v) = nil; want an error", d)
		}
	}
}

func hasFunction(p *profile.Profile, suffix string) bool {
	for _, s := range p.Sample {
		for _, loc := range s.Location {
			for _, l := range loc.Line {
				if l.Function != nil && strings.HasSuffix(l.Function.Name, suffix) {
					return true
				}
			}
		}
	}
	return false
}

func functions(p *profile.Profile) []string {
	var names []string
	for _, f := range p.Function {
		names = append(names, f.Name)
	}
	return names
}
