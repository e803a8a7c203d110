package probes

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/gdiag/gdiag/apiv1"
	"go.uber.org/goleak"
)

// TestPlantedRuntimeDir: another user creates os.TempDir()/gdiag-<uid>
// before the service starts (anyone can, when XDG_RUNTIME_DIR is unset).
// The service must start anyway with its agent running, say why in
// Start's error, write nothing (no token least of all) into the planted
// directory, and still be found by gdiag by PID.
func TestPlantedRuntimeDir(t *testing.T) {
	defer goleak.VerifyNone(t)
	if os.Getuid() != 0 {
		if os.Getenv("GDIAG_E2E") == "1" {
			t.Fatal("planting a directory as another user needs root; CI runs as root")
		}
		t.Skip("planting a directory as another user needs root")
	}
	base := shortTempDir(t)
	os.Chmod(base, 0o1777) // like /tmp
	t.Setenv("TMPDIR", base)
	t.Setenv("XDG_RUNTIME_DIR", "")
	planted := filepath.Join(base, "gdiag-"+strconv.Itoa(os.Getuid()))
	if err := os.Mkdir(planted, 0o777); err != nil {
		t.Fatal(err)
	}
	os.Chmod(planted, 0o777)
	if err := os.Chown(planted, 65534, 65534); err != nil {
		t.Fatal(err)
	}

	var logs logBuffer
	a, err := Start(Options{TCPAddr: "127.0.0.1:0", Logger: logs.logger()})
	t.Cleanup(func() { a.Close() }) // nil-safe; the agent runs although err is set
	if a == nil || !errors.Is(err, ErrFallback) || !errors.Is(err, ErrUnsafeDir) {
		t.Fatalf("Start with %s planted by uid 65534 = %v, %v; want a running agent and ErrFallback naming the refused directory", planted, a, err)
	}
	if !strings.Contains(err.Error(), planted) || !strings.Contains(logs.String(), "falls back") {
		t.Errorf("Start's error %q and log %q; want both to name %s", err, logs.String(), planted)
	}
	dir := filepath.Dir(a.SocketPath())
	if m, _ := filepath.Match(apiv1.FallbackDirPattern(), dir); !m {
		t.Errorf("socket %s; want it in a directory matching %s", a.SocketPath(), apiv1.FallbackDirPattern())
	}
	if fi, err := os.Lstat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("fallback directory %s: %v, %v; want mode 0700", dir, fi.Mode(), err)
	}
	if entries, _ := os.ReadDir(planted); len(entries) != 0 {
		t.Errorf("the planted directory holds %v; want nothing written into it", entries)
	}
	b, _ := os.ReadFile(a.DiscoveryPath())
	if !strings.Contains(string(b), a.Token()) {
		t.Errorf("discovery file %s = %s; want the token, in the private directory", a.DiscoveryPath(), b)
	}

	// gdiag finds the agent by PID, in the fallback directory.
	c, err := apiv1.NewClient(strconv.Itoa(os.Getpid()), apiv1.ClientOptions{})
	if err != nil {
		t.Fatalf("NewClient(pid) = %v; want the agent found in its fallback directory", err)
	}
	if info, err := c.Info(context.Background()); err != nil || info.PID != os.Getpid() {
		t.Errorf("Info over the fallback socket = %+v, %v", info, err)
	}
	found, _ := apiv1.Discover("")
	if len(found) != 1 || found[0].Socket != a.SocketPath() {
		t.Errorf("Discover() = %+v; want this agent, at %s", found, a.SocketPath())
	}

	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after Close the fallback directory %s: %v; want it removed", dir, err)
	}
}

// TestStaleDiscoveryHuge: the agent reads the discovery files of dead
// processes in its directory when it starts (to remove their sockets).
// A huge one, such as a 4 GiB sparse file, is refused by its size before
// any of it is read, and still removed.
func TestStaleDiscoveryHuge(t *testing.T) {
	defer goleak.VerifyNone(t)
	dir := filepath.Join(shortTempDir(t), "rt")
	os.Mkdir(dir, 0o700)
	stale := filepath.Join(dir, "4194305.json") // above pid_max: never alive
	f, err := os.OpenFile(stale, os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	f.Truncate(4 << 30)
	f.Close()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	a, err := Start(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	a.Close()
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20 {
		t.Errorf("Start allocated %d MiB with a 4 GiB stale discovery file; want it refused unread", grew>>20)
	}
	if _, err := os.Lstat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale file %s: %v; want it removed", stale, err)
	}
}
