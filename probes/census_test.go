package probes

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestTakeCensus(t *testing.T) {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 30 {
		wg.Add(1)
		go func() { defer wg.Done(); <-stop }()
	}
	var c Census
	var err error
	var g *CensusGroup
	for try := 0; try < 200; try++ {
		time.Sleep(time.Duration(try) * time.Millisecond)
		if c, err = TakeCensus(CensusOptions{State: "chan receive"}); err != nil {
			t.Fatalf("TakeCensus error = %v", err)
		}
		g = nil
		for i := range c.Groups {
			if strings.Contains(c.Groups[i].CreatedBy.Func, "TestTakeCensus") {
				g = &c.Groups[i]
			}
		}
		if g != nil && g.Count == 30 {
			break
		}
	}
	close(stop)
	wg.Wait()
	if g == nil || g.Count != 30 || g.State != "waiting" || g.WaitReason != "chan receive" || len(g.Stack) == 0 || len(g.IDs) != 10 {
		t.Fatalf("census group of the test's goroutines = %+v; want 30 waiting on chan receive", g)
	}
	for _, gr := range c.Groups {
		if gr.WaitReason != "chan receive" {
			t.Errorf("State filter kept %q/%q", gr.State, gr.WaitReason)
		}
	}
	if c.Goroutines < 31 || c.Matched < 30 {
		t.Errorf("Goroutines = %d, Matched = %d; want >= 31, >= 30", c.Goroutines, c.Matched)
	}
	if _, err := json.Marshal(c); err != nil {
		t.Errorf("json.Marshal(Census) error = %v", err)
	}

	one, err := TakeCensus(CensusOptions{MaxGroups: 1})
	if err != nil || len(one.Groups) != 1 || one.Omitted == 0 {
		t.Errorf("TakeCensus(MaxGroups: 1) = %d groups, %d omitted, %v; want 1, > 0", len(one.Groups), one.Omitted, err)
	}
	none, err := TakeCensus(CensusOptions{MinWait: time.Hour})
	if err != nil || none.Matched != 0 || len(none.Groups) != 0 {
		t.Errorf("TakeCensus(MinWait: 1h) kept %d; want 0", none.Matched)
	}
	goleak.VerifyNone(t)
}

func TestSplitState(t *testing.T) {
	for in, want := range map[string][2]string{
		"running":           {"running", ""},
		"runnable":          {"runnable", ""},
		"syscall":           {"syscall", ""},
		"chan receive":      {"waiting", "chan receive"},
		"running (scan)":    {"running (scan)", ""},
		"GC worker (idle)":  {"waiting", "GC worker (idle)"},
		"select (no cases)": {"waiting", "select (no cases)"},
	} {
		if s, r := splitState(in); s != want[0] || r != want[1] {
			t.Errorf("splitState(%q) = %q, %q; want %q, %q", in, s, r, want[0], want[1])
		}
	}
}
