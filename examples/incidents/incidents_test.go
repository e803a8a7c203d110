package incidents_test

import (
	"bufio"
	"bytes"
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

// programs are the incident programs, one directory each.
var programs = []string{"healthy", "leak", "cpu", "mutex", "gc", "threads", "pool", "stw",
	"throttled", "contended", "conns", "staticleak", "preempt", "deadlock"}

// buildAll builds every program into one temporary directory.
func buildAll(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	args := []string{"build", "-o", dir + string(os.PathSeparator)}
	for _, p := range programs {
		args = append(args, "./"+p)
	}
	gotool := "go" // go test puts its own GOROOT/bin first on PATH
	if out, err := exec.Command(gotool, args...).CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return dir
}

// TestProgramsStartAndStop runs each program briefly: it must print its
// ready line with its own PID, serve the agent on its socket, and exit
// with status 0, removing the socket, at the end of -duration or on
// SIGTERM.
func TestProgramsStartAndStop(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs 14 programs; skipped with -short")
	}
	bins := buildAll(t)
	// Every program stops at the end of -duration; SIGTERM takes the same
	// path in the shared harness, so three programs suffice for it: the
	// baseline, the one with the most goroutines to stop, and conns, whose
	// client process must go with it.
	type run struct {
		name    string
		sigterm bool
	}
	runs := []run{{"healthy", true}, {"stw", true}, {"conns", true}}
	for _, p := range programs {
		runs = append(runs, run{p, false})
	}
	for _, r := range runs {
		how := "duration"
		if r.sigterm {
			how = "sigterm"
		}
		t.Run(r.name+"/"+how, func(t *testing.T) {
			t.Parallel() // at most GOMAXPROCS at once
			if r.name == "threads" && runtime.GOOS != "linux" {
				t.Skip("the threads incident needs Linux")
			}
			runOnce(t, filepath.Join(bins, r.name), r.name, r.sigterm)
		})
	}
}

func runOnce(t *testing.T, bin, name string, sigterm bool) {
	agentDir, err := os.MkdirTemp("", "gdi") // short: socket paths are limited to 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(agentDir)
	args := []string{"-agent-dir", agentDir, "-duration", "2s"}
	if sigterm {
		args[3] = "1m"
	}
	cmd := exec.Command(bin, args...)
	var stderr syncBuffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
		done <- cmd.Wait() // after stdout is drained, as Wait requires
	}()
	defer func() { // never leave a process behind
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-done
		}
	}()

	want := fmt.Sprintf("incident: %s pid %d ready", name, cmd.Process.Pid)
	select {
	case l := <-lines:
		if l != want {
			t.Fatalf("first stdout line = %q; want %q", l, want)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("no ready line within 30 s; stderr:\n%s", stderr.String())
	}
	sock := filepath.Join(agentDir, strconv.Itoa(cmd.Process.Pid)+".sock")
	if _, err := os.Stat(sock); err != nil {
		t.Errorf("agent socket after the ready line: %v", err)
	}
	if sigterm {
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("%s exited with %v; want status 0; stderr:\n%s", name, err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not exit within 30 s; stderr:\n%s", name, stderr.String())
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("agent socket after exit: Stat = %v; want it removed", err)
	}
	if !strings.Contains(stderr.String(), "stopping") {
		t.Errorf("stderr = %q; want the stopping line", stderr.String())
	}
}

// syncBuffer is a bytes.Buffer safe for the process's writes and the
// test's reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
