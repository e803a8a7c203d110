package e2etest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
)

// Module is the path of the module whose root RepoRoot finds.
const Module = "github.com/gdiag/gdiag"

// Enabled reports whether GDIAG_E2E=1: the end-to-end prerequisites are
// meant to be installed, so their absence is a failure.
func Enabled() bool { return os.Getenv("GDIAG_E2E") == "1" }

// Unavailable reports a missing prerequisite: with GDIAG_E2E=1 it fails
// the test (scripts/setup should have provided it), otherwise it skips
// the test with the same message. It does not return.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if Enabled() {
		t.Fatalf("%s (GDIAG_E2E=1: scripts/setup provides this, so its absence is a failure)", msg)
	}
	t.Skipf("%s; set GDIAG_E2E=1 to make this a failure", msg)
}

// RequireE2E skips the test unless GDIAG_E2E=1, for tests that run real
// servers and take tens of seconds; what says what the test would run.
func RequireE2E(t testing.TB, what string) {
	t.Helper()
	if !Enabled() {
		t.Skipf("set GDIAG_E2E=1 (scripts/test does) to %s", what)
	}
}

// RequireRoot calls Unavailable unless the test runs as root.
func RequireRoot(t testing.TB, why string) {
	t.Helper()
	if os.Geteuid() != 0 {
		Unavailable(t, "not root: %s", why)
	}
}

var root struct {
	once sync.Once
	dir  string
	err  error
}

// RepoRoot returns the root directory of the gdiag module: the nearest
// directory above the working directory whose go.mod declares Module.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func repoRoot() (string, error) {
	root.once.Do(func() {
		dir, err := os.Getwd()
		if err != nil {
			root.err = err
			return
		}
		for {
			b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
			if err == nil && bytes.HasPrefix(b, []byte("module "+Module+"\n")) {
				root.dir = dir
				return
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				root.err = fmt.Errorf("e2etest: no go.mod of %s above the working directory", Module)
				return
			}
			dir = parent
		}
	})
	return root.dir, root.err
}

// ToolsDir is where scripts/setup puts the servers it builds: GDIAG_TOOLS,
// or .tools/bin under the module root.
func ToolsDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("GDIAG_TOOLS"); d != "" {
		return d
	}
	return filepath.Join(RepoRoot(t), ".tools", "bin")
}

// Tool returns the path of an executable named name, looked up in
// ToolsDir, then /usr/bin, then PATH. When it is found nowhere, Tool calls
// Unavailable with how to get it.
func Tool(t testing.TB, name, howToGet string) string {
	t.Helper()
	for _, p := range []string{filepath.Join(ToolsDir(t), name), filepath.Join("/usr/bin", name)} {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	Unavailable(t, "%s not found in %s, /usr/bin or PATH; %s", name, ToolsDir(t), howToGet)
	return ""
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("e2etest: pick a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// FreeAddr returns "127.0.0.1:PORT" for a port that was free a moment ago.
func FreeAddr(t testing.TB) string {
	t.Helper()
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(FreePort(t)))
}
