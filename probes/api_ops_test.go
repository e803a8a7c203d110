package probes

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gdiag/gdiag/apiv1"
	"go.uber.org/goleak"
)

// TestOperations runs each operation through the agent's socket and its
// token TCP listener, checks what it changed and that it was logged with
// who asked, and restores the process's settings.
func TestOperations(t *testing.T) {
	defer goleak.VerifyNone(t)
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(math.MaxInt64))
	var logs logBuffer
	a, err := Start(Options{Dir: filepath.Join(shortTempDir(t), "rt"), TCPAddr: "127.0.0.1:0", Logger: logs.logger()})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx := context.Background()
	sock, err := apiv1.NewClient(a.SocketPath(), apiv1.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tcp, _ := apiv1.NewClient(a.Addr().String(), apiv1.ClientOptions{Token: a.Token()})

	info, err := sock.Info(ctx)
	if err != nil || !strings.Contains(strings.Join(info.Capabilities, " "), apiv1.CapOps) {
		t.Fatalf("Info = %+v, %v; want the ops capability", info.Capabilities, err)
	}
	ms, err := sock.MemStats(ctx)
	if err != nil || ms.MemStats.HeapSys == 0 || ms.GOGC != 100 || ms.MemoryLimit != math.MaxInt64 {
		t.Errorf("MemStats = heap %d, GOGC %d, limit %d, %v; want a heap, 100, no limit", ms.MemStats.HeapSys, ms.GOGC, ms.MemoryLimit, err)
	}
	before := ms.MemStats.NumGC
	if g, err := sock.GC(ctx); err != nil || g.Took <= 0 {
		t.Errorf("GC = %+v, %v", g, err)
	}
	if ms, _ := sock.MemStats(ctx); ms.MemStats.NumGC <= before {
		t.Errorf("NumGC %d after GC; want above %d", ms.MemStats.NumGC, before)
	}
	if p, err := tcp.SetGCPercent(ctx, 150); err != nil || p.Previous != 100 || p.Percent != 150 || debug.SetGCPercent(150) != 150 {
		t.Errorf("SetGCPercent(150) over TCP = %+v, %v; want 100 -> 150 in force", p, err)
	}
	if p, err := sock.SetGCPercent(ctx, -1); err != nil || p.Previous != 150 || p.Percent != -1 {
		t.Errorf("SetGCPercent(off) = %+v, %v", p, err)
	}
	if p, _ := sock.GCPercent(ctx); p.Percent != -1 {
		t.Errorf("GCPercent after off = %+v; want -1", p)
	}
	debug.SetGCPercent(100)
	if m, err := sock.SetMemoryLimit(ctx, 1<<30); err != nil || m.Previous != math.MaxInt64 || debug.SetMemoryLimit(-1) != 1<<30 {
		t.Errorf("SetMemoryLimit(1 GiB) = %+v, %v", m, err)
	}
	if m, _ := sock.MemoryLimit(ctx); m.Bytes != 1<<30 {
		t.Errorf("MemoryLimit = %+v; want 1 GiB", m)
	}
	if _, err := sock.SetMemoryLimit(ctx, 512); err == nil || !strings.Contains(err.Error(), "1 MiB") {
		t.Errorf("SetMemoryLimit(512) = %v; want a refusal of a limit under 1 MiB", err)
	}
	if m, err := sock.SetMemoryLimit(ctx, math.MaxInt64); err != nil || m.Bytes != math.MaxInt64 {
		t.Errorf("SetMemoryLimit(off) = %+v, %v", m, err)
	}
	// Without the token, nothing changes.
	bare, _ := apiv1.NewClient(a.Addr().String(), apiv1.ClientOptions{Token: "wrong"})
	if _, err := bare.SetGCPercent(ctx, 7); err == nil || debug.SetGCPercent(100) != 100 {
		t.Errorf("SetGCPercent with a wrong token = %v; want 401 and GOGC unchanged", err)
	}

	log := logs.String()
	for _, want := range []string{"op=gc", "op=setgc", "percent=150", "op=memlimit", "peer=\"socket uid", "peer=\"tcp 127.0.0.1:"} {
		if !strings.Contains(log, want) {
			t.Errorf("agent log lacks %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, "percent=7") {
		t.Errorf("agent log shows the refused setgc as done:\n%s", log)
	}
}

// TestHandlerOffersNoOperations: Handler authenticates no one, so it
// refuses every operation that changes the process.
func TestHandlerOffersNoOperations(t *testing.T) {
	defer goleak.VerifyNone(t)
	prev := debug.SetGCPercent(100)
	defer debug.SetGCPercent(prev)
	h := Handler(HandlerOptions{})
	for _, target := range []string{"/v1/gc", "/v1/gcpercent?percent=7", "/v1/memlimit?bytes=1073741824", "/v1/profile/mutex?duration=1s"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, target, nil))
		if rec.Code != http.StatusForbidden {
			t.Errorf("POST %s on Handler = %d %s; want 403", target, rec.Code, rec.Body.String())
		}
	}
	if debug.SetGCPercent(100) != 100 {
		t.Error("Handler changed GOGC")
	}
	if rec := get(t, h, "/v1/memstats"); rec.Code != http.StatusOK {
		t.Errorf("GET /v1/memstats on Handler = %d; want 200 (it reads only)", rec.Code)
	}
}

// TestProfileWithRate: with the rate switched on for the capture, a mutex
// profile of a process that profiles nothing holds the contention, and
// the rate is off again afterwards, also when the client leaves early.
func TestProfileWithRate(t *testing.T) {
	defer goleak.VerifyNone(t)
	if runtime.SetMutexProfileFraction(-1) != 0 {
		t.Skip("the test binary profiles mutexes already")
	}
	var logs logBuffer
	a, err := Start(Options{Dir: filepath.Join(shortTempDir(t), "rt"), Logger: logs.logger()})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	c, _ := apiv1.NewClient(a.SocketPath(), apiv1.ClientOptions{})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				mu.Lock()
				time.Sleep(50 * time.Microsecond)
				mu.Unlock()
			}
		}()
	}
	body, err := c.ProfileWithRate(context.Background(), "mutex", 500*time.Millisecond, 1)
	if err != nil {
		t.Fatal(err)
	}
	prof, _ := io.ReadAll(body)
	body.Close()
	close(stop)
	wg.Wait()
	if len(prof) < 100 || !bytes.HasPrefix(prof, []byte{0x1f, 0x8b}) {
		t.Errorf("mutex profile of %d bytes; want a gzipped profile with samples", len(prof))
	}
	if r := runtime.SetMutexProfileFraction(-1); r != 0 {
		t.Errorf("mutex fraction after the capture = %d; want 0 restored", r)
	}
	for _, want := range []string{"op=profile-rate-on", "op=profile-rate-restored"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %s:\n%s", want, logs.String())
		}
	}
	// A client that leaves early: the rate is restored all the same.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if body, err := c.ProfileWithRate(ctx, "block", time.Minute, 0); err == nil {
		io.Copy(io.Discard, body)
		body.Close()
	}
	for deadline := time.Now().Add(30 * time.Second); strings.Count(logs.String(), "op=profile-rate-restored") < 2; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the block rate was not restored after the client left:\n%s", logs.String())
		}
	}
}

const peerOpEnv = "GDIAG_TEST_PEER_OP"

// TestPeerOpHelper is the child of TestOperationsRefusedToOtherUser: as
// another uid it POSTs an operation to the URL in its environment
// (http+unix:PATH for the socket) and prints the answer.
func TestPeerOpHelper(t *testing.T) {
	target := os.Getenv(peerOpEnv)
	if target == "" {
		return
	}
	var c *http.Client
	u := target
	if path, ok := strings.CutPrefix(target, "unix:"); ok {
		var closeIdle func()
		c, closeIdle = unixClient(path)
		defer closeIdle()
		u = "http://gdiag"
	} else {
		c = &http.Client{}
	}
	c.Timeout = 20 * time.Second
	resp, err := c.Post(u+"/v1/gcpercent?percent=7", "", nil)
	if err != nil {
		fmt.Println("PEER-REFUSED:", err)
		os.Exit(0)
	}
	resp.Body.Close()
	fmt.Println("PEER-STATUS:", resp.StatusCode)
	os.Exit(0)
}

// TestOperationsRefusedToOtherUser: a process of another uid asks the
// agent to set GOGC over its socket (opened to everyone, so that only the
// peer check stands in the way) and over its TCP port (which needs the
// token it cannot read). Both are refused and logged; GOGC is unchanged.
func TestOperationsRefusedToOtherUser(t *testing.T) {
	needRoot(t)
	defer goleak.VerifyNone(t)
	prev := debug.SetGCPercent(100)
	defer debug.SetGCPercent(prev)
	base := shortTempDir(t)
	os.Chmod(base, 0o755)
	var logs logBuffer
	a, err := Start(Options{Dir: filepath.Join(base, "rt"), openPerms: true, TCPAddr: "127.0.0.1:0", Logger: logs.logger()})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for _, target := range []string{"unix:" + a.SocketPath(), "http://" + a.Addr().String()} {
		out := runAs65534(t, base, peerOpEnv+"="+target, "^TestPeerOpHelper$")
		if !strings.Contains(out, "PEER-REFUSED") && !strings.Contains(out, "PEER-STATUS: 401") {
			t.Errorf("uid 65534 POST gcpercent via %s: %q; want refused", target, out)
		}
	}
	if g := debug.SetGCPercent(100); g != 100 {
		t.Errorf("GOGC = %d after another user's attempts; want 100", g)
	}
	if !strings.Contains(logs.String(), "peer_uid=65534") {
		t.Errorf("log = %q; want the refusal of uid 65534 on the socket", logs.String())
	}
}

// runAs65534 runs this test binary's test run as uid/gid 65534 with env
// added, from a copy in dir (the build directory is closed to others).
func runAs65534(t *testing.T, dir, env, run string) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "probes.test")
	if _, err := os.Stat(bin); err != nil {
		src, err := os.ReadFile(exe)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(bin, src, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(bin, "-test.run="+run, "-test.count=1")
	cmd.Env = append(os.Environ(), env, "GOCOVERDIR=")
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child as uid 65534: %v\n%s", err, out)
	}
	return string(out)
}
