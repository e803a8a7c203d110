package probes

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gdiag/gdiag/apiv1"
	"github.com/gdiag/gdiag/gdump"
	"go.uber.org/goleak"
)

func TestCensus(t *testing.T) {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 30 {
		wg.Add(1)
		go func() { defer wg.Done(); <-stop }()
	}
	var c apiv1.Census
	var err error
	var g *gdump.Group
	for try := 0; try < 200; try++ {
		time.Sleep(time.Duration(try) * time.Millisecond)
		if c, err = census(context.Background(), apiv1.CensusFilter{State: "chan receive"}, 0); err != nil {
			t.Fatalf("census error = %v", err)
		}
		g = nil
		for i := range c.Groups {
			if strings.Contains(c.Groups[i].CreatedBy.Func, "TestCensus") {
				g = &c.Groups[i]
			}
		}
		if g != nil && g.Count == 30 {
			break
		}
	}
	close(stop)
	wg.Wait()
	if g == nil || g.Count != 30 || g.State != "chan receive" || len(g.Frames) == 0 || len(g.IDs) != 10 {
		t.Fatalf("census group of the test's goroutines = %+v; want 30 waiting on chan receive", g)
	}
	for _, f := range append(g.Frames, g.CreatedBy) {
		if f.Args != "" || f.Offset != 0 {
			t.Errorf("census frame %+v carries a goroutine's arguments or PC offset", f)
		}
	}
	for _, gr := range c.Groups {
		if gr.State != "chan receive" {
			t.Errorf("state filter kept %q", gr.State)
		}
	}
	if c.Goroutines < 31 || c.Matched < 30 {
		t.Errorf("Goroutines = %d, Matched = %d; want >= 31, >= 30", c.Goroutines, c.Matched)
	}
	if _, err := json.Marshal(c); err != nil {
		t.Errorf("json.Marshal(Census) error = %v", err)
	}

	one, err := census(context.Background(), apiv1.CensusFilter{MaxGroups: 1}, 0)
	if err != nil || len(one.Groups) != 1 || one.Omitted == 0 {
		t.Errorf("census(maxGroups: 1) = %d groups, %d omitted, %v; want 1, > 0", len(one.Groups), one.Omitted, err)
	}
	none, err := census(context.Background(), apiv1.CensusFilter{MinWait: time.Hour}, 0)
	if err != nil || none.Matched != 0 || len(none.Groups) != 0 {
		t.Errorf("census(minWait: 1h) kept %d; want 0", none.Matched)
	}
	goleak.VerifyNone(t)
}

func TestMatchesState(t *testing.T) {
	tests := []struct {
		state, want string
		match       bool
	}{
		{"running", "running", true},
		{"running (scan)", "running", true},
		{"runnable", "running", false},
		{"syscall", "syscall", true},
		{"chan receive", "chan receive", true},
		{"chan receive", "waiting", true},
		{"select (leaked)", "select", true},
		{"GC worker (idle)", "waiting", true},
		{"select (no cases)", "waiting", true},
		{"running", "waiting", false},
		{"chan send", "chan receive", false},
	}
	for _, tt := range tests {
		if got := matchesState(tt.state, tt.want); got != tt.match {
			t.Errorf("matchesState(%q, %q) = %v; want %v", tt.state, tt.want, got, tt.match)
		}
	}
}
