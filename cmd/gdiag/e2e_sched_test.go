package main_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gdiag/gdiag/apiv1"
	"github.com/gdiag/gdiag/internal/e2etest"
	"github.com/gdiag/gdiag/schedstats"
)

// schedReport mirrors one gdiag sched --json object (decoded strictly).
type schedReport struct {
	Target   string              `json:"target"`
	Snapshot schedstats.Snapshot `json:"snapshot"`
	Derived  struct {
		WindowSeconds           float64   `json:"windowSeconds"`
		SchedLatency            schedDist `json:"schedLatency"`
		GoroutinesCreatedPerSec float64   `json:"goroutinesCreatedPerSec"`
		MsCreatedPerSec         float64   `json:"msCreatedPerSec"`
		MutexWaitPerSec         float64   `json:"mutexWaitPerSec"`
		PauseWindowSeconds      float64   `json:"pauseWindowSeconds"`
		GCPauses                schedDist `json:"gcPauses"`
		OtherPauses             schedDist `json:"otherPauses"`
		GCStopping              schedDist `json:"gcStopping"`
		OtherStopping           schedDist `json:"otherStopping"`
	} `json:"derived"`
	OS *apiv1.OS `json:"os"` // the kernel's view, when the agent serves it
}

type schedDist struct {
	Count uint64  `json:"count"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	Max   float64 `json:"max"`
}

// TestSchedOnce prints one plain frame over the socket (by PID) and over
// TCP with a token.
func TestSchedOnce(t *testing.T) {
	d := sharedDemo(t)
	for _, c := range []struct {
		name string
		dir  string
		args []string
	}{
		{"pid", d.Dir, []string{"sched", strconv.Itoa(d.PID), "--once"}},
		{"tcp", t.TempDir(), []string{"sched", d.TCP, "--token", d.Token, "--once"}},
		// Standard output is a pipe here: without --once, one frame too,
		// where gdiag used to redraw until killed.
		{"no terminal", d.Dir, []string{"sched", strconv.Itoa(d.PID)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := gdiag(t, c.dir, c.args...)
			if r.Code != 0 {
				t.Fatalf("gdiag %s: %s", strings.Join(c.args, " "), r)
			}
			if note := "not a terminal: printing one frame"; c.name == "no terminal" && !strings.Contains(r.Stderr, note) {
				t.Errorf("gdiag sched off a terminal: stderr lacks %q\n%s", note, r)
			}
			for _, w := range []string{"GOMAXPROCS", "THREADS", "RUN QUEUE", "GOROUTINES", "by state", "SCHED LAT", "STW GC", "per-P queues: build the service with -tags gdiag_deep"} {
				if !strings.Contains(r.Stdout, w) {
					t.Errorf("gdiag sched --once lacks %q\n%s", w, r)
				}
			}
			if strings.Contains(r.Stdout, "\x1b") {
				t.Errorf("gdiag sched --once printed escape codes\n%q", r.Stdout)
			}
			lines := strings.Split(strings.TrimSuffix(r.Stdout, "\n"), "\n")
			if len(lines) > 24 {
				t.Errorf("gdiag sched --once printed %d lines; want at most 24", len(lines))
			}
			for _, l := range lines {
				if n := len([]rune(l)); n > 80 {
					t.Errorf("gdiag sched --once line has %d columns; want at most 80: %q", n, l)
				}
			}
		})
	}
}

// TestSchedJSON decodes --json strictly: one object by default, --count
// objects as JSON lines.
func TestSchedJSON(t *testing.T) {
	d := sharedDemo(t)
	r := gdiag(t, t.TempDir(), "sched", d.TCP, "--token", d.Token, "--json")
	var one schedReport
	decodeJSON(t, r, &one)
	checkSchedReport(t, one)
	if n := strings.Count(strings.TrimSpace(r.Stdout), "\n"); n != 0 {
		t.Errorf("gdiag sched --json printed %d lines; want one object on one line", n+1)
	}

	r = gdiag(t, d.Dir, "sched", d.Socket, "--json", "--count", "3", "--interval", "600ms")
	if r.Code != 0 {
		t.Fatalf("gdiag sched --json --count 3: %s", r)
	}
	dec := json.NewDecoder(strings.NewReader(r.Stdout))
	dec.DisallowUnknownFields()
	var reps []schedReport
	for dec.More() {
		var rep schedReport
		if err := dec.Decode(&rep); err != nil {
			t.Fatalf("decoding JSON line %d: %v\n%s", len(reps)+1, err, r)
		}
		checkSchedReport(t, rep)
		reps = append(reps, rep)
	}
	// 1.2 s after the first object the agent (sampling every second) has
	// taken a newer snapshot, so the last object covers a real interval.
	if len(reps) != 3 || !reps[2].Snapshot.Time.After(reps[0].Snapshot.Time) || reps[2].Derived.WindowSeconds <= 0 {
		t.Errorf("gdiag sched --json --count 3 gave %d objects; want 3, the last with a newer snapshot and a window > 0\n%s", len(reps), r)
	}
}

func checkSchedReport(t *testing.T, r schedReport) {
	t.Helper()
	s, dv := r.Snapshot, r.Derived
	if s.GOMAXPROCS <= 0 || s.Threads <= 0 || s.Goroutines.Total <= 0 || s.Time.IsZero() {
		t.Errorf("snapshot = %+v; want GOMAXPROCS, threads and goroutines", s)
	}
	if len(s.SchedLatency.Bounds) != len(s.SchedLatency.Counts)+1 {
		t.Errorf("snapshot latency histogram has %d bounds for %d counts", len(s.SchedLatency.Bounds), len(s.SchedLatency.Counts))
	}
	// A demo that started within the second has one snapshot: both
	// windows are then 0, "since start".
	if dv.WindowSeconds < 0 || dv.PauseWindowSeconds < dv.WindowSeconds || (dv.WindowSeconds == 0) != (dv.PauseWindowSeconds == 0) {
		t.Errorf("derived windows = %v, %v; want the last interval and a pause window as long or longer, or both 0", dv.WindowSeconds, dv.PauseWindowSeconds)
	}
	if l := dv.SchedLatency; l.Count == 0 || l.P50 > l.P90 || l.P90 > l.P99 || l.P99 > l.Max || l.Max <= 0 {
		t.Errorf("derived latency = %+v; want 0 < p50 ≤ p90 ≤ p99 ≤ max under load", l)
	}
	// Each pause has one stopping time, its first part: as many (one more
	// while a pause is under way), and, counts equal, none longer.
	for _, k := range []struct {
		name        string
		pause, stop schedDist
	}{{"gc", dv.GCPauses, dv.GCStopping}, {"other", dv.OtherPauses, dv.OtherStopping}} {
		if k.stop.Count < k.pause.Count || k.stop.Count > k.pause.Count+1 || k.stop.Count == k.pause.Count && k.stop.Max > k.pause.Max {
			t.Errorf("derived %s pauses %+v, stopping times %+v; want as many stopping times, none longer than the longest pause", k.name, k.pause, k.stop)
		}
	}
}

// TestSchedTargetGone kills the target while the view runs (off a
// terminal, so frames are plain) and expects exit 3 with a clear message.
func TestSchedTargetGone(t *testing.T) {
	d := startDemoT(t, "-load", "10")
	cmd := exec.Command(gdiagBin, "sched", strconv.Itoa(d.PID), "--interval", "100ms", "--count", "100000")
	cmd.Env = append(os.Environ(), "GDIAG_DIR="+d.Dir, "GDIAG_TOKEN=")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	sc := bufio.NewScanner(out)
	for sc.Scan() && !strings.HasPrefix(sc.Text(), "GOMAXPROCS") {
	}
	if err := syscall.Kill(d.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for sc.Scan() { // drain until gdiag closes stdout
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(15 * time.Second):
		t.Fatalf("gdiag sched still running 15 s after its target died")
	}
	code := cmd.ProcessState.ExitCode()
	if code != 3 || !strings.Contains(stderr.String(), "lost "+strconv.Itoa(d.PID)) || !strings.Contains(stderr.String(), "gdiag ps") {
		t.Errorf("gdiag sched after the target died: exit %d (%v), stderr %q; want exit 3, \"lost %d\" and a hint", code, err, stderr.String(), d.PID)
	}
}

// TestSchedLiveTmux runs the live view in a real terminal (tmux, 100x30),
// checks that it draws and refreshes, quits on q with exit 0, and leaves
// the alternate screen.
func TestSchedLiveTmux(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		e2etest.Unavailable(t, "tmux is not installed (scripts/setup installs it); the live view's terminal test needs it")
	}
	d := sharedDemo(t)
	tm := newTmux(t)
	script := fmt.Sprintf("GDIAG_DIR='%s' GDIAG_TOKEN= '%s' sched %d --interval 200ms; echo gdiag-exit=$?; sleep 120", d.Dir, gdiagBin, d.PID)
	tm.run("new-session", "-d", "-x", "100", "-y", "30", script)
	tm.path = tm.run("display-message", "-p", "#{socket_path}")

	first := tm.waitPane("the first frame", func(p string) bool {
		return strings.Contains(p, "GOMAXPROCS") && strings.Contains(p, "GOROUTINES") && strings.Contains(p, "by state")
	})
	if tm.run("display-message", "-p", "#{alternate_on}") != "1" {
		t.Errorf("the live view is not on the alternate screen")
	}
	// The agent samples every second: a refreshed frame names a newer snapshot.
	tm.waitPane("a frame of a newer snapshot", func(p string) bool {
		s := snapshotClock(p)
		return s != "" && s != snapshotClock(first) && strings.Contains(p, "GOMAXPROCS")
	})
	tm.run("send-keys", "q")
	end := tm.waitPane("gdiag to exit after q", func(p string) bool { return strings.Contains(p, "gdiag-exit=") })
	if !strings.Contains(end, "gdiag-exit=0") {
		t.Errorf("gdiag sched after q: want exit 0; pane:\n%s", end)
	}
	if strings.Contains(end, "GOMAXPROCS") || tm.run("display-message", "-p", "#{alternate_on}") != "0" {
		t.Errorf("after q the pane still shows the view; want the normal screen:\n%s", end)
	}
}

// snapshotClock returns the "snapshot 15:04:05" time in a frame's header.
func snapshotClock(pane string) string {
	_, after, ok := strings.Cut(pane, "snapshot ")
	if !ok || len(after) < 8 {
		return ""
	}
	return after[:8]
}

// tmux drives a private tmux server, killed at the test's end.
type tmux struct {
	t    *testing.T
	sock string
	path string // the server's socket file, which kill-server leaves behind
}

func newTmux(t *testing.T) *tmux {
	tm := &tmux{t: t, sock: fmt.Sprintf("gdiag-e2e-%d-%d", os.Getpid(), time.Now().UnixNano())}
	t.Cleanup(func() {
		exec.Command("tmux", "-L", tm.sock, "kill-server").Run()
		if strings.Contains(tm.path, tm.sock) {
			os.Remove(tm.path)
		}
	})
	return tm
}

// run runs a tmux command and returns its trimmed output.
func (tm *tmux) run(args ...string) string {
	tm.t.Helper()
	cmd := exec.Command("tmux", append([]string{"-L", tm.sock, "-f", "/dev/null"}, args...)...)
	cmd.Env = append(os.Environ(), "TMUX=") // also when the tests run inside tmux
	out, err := cmd.CombinedOutput()
	if err != nil {
		tm.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// waitPane captures the pane until ok accepts it, for up to 15 s.
func (tm *tmux) waitPane(what string, ok func(string) bool) string {
	tm.t.Helper()
	var p string
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if p = tm.run("capture-pane", "-p"); ok(p) {
			return p
		}
	}
	tm.t.Fatalf("waiting for %s: the pane shows:\n%s", what, p)
	return ""
}
