package apiv1_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	httppprof "net/http/pprof"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/gdiag/gdiag/apiv1"
	"github.com/gdiag/gdiag/pool"
	"github.com/gdiag/gdiag/probes"
)

// shortTempDir returns a private directory short enough for socket
// paths (108 bytes on Linux), removed at the end of the test.
func shortTempDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "ga")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// startAgent starts this process's agent with a socket and a TCP
// listener whose token it generated, so that the discovery file holds it.
func startAgent(t *testing.T) (*probes.Agent, string) {
	t.Helper()
	dir := filepath.Join(shortTempDir(t), "rt")
	a, err := probes.Start(probes.Options{Dir: dir, TCPAddr: "127.0.0.1:0", Interval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a, dir
}

// TestClientForms reaches one agent by PID, socket path, HOST:PORT and
// URL, and reads every JSON route through each.
func TestClientForms(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) }) // runs last, after the agent's cleanup
	p := pool.New("client-test", pool.WithMaxWorkers(1))
	defer p.Stop(context.Background())
	a, dir := startAgent(t)
	srv := httptest.NewServer(http.StripPrefix("/debug/gdiag", probes.Handler(probes.HandlerOptions{})))
	defer srv.Close()
	ctx := context.Background()
	pid := strconv.Itoa(os.Getpid())
	for _, target := range []string{pid, a.SocketPath(), a.Addr().String(), srv.URL + "/debug/gdiag"} {
		t.Run(target, func(t *testing.T) {
			c, err := apiv1.NewClient(target, apiv1.ClientOptions{Dir: dir, Timeout: 30 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			info, err := c.Info(ctx)
			if err != nil || info.PID != os.Getpid() || info.APIVersion != apiv1.Version {
				t.Fatalf("Info() = %+v, %v; want this process, %s", info, err, apiv1.Version)
			}
			if s, err := c.Snapshot(ctx); err != nil || s.GOMAXPROCS <= 0 {
				t.Errorf("Snapshot() = GOMAXPROCS %d, %v", s.GOMAXPROCS, err)
			}
			pools, err := c.Pools(ctx)
			if err != nil || !containsPool(pools, "client-test") {
				t.Errorf("Pools() = %+v, %v; want the pool client-test", pools, err)
			}
			g, err := c.Goroutines(ctx, apiv1.CensusFilter{MaxGroups: 3})
			if err != nil || g.Census.Goroutines == 0 || len(g.Census.Groups) > 3 || g.MaxGroups != 3 {
				t.Errorf("Goroutines(MaxGroups 3) = %d goroutines, %d groups, %v", g.Census.Goroutines, len(g.Census.Groups), err)
			}
			body, err := c.Profile(ctx, "heap", 0, 1)
			if err != nil {
				t.Fatalf("Profile(heap) = %v", err)
			}
			b, _ := io.ReadAll(body)
			body.Close()
			if !strings.Contains(string(b), "heap profile") {
				t.Errorf("Profile(heap, debug=1) = %.40q; want the text heap profile", b)
			}
			if strings.HasPrefix(target, "http") {
				return // Handler has no sampler: no history or findings
			}
			h, err := c.History(ctx, 0)
			if err != nil || len(h.Snapshots) == 0 {
				t.Errorf("History(0) = %d snapshots, %v", len(h.Snapshots), err)
			}
			if last, err := c.History(ctx, 1); err != nil || len(last.Snapshots) != 1 ||
				len(h.Snapshots) > 0 && last.Snapshots[0].Time.Before(h.Snapshots[len(h.Snapshots)-1].Time) {
				t.Errorf("History(1) = %d snapshots, %v; want the newest one", len(last.Snapshots), err)
			}
			if f, err := c.Findings(ctx); err != nil || f == nil {
				t.Errorf("Findings() = %v, %v; want a list", f, err)
			}
		})
	}
	if c, err := apiv1.NewClient(pid, apiv1.ClientOptions{Dir: dir}); err != nil || c.PID() != os.Getpid() || c.String() != pid {
		t.Errorf("NewClient(pid) = %v, %v; want PID %s", c, err, pid)
	}
}

func containsPool(ps []apiv1.Pool, name string) bool {
	for _, p := range ps {
		if p.Name == name {
			return true
		}
	}
	return false
}

// TestClientErrors: each way a target can fail has its error, found with
// errors.Is, and none waits longer than the timeout.
func TestClientErrors(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) }) // runs last, after the agent's cleanup
	a, dir := startAgent(t)
	ctx := context.Background()
	empty := shortTempDir(t)

	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	if _, err := apiv1.NewClient(strconv.Itoa(dead.Process.Pid), apiv1.ClientOptions{Dir: dir}); !errors.Is(err, apiv1.ErrNoProcess) {
		t.Errorf("NewClient(dead pid) = %v; want ErrNoProcess", err)
	}
	if _, err := apiv1.NewClient(strconv.Itoa(os.Getpid()), apiv1.ClientOptions{Dir: empty}); !errors.Is(err, apiv1.ErrNoAgent) {
		t.Errorf("NewClient(pid without a discovery file) = %v; want ErrNoAgent", err)
	}
	if _, err := apiv1.NewClient(a.Addr().String(), apiv1.ClientOptions{Dir: empty}); !errors.Is(err, apiv1.ErrNeedToken) {
		t.Errorf("NewClient(HOST:PORT without a token) = %v; want ErrNeedToken", err)
	}
	for _, bad := range []string{"not a target", "http://", "."} {
		if _, err := apiv1.NewClient(bad, apiv1.ClientOptions{}); !errors.Is(err, apiv1.ErrBadTarget) {
			t.Errorf("NewClient(%q) = %v; want ErrBadTarget", bad, err)
		}
	}

	wrong, err := apiv1.NewClient(a.Addr().String(), apiv1.ClientOptions{Token: "wrong"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = wrong.Info(ctx)
	var se *apiv1.StatusError
	if !errors.Is(err, apiv1.ErrUnauthorized) || !errors.As(err, &se) || se.StatusCode != http.StatusUnauthorized || se.Body.Hint == "" {
		t.Errorf("Info() with a wrong token = %v; want ErrUnauthorized, a 401 StatusError with the agent's hint", err)
	}

	ok, err := apiv1.NewClient(a.SocketPath(), apiv1.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ok.Flight(ctx); !errors.As(err, &se) || se.StatusCode != http.StatusNotFound {
		t.Errorf("Flight() without a recorder = %v; want a 404 StatusError", err)
	}
	a.Close() // the socket goes
	if _, err := ok.Info(ctx); !errors.Is(err, apiv1.ErrUnreachable) {
		t.Errorf("Info() after the agent stopped = %v; want ErrUnreachable", err)
	}

	hang := hangingListener(t)
	c, err := apiv1.NewClient(hang, apiv1.ClientOptions{Token: "x", Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := c.Info(ctx); !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "did not answer") {
		t.Errorf("Info() from a listener that never answers = %v; want a deadline error", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("Info() with Timeout 200ms took %v", took)
	}
}

// hangingListener accepts connections and never answers.
func hangingListener(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var conns []net.Conn
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// TestDiscoveryTrust: a discovery file is read only from a directory of
// the user's own with mode 0700, only when it is a regular file of the
// user's, not a symlink, and small; each refusal is ErrUntrusted.
func TestDiscoveryTrust(t *testing.T) {
	a, dir := startAgent(t)
	pid := strconv.Itoa(os.Getpid())
	file := filepath.Join(dir, pid+".json")
	good, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if found, err := apiv1.Discover(dir); err != nil || len(found) != 1 || found[0].Socket != a.SocketPath() || found[0].Path != file {
		t.Fatalf("Discover(agent's dir) = %+v, %v; want this agent", found, err)
	}

	// A directory others can enter.
	open := filepath.Join(shortTempDir(t), "open")
	if err := os.Mkdir(open, 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chmod(open, 0o755)
	os.WriteFile(filepath.Join(open, pid+".json"), good, 0o600)
	if _, err := apiv1.NewClient(pid, apiv1.ClientOptions{Dir: open}); !errors.Is(err, apiv1.ErrUntrusted) || !strings.Contains(err.Error(), "mode") {
		t.Errorf("NewClient(pid) with its file in a 0755 directory = %v; want ErrUntrusted naming the mode", err)
	}
	if found, err := apiv1.Discover(open); len(found) != 0 || !errors.Is(err, apiv1.ErrUntrusted) {
		t.Errorf("Discover(0755 directory) = %+v, %v; want nothing and ErrUntrusted", found, err)
	}

	private := func() string {
		d := filepath.Join(shortTempDir(t), "p")
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
		return d
	}
	// A symlink to the real file.
	link := private()
	if err := os.Symlink(file, filepath.Join(link, pid+".json")); err != nil {
		t.Fatal(err)
	}
	if _, err := apiv1.NewClient(pid, apiv1.ClientOptions{Dir: link}); !errors.Is(err, apiv1.ErrUntrusted) {
		t.Errorf("NewClient(pid) with its file a symlink = %v; want ErrUntrusted", err)
	}
	// A huge sparse file is refused by its size, before it is read.
	huge := private()
	f, err := os.OpenFile(filepath.Join(huge, pid+".json"), os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	f.Truncate(4 << 30)
	f.Close()
	if _, err := apiv1.NewClient(pid, apiv1.ClientOptions{Dir: huge}); !errors.Is(err, apiv1.ErrUntrusted) || !strings.Contains(err.Error(), "bytes") {
		t.Errorf("NewClient(pid) with a 4 GiB discovery file = %v; want ErrUntrusted for its size", err)
	}
	// A file for another pid under this pid's name.
	other := private()
	os.WriteFile(filepath.Join(other, pid+".json"), []byte(`{"pid":1,"socket":"/nonexistent"}`), 0o600)
	if _, err := apiv1.NewClient(pid, apiv1.ClientOptions{Dir: other}); !errors.Is(err, apiv1.ErrUntrusted) {
		t.Errorf("NewClient(pid) with a file naming pid 1 = %v; want ErrUntrusted", err)
	}
}

// TestPoolStatsWireNames: Pool is pool.Stats itself, so no field can go
// missing on the wire; every field of it (and of its histogram and key
// types) must carry a JSON name, or the wire would show Go's field names.
func TestPoolStatsWireNames(t *testing.T) {
	for _, v := range []any{pool.Stats{}, pool.Histogram{}, pool.KeyStats{}, pool.Refusals{}, pool.Rate{}, pool.BreakerStats{}} {
		typ := reflect.TypeOf(v)
		for i := range typ.NumField() {
			f := typ.Field(i)
			if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); name == "" || name == f.Name {
				t.Errorf("%v.%s has JSON name %q; want a lower-camel-case wire name", typ, f.Name, name)
			}
		}
	}
}

// TestClientPlainTextError checks that a plain-text error answer (here the
// real net/http/pprof CPU handler, mounted where the agent's would be,
// while this process already profiles) keeps its words in the
// StatusError, instead of the status text "Internal Server Error".
func TestClientPlainTextError(t *testing.T) {
	if err := pprof.StartCPUProfile(io.Discard); err != nil {
		t.Fatal(err)
	}
	defer pprof.StopCPUProfile()
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/profile/cpu", httppprof.Profile)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c, err := apiv1.NewClient(srv.URL, apiv1.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Profile(context.Background(), "cpu", time.Second, 0)
	var se *apiv1.StatusError
	if !errors.As(err, &se) || se.StatusCode != http.StatusInternalServerError || !strings.Contains(se.Body.Error, "cpu profiling already in use") {
		t.Errorf("Profile(cpu) while profiling = %v; want a 500 StatusError saying \"cpu profiling already in use\"", err)
	}
}
