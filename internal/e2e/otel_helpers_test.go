package e2e_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// otelRepoRoot is the module root, two levels above this package.
func otelRepoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// otelTool returns the path of a server binary from GDIAG_TOOLS (default
// <repo>/.tools/bin), failing the test when it is missing.
func otelTool(t *testing.T, name string) string {
	t.Helper()
	dir := os.Getenv("GDIAG_TOOLS")
	if dir == "" {
		dir = filepath.Join(otelRepoRoot(t), ".tools", "bin")
	}
	p := filepath.Join(dir, name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s not found (%v); run scripts/setup, which builds it into %s", name, err, dir)
	}
	return p
}

// otelFreePort returns a loopback port that was free a moment ago.
func otelFreePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// otelProc is a started process in its own process group, with its output
// kept for failure messages.
type otelProc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error // valid after done is closed

	mu  sync.Mutex
	out bytes.Buffer
}

func (p *otelProc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.out.Len() < 1<<20 {
		p.out.Write(b)
	}
	return len(b), nil
}

// Output returns what the process has written so far (capped at 1 MB).
func (p *otelProc) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// otelStart starts a process whose stdout lines go to lines (if non-nil)
// and, with stderr, to its output buffer. A cleanup stops it.
func otelStart(t *testing.T, name string, lines chan<- string, path string, args ...string) *otelProc {
	t.Helper()
	p := &otelProc{name: name, done: make(chan struct{})}
	p.cmd = exec.Command(path, args...)
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p.cmd.Stderr = p
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		sc := bufio.NewScanner(io.TeeReader(stdout, p))
		for sc.Scan() {
			if lines != nil {
				select {
				case lines <- sc.Text():
				default: // nobody listens any more
				}
			}
		}
	}()
	go func() {
		<-copied
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() { p.stop(t, 15*time.Second) })
	return p
}

// stop sends SIGTERM to the process group, waits up to grace, then kills it.
// It returns the process's exit error.
func (p *otelProc) stop(t *testing.T, grace time.Duration) error {
	select {
	case <-p.done:
		return p.err
	default:
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
		return p.err
	case <-time.After(grace):
	}
	t.Errorf("%s did not exit %v after SIGTERM; killing it", p.name, grace)
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
	return p.err
}

// otelWaitPort polls until addr accepts TCP connections or the process exits.
func otelWaitPort(t *testing.T, p *otelProc, addr string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			t.Fatalf("%s exited before listening on %s: %v\n%s", p.name, addr, p.err, p.Output())
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s not listening on %s after %v\n%s", p.name, addr, timeout, p.Output())
}

// otelBuildDemo builds examples/demo into a test directory. The package has
// one OpenTelemetry test, so this is one build per test binary.
func otelBuildDemo(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "demo")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", path, "./examples/demo")
	cmd.Dir = otelRepoRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./examples/demo: %v\n%s", err, out)
	}
	return path
}

// otelWaitLine returns the first line from lines with the given prefix.
func otelWaitLine(lines <-chan string, prefix string, timeout time.Duration) (string, error) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		select {
		case l := <-lines:
			if strings.HasPrefix(l, prefix) {
				return l, nil
			}
		case <-timer.C:
			return "", errors.New("no line starting with " + prefix)
		}
	}
}
