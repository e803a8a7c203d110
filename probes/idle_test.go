package probes

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gdiag/gdiag/schedstats"
)

const idleEnv = "GDIAG_TEST_IDLE_TARGET"

// TestIdleTargetHelper is the target of TestIdleProcessReadsIdle: a
// process whose only work is the agent's sampler (mode "idle"), or that
// and one goroutine spinning on the CPU (mode "busy"). It samples 100
// times, 20 ms apart, as the agent's sampler does, and prints the idle Ps
// of each sample as JSON.
func TestIdleTargetHelper(t *testing.T) {
	mode := os.Getenv(idleEnv)
	if mode == "" {
		return // not the child
	}
	var stop atomic.Bool
	if mode == "busy" {
		go func() {
			for x := 0; !stop.Load(); x++ {
			}
		}()
	}
	s := schedstats.NewSampler(Read, schedstats.SamplerOptions{Interval: 20 * time.Millisecond, Size: 100})
	s.Start()
	time.Sleep(2300 * time.Millisecond)
	s.Stop()
	stop.Store(true)
	var idle []int
	for _, snap := range s.History() {
		if snap.Sources.Procs == schedstats.SourceSched {
			idle = append(idle, snap.IdlePs)
		}
	}
	b, _ := json.Marshal(struct {
		GOMAXPROCS int
		Idle       []int
	}{runtime.GOMAXPROCS(0), idle})
	fmt.Printf("IDLE %s\n", b)
	os.Exit(0)
}

// TestIdleProcessReadsIdle: the reader must not report itself as the
// load. An idle process reads every P idle in at least 95% of samples; a
// process with one busy goroutine reads exactly one busy P. (The reader's
// own P and the spinning M its wake-up starts once read as one or two busy
// Ps: "busy 2 idle 0" for a process that slept.)
func TestIdleProcessReadsIdle(t *testing.T) {
	if mirrorName == "" {
		t.Skip("no runtime mirror for this Go version: idle Ps come from the sched structure")
	}
	for _, tt := range []struct {
		mode string
		busy int
	}{{"idle", 0}, {"busy", 1}} {
		t.Run(tt.mode, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestIdleTargetHelper$", "-test.count=1")
			cmd.Env = append(os.Environ(), idleEnv+"="+tt.mode, "GOMAXPROCS=2")
			out, err := cmd.Output()
			var res struct {
				GOMAXPROCS int
				Idle       []int
			}
			var line []byte
			if i := indexLine(out, "IDLE "); i >= 0 {
				line = out[i+5:]
			}
			if err != nil || json.Unmarshal(line, &res) != nil || len(res.Idle) < 50 {
				t.Fatalf("target: %v\n%s", err, out)
			}
			right := 0
			for _, idle := range res.Idle {
				if res.GOMAXPROCS-idle == tt.busy {
					right++
				}
			}
			if right*100 < 95*len(res.Idle) {
				t.Errorf("%s target with GOMAXPROCS %d: %d of %d samples read %d busy Ps; want >= 95%% (idle Ps per sample: %v)",
					tt.mode, res.GOMAXPROCS, right, len(res.Idle), tt.busy, res.Idle)
			}
		})
	}
}

func indexLine(b []byte, prefix string) int {
	for i := 0; i+len(prefix) <= len(b); i++ {
		if (i == 0 || b[i-1] == '\n') && string(b[i:i+len(prefix)]) == prefix {
			return i
		}
	}
	return -1
}
