package probes

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gdiag/gdiag/apiv1"
	"go.uber.org/goleak"
)

// unixClient talks HTTP over the socket at path.
func unixClient(path string) (*http.Client, func()) {
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", path)
	}}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}, tr.CloseIdleConnections
}

func getJSON(t *testing.T, c *http.Client, url, token string, v any) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK && v != nil {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatalf("GET %s: decode: %v", url, err)
		}
	}
	return resp.StatusCode
}

// logBuffer is a concurrency-safe log sink for checking what an agent logged.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// shortTempDir returns a directory with a short path: socket paths are
// limited to 107 bytes and t.TempDir's can be long.
func shortTempDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "gd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

func TestStartServesSocketAndStops(t *testing.T) {
	defer goleak.VerifyNone(t)
	dir := filepath.Join(shortTempDir(t), "rt")
	for round := range 2 { // Start, stop, and Start again in the same process
		a, err := Start(Options{Dir: dir, Interval: 10 * time.Millisecond})
		if err != nil {
			t.Fatalf("round %d: Start: %v", round, err)
		}
		if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("dir mode = %v (%v); want 0700", fi.Mode().Perm(), err)
		}
		if fi, err := os.Stat(a.SocketPath()); err != nil || fi.Mode().Perm() != 0o600 || fi.Mode().Type() != os.ModeSocket {
			t.Errorf("socket %s mode = %v (%v); want a 0600 socket", a.SocketPath(), fi.Mode(), err)
		}
		var d apiv1.Discovery
		b, err := os.ReadFile(a.DiscoveryPath())
		if err != nil || json.Unmarshal(b, &d) != nil {
			t.Fatalf("discovery file %q: %v", a.DiscoveryPath(), err)
		}
		if d.PID != os.Getpid() || d.Socket != a.SocketPath() || d.APIVersion != "v1" || d.GoVersion == "" ||
			d.TCPAddr != "" || d.Token != "" || filepath.Base(a.DiscoveryPath()) != strconv.Itoa(os.Getpid())+".json" {
			t.Errorf("discovery = %+v; want this process's socket, no TCP, no token", d)
		}
		if fi, _ := os.Stat(a.DiscoveryPath()); fi.Mode().Perm() != 0o600 {
			t.Errorf("discovery file mode = %v; want 0600", fi.Mode().Perm())
		}

		c, closeIdle := unixClient(a.SocketPath())
		var info apiv1.Info
		if code := getJSON(t, c, "http://gdiag/v1/info", "", &info); code != 200 || info.PID != os.Getpid() {
			t.Errorf("GET /v1/info over the socket = %d %+v; want 200 and our pid", code, info)
		}
		var hist apiv1.History
		for deadline := time.Now().Add(30 * time.Second); len(hist.Snapshots) < 2 && time.Now().Before(deadline); {
			getJSON(t, c, "http://gdiag/v1/history", "", &hist)
			time.Sleep(10 * time.Millisecond)
		}
		if len(hist.Snapshots) < 2 {
			t.Errorf("history has %d snapshots; want the sampler to add some", len(hist.Snapshots))
		}
		var snap apiv1.Snapshot
		if code := getJSON(t, c, "http://gdiag/v1/snapshot", "", &snap); code != 200 || snap.Snapshot.GOMAXPROCS <= 0 {
			t.Errorf("GET /v1/snapshot = %d %+v", code, snap.Snapshot)
		}
		closeIdle()

		sock, disc := a.SocketPath(), a.DiscoveryPath()
		if err := a.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if err := a.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		for _, p := range []string{sock, disc} {
			if _, err := os.Lstat(p); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s still exists after Close (%v)", p, err)
			}
		}
	}
}

func TestCloseTwice(t *testing.T) {
	defer goleak.VerifyNone(t)
	a, err := Start(Options{Dir: filepath.Join(shortTempDir(t), "rt")})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := a.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestTCPToken(t *testing.T) {
	defer goleak.VerifyNone(t)
	a, err := Start(Options{Dir: filepath.Join(shortTempDir(t), "rt"), TCPAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if len(a.Token()) != 64 {
		t.Errorf("generated token %q; want 64 hex digits", a.Token())
	}
	var d apiv1.Discovery
	b, _ := os.ReadFile(a.DiscoveryPath())
	if json.Unmarshal(b, &d); d.TCPAddr != a.Addr().String() || d.Token != a.Token() {
		t.Errorf("discovery = %+v; want the TCP address and the generated token", d)
	}
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	url := "http://" + a.Addr().String() + "/v1/info"
	for _, tok := range []string{"", "wrong", a.Token() + "x", strings.ToUpper(a.Token())} {
		if code := getJSON(t, c, url, tok, nil); code != http.StatusUnauthorized {
			t.Errorf("GET /v1/info with token %q = %d; want 401", tok, code)
		}
	}
	var info apiv1.Info
	if code := getJSON(t, c, url, a.Token(), &info); code != 200 || info.PID != os.Getpid() {
		t.Errorf("GET /v1/info with the token = %d; want 200", code)
	}
	a.Close()
}

func TestTCPGivenTokenNotWritten(t *testing.T) {
	defer goleak.VerifyNone(t)
	a, err := Start(Options{Dir: filepath.Join(shortTempDir(t), "rt"), TCPAddr: "localhost:0", Token: "t0ken"})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, _ := os.ReadFile(a.DiscoveryPath())
	if a.Token() != "t0ken" || bytes.Contains(b, []byte("t0ken")) {
		t.Errorf("Token() = %q, discovery %s; want the given token, not written to the file", a.Token(), b)
	}
	if !a.Addr().(*net.TCPAddr).IP.IsLoopback() {
		t.Errorf("localhost:0 listens on %v; want loopback", a.Addr())
	}
}

func TestNonLoopbackRefused(t *testing.T) {
	defer goleak.VerifyNone(t)
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0", "192.0.2.1:0", "example.com:0"} {
		a, err := Start(Options{NoSocket: true, TCPAddr: addr})
		if !errors.Is(err, ErrNonLoopback) {
			t.Errorf("Start(TCPAddr %q) = %v; want ErrNonLoopback", addr, err)
			if a != nil {
				a.Close()
			}
		}
	}
	a, err := Start(Options{NoSocket: true, TCPAddr: "0.0.0.0:0", AllowNonLoopback: true, Token: "x"})
	if err != nil {
		t.Fatalf("Start(0.0.0.0:0, AllowNonLoopback) = %v; want it to listen", err)
	}
	a.Close()
}

func TestNoListener(t *testing.T) {
	defer goleak.VerifyNone(t)
	if _, err := Start(Options{NoSocket: true}); !errors.Is(err, ErrNoListener) {
		t.Errorf("Start(NoSocket) = %v; want ErrNoListener", err)
	}
	// A runtime directory that cannot be made, and no way to fall back
	// (TMPDIR under a file too): no listener at all.
	file := filepath.Join(shortTempDir(t), "file")
	os.WriteFile(file, nil, 0o600)
	t.Setenv("TMPDIR", file)
	a, err := Start(Options{Dir: filepath.Join(file, "gdiag")})
	if !errors.Is(err, ErrNoListener) || a != nil {
		t.Errorf("Start(Dir under a file, TMPDIR a file) = %v, %v; want nil, ErrNoListener", a, err)
	}
	if err := a.Close(); err != nil {
		t.Errorf("Close on the nil Agent of a failed Start = %v; want nil", err)
	}
}

// TestRuntimeDirFallback points XDG_RUNTIME_DIR below a regular file, so
// that the directory cannot be created (permission bits would not stop
// root), and checks that the agent falls back to TMPDIR/gdiag-<uid>.
func TestRuntimeDirFallback(t *testing.T) {
	defer goleak.VerifyNone(t)
	base := shortTempDir(t)
	file := filepath.Join(base, "f")
	os.WriteFile(file, nil, 0o600)
	t.Setenv("XDG_RUNTIME_DIR", file)
	t.Setenv("TMPDIR", base)
	var logs logBuffer
	a, err := Start(Options{Logger: logs.logger()})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	want := filepath.Join(base, "gdiag-"+strconv.Itoa(os.Getuid()))
	if filepath.Dir(a.SocketPath()) != want || filepath.Dir(a.DiscoveryPath()) != want {
		t.Errorf("socket %s, discovery %s; want both in %s", a.SocketPath(), a.DiscoveryPath(), want)
	}
	if !strings.Contains(logs.String(), "runtime directory unusable") {
		t.Errorf("log = %q; want the fallback explained", logs.String())
	}
	a.Close()

	// With XDG_RUNTIME_DIR usable, it comes first.
	xdg := filepath.Join(base, "xdg")
	os.Mkdir(xdg, 0o700)
	t.Setenv("XDG_RUNTIME_DIR", xdg)
	b, err := Start(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if filepath.Dir(b.SocketPath()) != filepath.Join(xdg, "gdiag") {
		t.Errorf("socket %s; want it in $XDG_RUNTIME_DIR/gdiag", b.SocketPath())
	}
}

func TestDiscoveryUnwritable(t *testing.T) {
	defer goleak.VerifyNone(t)
	dir := filepath.Join(shortTempDir(t), "rt")
	os.Mkdir(dir, 0o700)
	// A directory where the file belongs makes the rename fail, whoever we are.
	os.Mkdir(filepath.Join(dir, strconv.Itoa(os.Getpid())+".json"), 0o700)
	var logs logBuffer
	a, err := Start(Options{Dir: dir, Logger: logs.logger()})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if a.DiscoveryPath() != "" || !strings.Contains(logs.String(), "running without a discovery file") {
		t.Errorf("DiscoveryPath = %q, log %q; want none, and the log saying so", a.DiscoveryPath(), logs.String())
	}
	c, closeIdle := unixClient(a.SocketPath())
	defer closeIdle()
	if code := getJSON(t, c, "http://gdiag/v1/info", "", nil); code != 200 {
		t.Errorf("GET /v1/info = %d; want the socket to work without a discovery file", code)
	}
}

// TestUnsafeDirRefused: a directory open to others, a symlink, or another
// user's directory is never used; the agent falls back to a private
// directory of its own and says why.
func TestUnsafeDirRefused(t *testing.T) {
	defer goleak.VerifyNone(t)
	base := shortTempDir(t)
	t.Setenv("TMPDIR", base)
	open := filepath.Join(base, "open")
	os.Mkdir(open, 0o755)
	os.Chmod(open, 0o755)
	link := filepath.Join(base, "link")
	os.Symlink(open, link)
	dirs := map[string]string{"mode 0755": open, "a symlink": link}
	if os.Getuid() == 0 {
		other := filepath.Join(base, "other")
		os.Mkdir(other, 0o700)
		if err := os.Chown(other, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		dirs["owned by uid 65534"] = other
	} else if os.Getenv("GDIAG_E2E") == "1" {
		t.Error("cannot give a directory to another user without root; CI runs as root")
	}
	for what, dir := range dirs {
		a, err := Start(Options{Dir: dir})
		if !errors.Is(err, ErrUnsafeDir) || !errors.Is(err, ErrFallback) || a == nil {
			t.Errorf("Start(Dir %s) = %v, %v; want a running agent and ErrFallback with ErrUnsafeDir", what, a, err)
			continue
		}
		if got := filepath.Dir(a.SocketPath()); filepath.Dir(got) != base || !strings.HasPrefix(filepath.Base(got), "gdiag-") {
			t.Errorf("Start(Dir %s): socket %s; want it in a private directory under TMPDIR", what, a.SocketPath())
		}
		a.Close()
	}
}

func TestStaleDiscoveryCleaned(t *testing.T) {
	defer goleak.VerifyNone(t)
	dir := filepath.Join(shortTempDir(t), "rt")
	os.Mkdir(dir, 0o700)
	// pid_max is at most 4194304 on Linux, so this pid cannot exist.
	stale := filepath.Join(dir, "4194305.json")
	os.WriteFile(stale, []byte(`{"pid":4194305,"socket":"`+filepath.Join(dir, "4194305.sock")+`"}`), 0o600)
	os.WriteFile(filepath.Join(dir, "4194305.sock"), nil, 0o600)
	alive := filepath.Join(dir, "1.json") // pid 1 always exists
	os.WriteFile(alive, []byte(`{"pid":1}`), 0o600)
	a, err := Start(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for p, want := range map[string]bool{stale: false, filepath.Join(dir, "4194305.sock"): false, alive: true} {
		if _, err := os.Stat(p); (err == nil) != want {
			t.Errorf("%s exists = %v; want %v", p, err == nil, want)
		}
	}
}

// TestCloseEndsCaptures checks that stop does not wait for a long trace.
func TestCloseEndsCaptures(t *testing.T) {
	defer goleak.VerifyNone(t)
	a, err := Start(Options{Dir: filepath.Join(shortTempDir(t), "rt"), ShutdownTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	c, closeIdle := unixClient(a.SocketPath())
	defer closeIdle()
	done := make(chan struct{})
	go func() {
		defer close(done)
		resp, err := c.Get("http://gdiag/v1/trace?duration=4m")
		if err == nil {
			resp.Body.Close()
		}
	}()
	for deadline := time.Now().Add(30 * time.Second); !traceBusy.Load(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("trace never started")
		}
	}
	closed := make(chan error)
	go func() { closed <- a.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-time.After(50 * time.Second): // far below the 4m trace and the 1m timeout
		t.Fatal("Close waited for the trace")
	}
	<-done
}
