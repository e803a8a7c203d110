package probes

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

const peerEnv = "GDIAG_TEST_PEER_SOCKET"

// TestPeerClientHelper is the client half of the cross-user tests: it
// runs only in a child process started by peerGet, as another uid, and
// reports through its exit status whether GET /v1/info succeeded.
func TestPeerClientHelper(t *testing.T) {
	path := os.Getenv(peerEnv)
	if path == "" {
		return // not the child; nothing to do
	}
	c, closeIdle := unixClient(path)
	defer closeIdle()
	c.Timeout = 20 * time.Second
	resp, err := c.Get("http://gdiag/v1/info")
	if err != nil {
		fmt.Println("PEER-REFUSED:", err)
		os.Exit(3)
	}
	resp.Body.Close()
	fmt.Println("PEER-STATUS:", resp.StatusCode)
	os.Exit(0)
}

// peerGet runs this test binary as uid/gid 65534 to GET /v1/info over
// the socket, and returns the child's output and whether it got through.
func peerGet(t *testing.T, socket string) (string, bool) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// The build directory is closed to other users: copy the binary.
	dir := shortTempDir(t)
	os.Chmod(dir, 0o755)
	bin := filepath.Join(dir, "probes.test")
	src, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, src, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^TestPeerClientHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), peerEnv+"="+socket, "GOCOVERDIR=")
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 3 {
		return string(out), false
	}
	if err != nil {
		t.Fatalf("peer client: %v\n%s", err, out)
	}
	return string(out), true
}

func needRoot(t *testing.T) {
	t.Helper()
	if os.Getuid() != 0 {
		if os.Getenv("GDIAG_E2E") == "1" {
			t.Fatal("running a process as another uid needs root; CI runs as root")
		}
		t.Skip("cannot check the refusal of another user's client: running a process as another uid needs root")
	}
}

// TestSocketRefusesOtherUser: with the default modes, another user cannot
// even reach the socket.
func TestSocketRefusesOtherUser(t *testing.T) {
	needRoot(t)
	defer goleak.VerifyNone(t)
	a, err := Start(Options{Dir: filepath.Join(shortTempDir(t), "rt")})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	out, ok := peerGet(t, a.SocketPath())
	if ok || !strings.Contains(out, "permission denied") {
		t.Errorf("uid 65534 GET /v1/info: got through = %v, output %q; want permission denied", ok, out)
	}
}

// TestPeerCredRefusesOtherUser opens the directory and socket to everyone,
// so that only the SO_PEERCRED check stands between another user and the
// API, and shows that it refuses that user and still serves the owner.
func TestPeerCredRefusesOtherUser(t *testing.T) {
	needRoot(t)
	defer goleak.VerifyNone(t)
	base := shortTempDir(t)
	os.Chmod(base, 0o755)
	var logs logBuffer
	a, err := Start(Options{Dir: filepath.Join(base, "rt"), openPerms: true, Logger: logs.logger()})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if fi, _ := os.Stat(a.SocketPath()); fi.Mode().Perm() != 0o777 {
		t.Fatalf("socket mode = %v; the test needs it open", fi.Mode().Perm())
	}
	out, ok := peerGet(t, a.SocketPath())
	if ok || strings.Contains(out, "permission denied") {
		t.Errorf("uid 65534 GET /v1/info: got through = %v, output %q; want a refused connection, not a file-mode error", ok, out)
	}
	if !strings.Contains(logs.String(), "refused a connection") || !strings.Contains(logs.String(), "peer_uid=65534") {
		t.Errorf("log = %q; want the refusal of uid 65534", logs.String())
	}
	c, closeIdle := unixClient(a.SocketPath())
	defer closeIdle()
	if code := getJSON(t, c, "http://gdiag/v1/info", "", nil); code != http.StatusOK {
		t.Errorf("owner GET /v1/info = %d; want 200", code)
	}
}

// TestNoPublicListeners reads /proc/net/tcp{,6} for the sockets this
// process listens on and checks that none is on a non-loopback address,
// with the defaults and with a TCP listener asked for.
func TestNoPublicListeners(t *testing.T) {
	defer goleak.VerifyNone(t)
	dir := filepath.Join(shortTempDir(t), "rt")
	a, err := Start(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if a.Addr() != nil {
		t.Errorf("default Addr() = %v; want no TCP listener", a.Addr())
	}
	for _, l := range ownListeners(t) {
		if !l.IP.IsLoopback() {
			t.Errorf("with defaults, this process listens on %v", l)
		}
	}
	a.Close()

	b, err := Start(Options{Dir: dir, TCPAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	found := false
	for _, l := range ownListeners(t) {
		if !l.IP.IsLoopback() {
			t.Errorf("this process listens on %v; want loopback only", l)
		}
		found = found || l.Port == b.Addr().(*net.TCPAddr).Port
	}
	if !found {
		t.Errorf("/proc/net/tcp does not show the listener %v; the check cannot see it", b.Addr())
	}
}

// ownListeners returns the TCP addresses this process listens on.
func ownListeners(t *testing.T) []*net.TCPAddr {
	t.Helper()
	inodes := map[string]bool{}
	fds, _ := os.ReadDir("/proc/self/fd")
	for _, fd := range fds {
		if link, err := os.Readlink("/proc/self/fd/" + fd.Name()); err == nil {
			if in, ok := strings.CutPrefix(link, "socket:["); ok {
				inodes[strings.TrimSuffix(in, "]")] = true
			}
		}
	}
	var out []*net.TCPAddr
	for _, file := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(file)
		if err != nil {
			continue // no IPv6 on this machine
		}
		out = append(out, parseProcTCP(t, f, inodes)...)
		f.Close()
	}
	return out
}

func parseProcTCP(t *testing.T, r io.Reader, inodes map[string]bool) []*net.TCPAddr {
	var out []*net.TCPAddr
	sc := bufio.NewScanner(r)
	sc.Scan() // header
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 10 || f[3] != "0A" || !inodes[f[9]] { // 0A is LISTEN
			continue
		}
		host, port, _ := strings.Cut(f[1], ":")
		raw, err := hex.DecodeString(host)
		p, perr := strconv.ParseUint(port, 16, 16)
		if err != nil || perr != nil || (len(raw) != 4 && len(raw) != 16) {
			t.Fatalf("cannot parse %q", sc.Text())
		}
		// The kernel prints each 32-bit word in host (little-endian) order.
		for i := 0; i < len(raw); i += 4 {
			raw[i], raw[i+1], raw[i+2], raw[i+3] = raw[i+3], raw[i+2], raw[i+1], raw[i]
		}
		out = append(out, &net.TCPAddr{IP: net.IP(raw), Port: int(p)})
	}
	return out
}
