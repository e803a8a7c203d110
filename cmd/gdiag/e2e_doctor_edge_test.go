package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gdiag/gdiag/internal/e2etest"
)

// doctorReport is gdiag doctor's --json shape (the contract in
// cmd/gdiag/internal/doctor/report.go), decoded strictly.
type doctorReport struct {
	Target     string          `json:"target"`
	PID        int             `json:"pid"`
	Window     string          `json:"window"`
	Findings   []doctorFinding `json:"findings"`
	NotChecked []string        `json:"notChecked"`
	Errors     []string        `json:"errors"`
	Trace      string          `json:"trace"`
}

// doctorFinding is one finding of doctorReport.
type doctorStack struct {
	Count  int      `json:"count"`
	Growth int      `json:"growth"`
	State  string   `json:"state"`
	Frames []string `json:"frames"`
}

type doctorFinding struct {
	Cause    string  `json:"cause"`
	Title    string  `json:"title"`
	Severity string  `json:"severity"`
	Score    float64 `json:"score"`
	Summary  string  `json:"summary"`
	Evidence []struct {
		Name   string    `json:"name"`
		Value  float64   `json:"value"`
		Unit   string    `json:"unit"`
		AtMost bool      `json:"atMost"` // Value is an upper bound (a histogram quantile)
		Trend  []float64 `json:"trend"`
	} `json:"evidence"`
	Stacks    []doctorStack `json:"stacks"`
	Functions []struct {
		Name    string  `json:"name"`
		Flat    float64 `json:"flat"`
		Percent float64 `json:"percent"`
		Unit    string  `json:"unit"`
	} `json:"functions"`
	Pool string   `json:"pool"`
	Next []string `json:"next"`
}

// TestDoctorPprofOnly: a service with only net/http/pprof gets what its
// profiles and /proc allow, and a list of what needs the agent. The
// service allocates 1 KiB objects in a loop for 3 ms every 10 ms, so its
// collector takes a large share of its small CPU: a gc-pressure warning
// from the CPU profile is the truth, and on a busy machine so is
// cpu-starved, with the collector's stop-the-world pauses made long by
// the host (a warning that names one of the two as its cause); nothing
// else, and nothing critical, is.
func TestDoctorPprofOnly(t *testing.T) {
	p := startPprofOnly(t)
	r := gdiag(t, "", "doctor", p.URL, "--window", "3s", "--json", "--out-dir", t.TempDir())
	if r.Code != 0 && r.Code != 1 {
		t.Fatalf("gdiag doctor on a calm pprof-only service: %s", r)
	}
	var rep doctorReport
	decodeJSON(t, r, &rep)
	if rep.Window != "3s" || rep.Findings == nil || (r.Code == 0) != (len(rep.Findings) == 0) {
		t.Errorf("doctor --json = exit %d, window %q, findings %v; want 3s, and exit 1 exactly with findings", r.Code, rep.Window, rep.Findings)
	}
	for _, f := range rep.Findings {
		explained := f.Cause == "stw-pauses" && (strings.Contains(f.Summary, "consequence of the cpu-starved finding") ||
			strings.Contains(f.Summary, "consequence of the gc-pressure finding"))
		if f.Severity == "critical" || f.Cause != "gc-pressure" && f.Cause != "cpu-starved" && !explained {
			t.Errorf("finding %s (%s) on a calm pprof-only service: %s", f.Cause, f.Severity, f.Summary)
		}
	}
	all := strings.Join(rep.NotChecked, "\n")
	// One execution trace serves GOMAXPROCS and the pauses: a second one
	// at the same time would be refused by the runtime.
	if strings.Contains(all, "already enabled") || strings.Contains(all, "execution trace") {
		t.Errorf("doctor notChecked names a trace that failed:\n%s", all)
	}
	for _, want := range []string{"run queues and scheduling latency", "pools: need the gdiag agent", "flight recorder"} {
		if !strings.Contains(all, want) {
			t.Errorf("doctor notChecked lacks %q:\n%s", want, all)
		}
	}
	r = gdiag(t, "", "doctor", p.URL, "--window", "2s", "--out-dir", t.TempDir())
	if r.Code > 1 || !strings.Contains(r.Stdout, "not checked: ") {
		t.Errorf("gdiag doctor (text) on pprof-only: %s", r)
	}
}

// TestDoctorTargetDies: a process killed mid-window ends the watch at
// once; the report says it exited, and with nothing concluded the exit
// code is 3.
func TestDoctorTargetDies(t *testing.T) {
	d := startDemoT(t)
	const window, timeout = 20 * time.Second, 5 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, gdiagBin, "doctor", strconv.Itoa(d.PID), "--window", window.String(), "--timeout", timeout.String(), "--json")
	cmd.Env = append(os.Environ(), "GDIAG_DIR="+d.Dir, "GDIAG_TOKEN=")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// doctor starts the target's CPU profile as its window opens, and the
	// demo's agent logs that: the target dies mid-window, not before.
	if _, err := d.WaitLine(e2etest.Stderr, time.Minute, func(l string) bool {
		return strings.Contains(l, "probes: CPU profile started")
	}); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("waiting for doctor to open its window: %v", err)
	}
	if err := syscall.Kill(d.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	took := time.Since(start)
	r := result{Stdout: out.String(), Stderr: errb.String()}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		r.Code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if e2etest.HasRace(r.Stderr) {
		t.Errorf("gdiag doctor reported a data race:\n%s", r.Stderr)
	}
	if took > window+timeout {
		t.Errorf("gdiag doctor took %v after its target died; want at most window+timeout %v", took, window+timeout)
	}
	if r.Code != 3 && r.Code != 1 {
		t.Fatalf("gdiag doctor on a killed process: %s; want exit 3 (or 1 with findings)", r)
	}
	var rep doctorReport
	if err := json.NewDecoder(strings.NewReader(r.Stdout)).Decode(&rep); err != nil {
		t.Fatalf("decoding --json: %v\n%s", err, r)
	}
	if len(rep.Errors) == 0 || !strings.Contains(rep.Errors[0], "exited after") {
		t.Errorf("doctor errors = %q; want \"process exited after ...\"", rep.Errors)
	}
	if w, err := time.ParseDuration(rep.Window); err != nil || w >= window {
		t.Errorf("doctor window = %q; want the time watched, under %v", rep.Window, window)
	}
}

// TestDoctorUsage: bad windows and arguments are usage errors.
func TestDoctorUsage(t *testing.T) {
	for _, args := range [][]string{
		{"doctor", "1", "--window", "0s"},
		{"doctor", "1", "--window", "3m"},
		{"doctor"},
		{"doctor", "1", "2"},
	} {
		if r := gdiag(t, "", args...); r.Code != 2 || !strings.Contains(r.Stderr, "hint") && !strings.Contains(r.Stderr, "doctor") {
			t.Errorf("gdiag %s: %s; want exit 2 with a message", strings.Join(args, " "), r)
		}
	}
}
