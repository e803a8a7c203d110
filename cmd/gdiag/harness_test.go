package main_test

// The end-to-end harness: TestMain builds gdiag and the demo service once;
// tests run the real binary against real processes and read its output.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

var (
	bins     string // directory of the built binaries
	gdiagBin string
	demoBin  string
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gdiag-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bins, gdiagBin, demoBin = dir, filepath.Join(dir, "gdiag"), filepath.Join(dir, "demo")
	if err := build(gdiagBin, "."); err == nil {
		err = build(demoBin, "../../examples/demo")
	} else {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	shared.stop()
	os.RemoveAll(dir)
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

func build(out, pkg string) error {
	gotool := filepath.Join(runtime.GOROOT(), "bin", "go")
	b, err := exec.Command(gotool, "build", "-o", out, pkg).CombinedOutput()
	if err != nil {
		return fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
	}
	return nil
}

// demo is a running demo service with the agent on a socket and on
// token-protected loopback TCP.
type demo struct {
	cmd    *exec.Cmd
	PID    int
	Base   string // the service's HTTP URL
	Dir    string // the agent's directory (socket and discovery file)
	Socket string
	TCP    string // host:port of the agent's TCP listener
	Token  string
}

const testToken = "e2e-token-0123456789abcdef"

// startDemo starts the demo with extra args; the caller stops it.
func startDemo(extra ...string) (*demo, error) {
	dir, err := os.MkdirTemp("", "gd") // short: socket paths are limited to 108 bytes
	if err != nil {
		return nil, err
	}
	args := append([]string{"-listen", "127.0.0.1:0", "-agent-dir", dir, "-agent-tcp", "127.0.0.1:0"}, extra...)
	cmd := exec.Command(demoBin, args...)
	cmd.Env = append(os.Environ(), "GDIAG_TOKEN="+testToken)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stderr bytes.Buffer
	cmd.Stderr = &lockedWriter{w: &stderr}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	d := &demo{cmd: cmd, PID: cmd.Process.Pid, Dir: dir, Token: testToken}
	first := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		sc.Scan()
		first <- sc.Text()
		for sc.Scan() {
		}
	}()
	select {
	case l := <-first:
		d.Base, _ = strings.CutPrefix(l, "demo: listening on ")
	case <-time.After(30 * time.Second):
		d.stop()
		return nil, fmt.Errorf("demo printed no listening line in 30 s; stderr:\n%s", stderr.String())
	}
	if err := d.readDiscovery(); err != nil {
		d.stop()
		return nil, err
	}
	return d, nil
}

func (d *demo) readDiscovery() error {
	var disc struct{ Socket, TCPAddr string }
	b, err := os.ReadFile(filepath.Join(d.Dir, fmt.Sprint(d.PID)+".json"))
	if err == nil {
		err = json.Unmarshal(b, &disc)
	}
	if err != nil {
		return fmt.Errorf("demo discovery file: %v", err)
	}
	d.Socket, d.TCP = disc.Socket, disc.TCPAddr
	return nil
}

// stop ends the demo (SIGTERM, then SIGKILL after 10 s) and removes its dir.
func (d *demo) stop() {
	if d == nil || d.cmd.ProcessState != nil {
		return
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = d.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-d.PID, syscall.SIGKILL)
		<-done
	}
	os.RemoveAll(d.Dir)
}

// startDemoT starts a demo for one test and stops it at the test's end.
func startDemoT(t *testing.T, extra ...string) *demo {
	t.Helper()
	d, err := startDemo(extra...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.stop)
	return d
}

// shared is one demo under steady load that read-only tests share.
var shared sharedDemoT

type sharedDemoT struct {
	once sync.Once
	d    *demo
	err  error
}

func (s *sharedDemoT) stop() { s.d.stop() }

// sharedDemo returns the shared demo, starting it on first use.
func sharedDemo(t *testing.T) *demo {
	t.Helper()
	shared.once.Do(func() { shared.d, shared.err = startDemo("-load", "100") })
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.d
}

// result is what one gdiag run printed and its exit code.
type result struct {
	Stdout, Stderr string
	Code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
}

// gdiag runs the built gdiag with args, with GDIAG_DIR pointing at dir
// (when not empty), and kills it after two minutes.
func gdiag(t *testing.T, dir string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, gdiagBin, args...)
	cmd.Env = append(os.Environ(), "GDIAG_DIR="+dir, "GDIAG_TOKEN=")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{Stdout: out.String(), Stderr: errb.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		r.Code = exit.ExitCode()
	case err != nil:
		t.Fatalf("gdiag %s: %v", strings.Join(args, " "), err)
	}
	if ctx.Err() != nil {
		t.Fatalf("gdiag %s did not end within 2 minutes", strings.Join(args, " "))
	}
	return r
}

// decodeJSON decodes r's stdout strictly into v (unknown fields are an
// error, so that the documented schema and the output stay the same).
func decodeJSON(t *testing.T, r result, v any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(r.Stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decoding --json output: %v\n%s", err, r)
	}
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
