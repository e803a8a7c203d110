package main_test

// TestDoctorIncidents runs gdiag doctor on each program of
// examples/incidents and checks that it names the right cause first.

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
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
	for _, c := range incidentCases {
		t.Run(c.program, func(t *testing.T) {
			p := startIncident(t, filepath.Join(bins, c.program), c.program)
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
				program, r.Code, causes(rep), r, p.stderr.String())
		}
		return
	}
	if r.Code != 1 || len(rep.Findings) == 0 || rep.Findings[0].Cause != cause {
		t.Fatalf("doctor on %s: exit %d, findings %s; want exit 1 with %s first\n%s\nprogram stderr:\n%s",
			program, r.Code, causes(rep), cause, r, p.stderr.String())
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

// buildIncidents builds every incident program into one directory under
// the harness's binaries.
func buildIncidents(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(bins, "incidents")
	args := []string{"build", "-o", dir + string(os.PathSeparator)}
	for _, c := range incidentCases {
		args = append(args, "../../examples/incidents/"+c.program)
	}
	gotool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if out, err := exec.Command(gotool, args...).CombinedOutput(); err != nil {
		t.Fatalf("go build incidents: %v\n%s", err, out)
	}
	return dir
}

// incident is a running incident program.
type incident struct {
	cmd    *exec.Cmd
	pid    int
	dir    string // the agent's directory: pass as GDIAG_DIR
	stderr *syncText
	done   chan struct{} // closed when the process has been waited for
}

// startIncident starts an incident program with a private agent
// directory, waits for its ready line, and stops it (SIGTERM, then
// SIGKILL of its process group) at the end of the test.
func startIncident(t *testing.T, bin, name string) *incident {
	t.Helper()
	dir, err := os.MkdirTemp("", "gd") // short: socket paths are limited to 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	// -duration bounds the program even if the test binary is killed.
	cmd := exec.Command(bin, "-agent-dir", dir, "-duration", "3m")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p := &incident{cmd: cmd, dir: dir, stderr: new(syncText), done: make(chan struct{})}
	cmd.Stderr = p.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		t.Fatal(err)
	}
	p.pid = cmd.Process.Pid
	first := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			first <- sc.Text()
		}
		for sc.Scan() { // drain, so that the program never blocks on stdout
		}
		_ = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() { p.stop(t) })
	want := fmt.Sprintf("incident: %s pid %d ready", name, p.pid)
	select {
	case l := <-first:
		if l != want {
			t.Fatalf("%s printed %q; want %q", name, l, want)
		}
	case <-p.done:
		t.Fatalf("%s exited before its ready line: %v\nstderr:\n%s", name, cmd.ProcessState, p.stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("%s printed no ready line in 30 s; stderr:\n%s", name, p.stderr.String())
	}
	return p
}

// stop ends the program and checks that it exited cleanly.
func (p *incident) stop(t *testing.T) {
	defer os.RemoveAll(p.dir)
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		if !p.cmd.ProcessState.Success() {
			t.Errorf("incident program exited with %v after SIGTERM; want status 0\nstderr:\n%s",
				p.cmd.ProcessState, p.stderr.String())
		}
	case <-time.After(15 * time.Second):
		_ = syscall.Kill(-p.pid, syscall.SIGKILL)
		<-p.done
		t.Errorf("incident program did not exit within 15 s of SIGTERM")
	}
}

// syncText collects a process's stderr; it is safe for the process's
// writes and the test's reads.
type syncText struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncText) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncText) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
