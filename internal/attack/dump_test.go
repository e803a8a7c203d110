package attack

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"testing"
	"time"

	"github.com/gdiag/gdiag/probes"
)

const parkedEnv = "GDIAG_ATTACK_PARKED"

func parked(ch chan struct{}) { <-ch }

// TestParkedTargetHelper is the target of TestLargeDump: a process with
// the agent and N goroutines parked on a channel. When its stdin closes it
// prints the longest stop of the world it went through, and exits.
func TestParkedTargetHelper(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv(parkedEnv))
	if n == 0 {
		return
	}
	ch := make(chan struct{})
	for range n {
		go parked(ch)
	}
	a, err := probes.Start(probes.Options{Dir: os.Getenv(parkedEnv + "_DIR")})
	if err != nil {
		fmt.Println(err)
		os.Exit(4)
	}
	fmt.Printf("READY %d\n", runtime.NumGoroutine())
	io.Copy(io.Discard, os.Stdin)
	s := []metrics.Sample{{Name: "/sched/pauses/total/other:seconds"}}
	metrics.Read(s)
	h := s[0].Value.Float64Histogram()
	longest := 0.0
	for i, c := range h.Counts {
		if c > 0 {
			longest = h.Buckets[i+1]
		}
	}
	fmt.Printf("PAUSE %g\n", longest)
	a.Close()
	os.Exit(0)
}

// TestLargeDump: gdiag goroutines on a process with many goroutines
// (100,000; a million with GDIAG_ATTACK=full) gets every one of them,
// though pprof's own dump stops at 64 MiB, with one stop of the world
// of about a second per 100,000 goroutines, which it allows explicitly
// with --max-pause (the agent's default budget is one second).
func TestLargeDump(t *testing.T) {
	n := int(size(100_000, 1_000_000))
	dir := filepath.Join(t.TempDir(), "rt")
	cmd := exec.Command(os.Args[0], "-test.run=^TestParkedTargetHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), parkedEnv+"="+strconv.Itoa(n), parkedEnv+"_DIR="+dir)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer stdin.Close()
	out := bufio.NewReader(stdout)
	line, _ := out.ReadString('\n')
	var total int
	if _, err := fmt.Sscanf(line, "READY %d", &total); err != nil {
		t.Fatalf("target said %q", line)
	}
	pid := strconv.Itoa(cmd.Process.Pid)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	dump := exec.CommandContext(ctx, gdiagBin(t), "goroutines", pid, "--json", "--top", "1", "--max-pause", "1m", "--timeout", "5m")
	dump.Env = append(os.Environ(), "GDIAG_DIR="+dir)
	start := time.Now()
	b, err := dump.Output()
	took := time.Since(start)
	var rep struct {
		TotalGoroutines int `json:"totalGoroutines"`
	}
	if err != nil || json.Unmarshal(b, &rep) != nil {
		t.Fatalf("gdiag goroutines on %d goroutines: %v\n%.2000s", total, err, b)
	}
	if rep.TotalGoroutines < n {
		t.Errorf("gdiag goroutines read %d goroutines of %d; want all", rep.TotalGoroutines, total)
	}
	stdin.Close()
	line, _ = out.ReadString('\n')
	var pause float64
	fmt.Sscanf(line, "PAUSE %g", &pause)
	t.Logf("%d goroutines: gdiag goroutines took %v; the target's longest stop of the world was at most %gs (histogram bucket bound)", total, took.Round(time.Millisecond), pause)
	if pause == 0 {
		t.Errorf("the target reported no stop of the world: %q", line)
	}
}
