package doctor

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gdiag/gdiag/apiv1"
	"github.com/gdiag/gdiag/cmd/gdiag/internal/target"

	tracecmd "github.com/gdiag/gdiag/cmd/gdiag/internal/trace"
	"github.com/gdiag/gdiag/schedstats"
)

// pausedHistory is a calm history with one long GC pause (in [100ms, 1s))
// per second from the 9th on, whose time to stop falls in the bucket
// stopBucket of latBounds (6: [100ms, 1s), dominating; 3: [1ms, 10ms),
// the work dominates); stopBucket < 0 leaves the stopping histograms out,
// as an agent older than the split sends them.
func pausedHistory(stopBucket int) []schedstats.Snapshot {
	return history(16, func(i int, s *schedstats.Snapshot) {
		s.Sources.Pauses = schedstats.SourceRuntimeMetrics
		if stopBucket < 0 {
			return
		}
		s.GCStopping = schedstats.Histogram{Bounds: latBounds, Counts: []uint64{0, 0, uint64(2 * i), 0, 0, 0, 0, 0}}
		s.OtherStopping = schedstats.Histogram{Bounds: latBounds, Counts: make([]uint64, 8)}
		if i >= 9 {
			s.GCPauses.Counts[6] = uint64(i - 8)
			s.GCStopping.Counts[stopBucket] = uint64(i - 8)
		}
	})
}

// stwEvents are a trace's long pauses, each waiting for goroutine 30 in
// main.reprice, with samples CPU samples of it during the wait (-1: the
// trace has none).
func stwEvents(n, samples int) []tracecmd.STWEvent {
	var out []tracecmd.STWEvent
	from := "samples during the stop"
	if samples <= 0 {
		from = "stack at the stop"
	}
	for i := range n {
		out = append(out, tracecmd.STWEvent{Reason: "GC sweep termination", StartNanos: int64(i) * 1e9,
			TotalNanos: 120e6, StoppingNanos: 118e6,
			Delayer: &tracecmd.Delayer{Goroutine: 30, StartFunction: "main.pricer", Function: "main.reprice", FunctionFrom: from, StoppedAs: "preempted",
				Samples: samples, Stack: []string{"main.pricer (main.go:84)"}, SampleStack: []string{"main.reprice (main.go:127)", "main.pricer (main.go:84)"}}})
	}
	return out
}

func boolp(b bool) *bool { return &b }

func TestPreemptionDelay(t *testing.T) {
	cases := []struct {
		name       string
		stopBucket int
		pre        *Preemption
		pprof      bool
		first      string // the first cause; "" for none
		want       []string
		notChecked string
	}{
		{"would not yield, asyncpreemptoff", 6,
			&Preemption{AsyncPreemptOff: boolp(true), GODEBUGFrom: "/proc/1/environ", STW: stwEvents(4, 9), TraceFrom: "the flight recorder"},
			false, schedstats.CausePreemptionDelay,
			[]string{"main.reprice", "goroutine 30", "from its CPU samples", "asyncpreemptoff", "drop asyncpreemptoff", "Split the loop"}, ""},
		{"would not yield, preemption on", 6,
			&Preemption{AsyncPreemptOff: boolp(false), GODEBUGFrom: "the agent's /v1/info", STW: stwEvents(3, 5), TraceFrom: "a 5s trace"},
			false, schedstats.CausePreemptionDelay,
			[]string{"main.reprice", "cannot be preempted", "Split that work"}, ""},
		{"off the CPU: the host", 6,
			&Preemption{STW: stwEvents(4, 0), TraceFrom: "the flight recorder"},
			false, schedstats.CauseSTWPauses, []string{"Most of it was spent stopping the world"}, "were off the CPU"},
		{"no trace, asyncpreemptoff", 6,
			&Preemption{AsyncPreemptOff: boolp(true), GODEBUGFrom: "/proc/1/environ"},
			false, schedstats.CausePreemptionDelay, []string{"No trace named the goroutine", "main.handle", "asyncpreemptoff"}, ""},
		{"no trace, unknown", 6, &Preemption{}, false, schedstats.CauseSTWPauses, nil, "no trace"},
		{"the work dominates", 3,
			&Preemption{AsyncPreemptOff: boolp(true), GODEBUGFrom: "/proc/1/environ", STW: stwEvents(4, 9), TraceFrom: "the flight recorder"},
			false, schedstats.CauseSTWPauses, []string{"The world stopped within 10ms: the time went in the work done"}, ""},
		{"no stopping times, trace decides", -1,
			&Preemption{STW: stwEvents(3, 6), TraceFrom: "a 5s trace"},
			false, schedstats.CausePreemptionDelay, []string{"main.reprice", "could not be read"}, ""},
		{"pprof target, trace decides", 0,
			&Preemption{STW: stwEvents(2, 4), TraceFrom: "a 5s trace"},
			true, schedstats.CausePreemptionDelay, []string{"main.reprice", "took over 50ms 2 times"}, ""},
		{"pprof target, one long stop", 0,
			&Preemption{STW: stwEvents(1, 4), TraceFrom: "a 5s trace"},
			true, "", nil, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := healthy()
			o.History, o.Preemption = pausedHistory(c.stopBucket), c.pre
			if c.pprof {
				o.Agent, o.History, o.PoolPolls, o.GOMAXPROCS = false, nil, nil, 0
			}
			fs, _, missing := Analyze(o, "1234")
			if c.first == "" {
				for _, f := range fs {
					if f.Cause == schedstats.CausePreemptionDelay {
						t.Fatalf("Analyze = %s; want no preemption-delay", causes(fs))
					}
				}
				return
			}
			if len(fs) == 0 || fs[0].Cause != c.first {
				t.Fatalf("Analyze = %s; want %s first\n%+v", causes(fs), c.first, fs)
			}
			text := fs[0].Title + " " + fs[0].Summary
			for _, w := range c.want {
				if !strings.Contains(text, w) {
					t.Errorf("finding %q lacks %q", text, w)
				}
			}
			if c.first != schedstats.CausePreemptionDelay {
				for _, f := range fs {
					if f.Cause == schedstats.CausePreemptionDelay {
						t.Errorf("Analyze = %s; want no preemption-delay", causes(fs))
					}
				}
			} else if len(fs) > 1 && fs[1].Cause == schedstats.CauseSTWPauses && !strings.Contains(fs[1].Summary, "consequence of the preemption-delay") {
				t.Errorf("stw-pauses summary %q; want it explained by the preemption delay", fs[1].Summary)
			}
			if c.notChecked != "" && !strings.Contains(strings.Join(missing, "\n"), c.notChecked) {
				t.Errorf("notChecked = %q; want it to say %q", missing, c.notChecked)
			}
		})
	}
}

// TestPreemptionDelayOutranksCPUSaturation: goroutines queue runnable
// while the world waits, which looks like CPU saturation; with under half
// the Ps busy, it ranks below the preemption delay.
func TestPreemptionDelayOutranksCPUSaturation(t *testing.T) {
	for _, busy := range []float64{0.4, 1.8} {
		o := healthy()
		o.History = pausedHistory(6)
		for i := range o.History {
			o.History[i].Goroutines.Runnable = 12
		}
		o.CPU.Seconds = busy * o.CPU.Duration.Seconds()
		o.Preemption = &Preemption{AsyncPreemptOff: boolp(true), GODEBUGFrom: "x", STW: stwEvents(4, 9), TraceFrom: "the flight recorder"}
		fs, _, _ := Analyze(o, "1234")
		want := schedstats.CausePreemptionDelay
		if busy > 1 {
			want = schedstats.CauseCPUSaturation // both Ps busy: the saturation is real
		}
		if len(fs) < 2 || fs[0].Cause != want {
			t.Errorf("busy %.1f cores: Analyze = %s; want %s first", busy, causes(fs), want)
		}
	}
}

// TestPreemptionDelayOutranksStarvation: on a crowded host the process is
// starved too, but the goroutine the world waited for was running (CPU
// samples while it waited): the delay is the program's and ranks first.
// Without those samples starvation keeps its place.
func TestPreemptionDelayOutranksStarvation(t *testing.T) {
	for _, samples := range []int{9, 0} {
		o := healthy()
		o.History = pausedHistory(6)
		o.OS = osReadings(16, 0.5, 0.7, 1, 0, 0, 0) // wanted 1.2 cores, got 42% of it
		o.Preemption = &Preemption{AsyncPreemptOff: boolp(true), GODEBUGFrom: "x", STW: stwEvents(4, samples), TraceFrom: "the flight recorder"}
		fs, _, _ := Analyze(o, "1234")
		i := slices.IndexFunc(fs, func(f Finding) bool { return f.Cause == schedstats.CausePreemptionDelay })
		j := slices.IndexFunc(fs, func(f Finding) bool { return f.Cause == schedstats.CauseCPUStarved })
		if i < 0 || j < 0 {
			t.Fatalf("samples %d: Analyze = %s; want preemption-delay and cpu-starved", samples, causes(fs))
		}
		if samples > 0 && i > j {
			t.Errorf("samples %d: Analyze = %s; want preemption-delay before cpu-starved", samples, causes(fs))
		}
	}
}

// TestAsyncPreemptOffLocal starts this test binary again with
// GODEBUG=asyncpreemptoff=1 (and without) and reads its setting through
// /proc, as doctor does for a local PID.
func TestAsyncPreemptOffLocal(t *testing.T) {
	if os.Getenv("GDIAG_TEST_SLEEP") == "1" {
		fmt.Println("ready")
		time.Sleep(time.Minute) // the child: killed by the parent
		return
	}
	if _, err := os.Stat("/proc/self/environ"); err != nil {
		t.Skip("no /proc: doctor reads the agent's GODEBUG instead")
	}
	if g, _ := localGODEBUG(0); g != nil {
		t.Errorf("localGODEBUG(0) = %+v; want nil", g)
	}
	for _, c := range []struct {
		godebug string
		off     bool
	}{{"gctrace=0,asyncpreemptoff=1", true}, {"asyncpreemptoff=0", false}, {"", false}} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestAsyncPreemptOffLocal$")
		cmd.Env = append(os.Environ(), "GDIAG_TEST_SLEEP=1", "GODEBUG="+c.godebug)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Read the process once it runs, as doctor meets it.
		if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "ready\n" {
			t.Fatalf("child: %q, %v; want ready", line, err)
		}
		off, from := asyncPreemptOff(&target.Target{PID: cmd.Process.Pid}, apiv1.Info{})
		cmd.Process.Kill()
		cmd.Wait()
		if off == nil || *off != c.off || !strings.Contains(from, "/environ") {
			t.Errorf("GODEBUG=%q: asyncPreemptOff = %v, %q; want %v from /proc/PID/environ", c.godebug, off, from, c.off)
		}
	}
	// Without a readable process, the agent's report; a PID that is not
	// the agent's gets neither.
	info := apiv1.Info{PID: 1 << 30, GODEBUG: &apiv1.GODEBUG{Default: "asyncpreemptoff=1"}}
	if off, from := asyncPreemptOff(&target.Target{PID: 1 << 30}, info); off == nil || !*off || from != "the agent's /v1/info" {
		t.Errorf("asyncPreemptOff(agent only) = %v, %q; want true from the agent", off, from)
	}
	if off, _ := asyncPreemptOff(&target.Target{PID: 1<<30 - 1}, info); off != nil {
		t.Errorf("asyncPreemptOff(another PID) = %v; want unknown", *off)
	}
	if off, _ := asyncPreemptOff(&target.Target{}, apiv1.Info{}); off != nil {
		t.Errorf("asyncPreemptOff(an old agent) = %v; want unknown", *off)
	}
}
