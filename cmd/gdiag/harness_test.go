package main_test

// The end-to-end harness: TestMain builds gdiag and the demo service once;
// tests run the real binary against real processes and read its output.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gdiag/gdiag/internal/e2etest"
)

var (
	gdiagBin string
	demoBin  string
)

func TestMain(m *testing.M) {
	// gdiag and the demo are built once, with -race like the tests: a data
	// race in either fails the test that met it.
	b, err := e2etest.Build("./cmd/gdiag", e2etest.DemoPackage)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	gdiagBin, demoBin = b[0], b[1]
	code := m.Run()
	if r := shared.stop(); r != "" {
		fmt.Fprintf(os.Stderr, "the shared demo reported a data race:\n%s\n", r)
		code = 1
	}
	e2etest.RemoveBuilds()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// demo is a running demo service with the agent on a socket and on
// token-protected loopback TCP.
type demo struct {
	*e2etest.Demo
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
	ed, err := e2etest.StartDemo([]string{"GDIAG_TOKEN=" + testToken}, append([]string{"-agent-tcp", "127.0.0.1:0"}, extra...)...)
	if err != nil {
		return nil, err
	}
	d := &demo{Demo: ed, PID: ed.PID(), Base: ed.URL, Dir: ed.AgentDir, Token: testToken}
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

// stop ends the demo (SIGTERM, then SIGKILL after 10 s) and removes its
// dir. It returns the race detector's reports, if the demo made any.
func (d *demo) stop() string {
	if d == nil {
		return ""
	}
	d.Demo.Stop(10 * time.Second)
	return d.Races()
}

// startDemoT starts a demo for one test and stops it at the test's end.
func startDemoT(t *testing.T, extra ...string) *demo {
	t.Helper()
	d, err := startDemo(extra...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if r := d.stop(); r != "" {
			t.Errorf("the demo reported a data race:\n%s", r)
		}
	})
	return d
}

// shared is one demo under steady load that read-only tests share.
var shared sharedDemoT

type sharedDemoT struct {
	once sync.Once
	d    *demo
	err  error
}

func (s *sharedDemoT) stop() string { return s.d.stop() }

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
	if e2etest.HasRace(r.Stderr) {
		t.Errorf("gdiag %s reported a data race:\n%s", strings.Join(args, " "), r.Stderr)
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
