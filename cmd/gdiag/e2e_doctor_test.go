package main_test

// TestDoctorIncidents runs gdiag doctor on each program of
// examples/incidents and checks that it names the right cause first.

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gdiag/gdiag/internal/e2etest"
)

// incidentCases pairs each incident program with the cause doctor must
// rank first; "" means healthy: no findings at all.
var incidentCases = []struct {
	program, cause string
}{
	{"leak", "goroutine-leak"},
	{"cpu", "cpu-saturation"},
	{"mutex", "mutex-contention"},
	{"gc", "gc-pressure"},
	{"threads", "thread-growth"},
	{"pool", "pool-overload"},
	{"stw", "stw-pauses"},
	{"healthy", ""},
}

const (
	incidentWarmUp = 4 * time.Second // lets the fault build up before the window
	doctorWindow   = "15s"
)

// TestDoctorIncidents runs each incident program in turn (they would
// compete for the CPU if run together), lets its fault build up, runs
// gdiag doctor --json on it for a 15 s window, and checks the verdict:
// exit code 1 with the expected cause ranked first and figures behind
// it, or exit code 0 and no findings for the healthy program. It takes
// about 8 × 20 s.
func TestDoctorIncidents(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 8 incident programs for about 20 s each; skipped with -short")
	}
	if runtime.GOOS != "linux" {
		t.Skip("the threads incident, and the test's expectations, need Linux")
	}
	bins := buildIncidents(t)
	for i, c := range incidentCases {
		t.Run(c.program, func(t *testing.T) {
			p := startIncident(t, bins[i], c.program)
			time.Sleep(incidentWarmUp) // not an assertion: the fault needs time to show
			r := gdiag(t, p.dir, "doctor", strconv.Itoa(p.pid), "--window", doctorWindow, "--json")
			var rep doctorReport
			decodeJSON(t, r, &rep)
			t.Logf("%s: exit %d, findings %s", c.program, r.Code, causes(rep))
			checkReport(t, c.program, c.cause, p, r, rep)
		})
	}
}

// checkReport checks doctor's verdict on one program.
func checkReport(t *testing.T, program, cause string, p *incident, r result, rep doctorReport) {
	t.Helper()
	if rep.PID != p.pid {
		t.Errorf("doctor pid = %d; want %d", rep.PID, p.pid)
	}
	if d, err := time.ParseDuration(rep.Window); err != nil || d <= 0 {
		t.Errorf("doctor window = %q; want a positive Go duration", rep.Window)
	}
	if len(rep.Errors) > 0 {
		t.Errorf("doctor errors = %q; want none on a live process", rep.Errors)
	}
	if cause == "" {
		if r.Code != 0 || len(rep.Findings) != 0 {
			t.Fatalf("doctor on %s: exit %d, findings %s; want exit 0 and no findings\n%s\nprogram stderr:\n%s",
				program, r.Code, causes(rep), r, p.Tail(4000))
		}
		return
	}
	if r.Code != 1 || len(rep.Findings) == 0 || rep.Findings[0].Cause != cause {
		t.Fatalf("doctor on %s: exit %d, findings %s; want exit 1 with %s first\n%s\nprogram stderr:\n%s",
			program, r.Code, causes(rep), cause, r, p.Tail(4000))
	}
	f := rep.Findings[0]
	nonZero := 0
	for _, e := range f.Evidence {
		if e.Value != 0 {
			nonZero++
		}
	}
	if nonZero == 0 {
		t.Errorf("doctor on %s: finding %s has no evidence figure other than 0: %+v", program, f.Cause, f.Evidence)
	}
	if f.Title == "" || f.Summary == "" || len(f.Next) == 0 {
		t.Errorf("doctor on %s: finding %s has title %q, summary %q, next %q; want all three",
			program, f.Cause, f.Title, f.Summary, f.Next)
	}
}

// causes lists a report's causes in rank order, for messages.
func causes(rep doctorReport) string {
	var cs []string
	for _, f := range rep.Findings {
		cs = append(cs, fmt.Sprintf("%s(%s %.1f)", f.Cause, f.Severity, f.Score))
	}
	return "[" + strings.Join(cs, " ") + "]"
}

// buildIncidents builds every incident program and returns their paths in
// the order of incidentCases. They are built without -race, unlike the
// other programs the end-to-end tests run: doctor's verdict on them rests
// on CPU use and scheduling latency, which the race detector's overhead
// changes (built with it, on a busy machine, the stw program read as CPU
// saturation first). gdiag itself is built with -race, and the agent code
// the programs share runs under the race detector in the demo.
func buildIncidents(t *testing.T) []string {
	t.Helper()
	pkgs := make([]string, len(incidentCases))
	for i, c := range incidentCases {
		pkgs[i] = "./examples/incidents/" + c.program
	}
	bins, err := e2etest.BuildWith(e2etest.Plain, pkgs...)
	if err != nil {
		t.Fatal(err)
	}
	return bins
}

// incident is a running incident program.
type incident struct {
	*e2etest.Proc
	pid int
	dir string // the agent's directory: pass as GDIAG_DIR
}

// startIncident starts an incident program with a private agent
// directory, waits for its ready line, and at the end of the test stops
// it (SIGTERM, then SIGKILL of its process group) and checks that it
// exited cleanly without a data race.
func startIncident(t *testing.T, bin, name string) *incident {
	t.Helper()
	dir, err := os.MkdirTemp("", "gd") // short: socket paths are limited to 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	// -duration bounds the program even if the test binary is killed.
	proc, err := e2etest.Start(name, exec.Command(bin, "-agent-dir", dir, "-duration", "3m"))
	if err != nil {
		os.RemoveAll(dir)
		t.Fatal(err)
	}
	p := &incident{Proc: proc, pid: proc.PID(), dir: dir}
	t.Cleanup(func() {
		defer os.RemoveAll(dir)
		err := p.Stop(15 * time.Second)
		switch {
		case p.Races() != "":
			t.Errorf("incident program %s reported a data race:\n%s", name, p.Races())
		case errors.Is(err, e2etest.ErrKilled):
			t.Errorf("incident program %s did not exit within 15 s of SIGTERM", name)
		case err != nil:
			t.Errorf("incident program %s exited with %v after SIGTERM; want status 0\noutput:\n%s", name, err, p.Tail(4000))
		}
	})
	want := fmt.Sprintf("incident: %s pid %d ready", name, p.pid)
	l, err := p.WaitLine(e2etest.Stdout, 60*time.Second, func(string) bool { return true })
	if err != nil {
		t.Fatal(err)
	}
	if l != want {
		t.Fatalf("%s printed %q; want %q", name, l, want)
	}
	return p
}
