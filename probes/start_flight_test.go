package probes

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gdiag/gdiag/schedstats"
	"go.uber.org/goleak"
)

// TestFindingWritesFlightSnapshot grows goroutines steadily under an agent
// with a flight recorder and a leak detector tuned to fire fast, and waits
// for the snapshot the finding must write.
func TestFindingWritesFlightSnapshot(t *testing.T) {
	defer goleak.VerifyNone(t)
	traces := t.TempDir()
	a, err := Start(Options{
		Dir:      shortTempDir(t),
		Interval: 10 * time.Millisecond,
		Flight:   &FlightOptions{Dir: traces, MaxFiles: 3},
		Thresholds: schedstats.Thresholds{
			LeakMinSamples: 5, LeakMinGrowth: 20, LeakMinRatio: 0.01, LeakMinR2: 0.5,
		},
	})
	if err != nil {
		t.Fatalf("Start = %v", err)
	}
	release := make(chan struct{})
	leaked := make(chan struct{}, 1)
	go func() { // grows by 10 goroutines per sample until released
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-release:
				leaked <- struct{}{}
				return
			case <-tick.C:
				for range 5 {
					go func() { <-release }()
				}
			}
		}
	}()
	deadline := time.Now().Add(20 * time.Second)
	var found string
	for found == "" && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		ents, _ := os.ReadDir(traces)
		for _, e := range ents {
			if strings.Contains(e.Name(), schedstats.CauseGoroutineLeak) {
				found = e.Name()
			}
		}
	}
	close(release)
	<-leaked
	if err := a.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
	if found == "" {
		t.Fatalf("no flight snapshot named for %q in %s after 20s", schedstats.CauseGoroutineLeak, traces)
	}
}

func TestFlightTriggerCooldown(t *testing.T) {
	defer goleak.VerifyNone(t)
	fr, err := NewFlightRecorder(FlightOptions{Dir: t.TempDir(), MaxFiles: 10})
	if err != nil {
		t.Fatal(err)
	}
	if err := fr.Start(); err != nil {
		t.Fatal(err)
	}
	defer fr.Stop()
	tr := newFlightTrigger(fr, nil)
	now := time.Unix(1000, 0)
	tr.now = func() time.Time { return now }
	f := []schedstats.Finding{{Cause: schedstats.CauseGoroutineLeak}}
	tr.onFindings(f)
	now = now.Add(flightCooldown / 2)
	tr.onFindings(f)
	ents, _ := os.ReadDir(fr.opts.Dir)
	if len(ents) != 1 {
		t.Errorf("snapshots within the cooldown = %d; want 1", len(ents))
	}
	now = now.Add(flightCooldown)
	tr.onFindings(f)
	ents, _ = os.ReadDir(fr.opts.Dir)
	if len(ents) != 2 {
		t.Errorf("snapshots after the cooldown = %d; want 2", len(ents))
	}
}
