package main

import (
	"bufio"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildDemo builds the program into a temporary directory.
func buildDemo(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "demo")
	gotool := "go" // go test puts its own GOROOT/bin first on PATH
	out, err := exec.Command(gotool, "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startDemo starts the binary with args, returns its base URL from the
// first stdout line, and kills it at the end of the test if still running.
func startDemo(t *testing.T, bin string, args ...string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			_ = cmd.Wait()
		}
	})
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Scan()
		line <- sc.Text()
		for sc.Scan() { // drain, so that the program never blocks on stdout
		}
	}()
	select {
	case l := <-line:
		base, ok := strings.CutPrefix(l, "demo: listening on ")
		if !ok || !strings.HasPrefix(base, "http://127.0.0.1:") {
			t.Fatalf("first stdout line = %q; want demo: listening on http://127.0.0.1:PORT", l)
		}
		return cmd, base
	case <-time.After(30 * time.Second):
		t.Fatal("no listening line within 30 s")
	}
	return nil, ""
}

// waitExit waits (bounded) for cmd to exit and returns its error.
func waitExit(t *testing.T, cmd *exec.Cmd) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("the program did not exit within 30 s")
		return nil
	}
}

// TestBinary runs the built program as the end-to-end tests do: it serves
// the pool metrics, switches incidents over HTTP, exits 0 on SIGTERM and
// removes its probes socket; with -duration it exits 0 by itself.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the program; skipped with -short")
	}
	bin := buildDemo(t)

	t.Run("sigterm", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "agent")
		cmd, base := startDemo(t, bin, "-listen", "127.0.0.1:0", "-agent-dir", dir, "-load", "50", "-duration", "60s")
		client := &http.Client{Timeout: 10 * time.Second}
		defer client.CloseIdleConnections()
		waitFor(t, `gdiag_pool_tasks_total{...pool="http"...} in /metrics`, func() bool {
			body, _ := do(t, client, http.MethodGet, base+"/metrics")
			return strings.Contains(body, "gdiag_pool_tasks_total{") && strings.Contains(body, `pool="http"`)
		})
		if socks, _ := filepath.Glob(filepath.Join(dir, "*.sock")); len(socks) != 1 {
			t.Errorf("sockets in %s while running = %q; want one", dir, socks)
		}
		for _, name := range []string{"cpu", "none"} {
			if body, code := do(t, client, http.MethodPost, base+"/incident?name="+name); code != http.StatusOK || !strings.Contains(body, `"incident":"`+name+`"`) {
				t.Errorf("POST /incident?name=%s = %d %q; want 200 with the incident", name, code, body)
			}
			if body, _ := do(t, client, http.MethodGet, base+"/incident"); !strings.Contains(body, `"incident":"`+name+`"`) {
				t.Errorf("GET /incident = %q; want %s", body, name)
			}
		}
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if err := waitExit(t, cmd); err != nil {
			t.Errorf("exit after SIGTERM: %v; want status 0", err)
		}
		if left, _ := os.ReadDir(dir); len(left) != 0 {
			t.Errorf("%s after exit holds %d entries; want none (socket and discovery file removed)", dir, len(left))
		}
	})

	t.Run("duration", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "agent")
		cmd, _ := startDemo(t, bin, "-listen", "127.0.0.1:0", "-agent-dir", dir, "-load", "10", "-incident", "gc", "-duration", "1s")
		if err := waitExit(t, cmd); err != nil {
			t.Errorf("exit after -duration: %v; want status 0", err)
		}
	})

	t.Run("bad flag", func(t *testing.T) {
		err := exec.Command(bin, "-incident", "meteor").Run()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 2 {
			t.Errorf("exit with an unknown incident: %v; want status 2", err)
		}
	})
}
