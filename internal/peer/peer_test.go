package peer_test

import (
	"net"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/gdiag/gdiag/internal/peer"
)

func TestCredOfOwnSocket(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("SO_PEERCRED is Linux only; Cred reports ErrUnsupported elsewhere")
	}
	dir, err := os.MkdirTemp("", "peer")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "s.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	uid, pid, err := peer.Cred(c)
	if err != nil || uid != os.Getuid() || pid != os.Getpid() {
		t.Errorf("Cred(own socket) = %d, %d, %v; want %d, %d", uid, pid, err, os.Getuid(), os.Getpid())
	}
	fi, err := os.Lstat(path)
	if uid, ok := peer.FileOwner(fi); err != nil || !ok || uid != os.Getuid() {
		t.Errorf("FileOwner(own socket) = %d, %v; want %d", uid, ok, os.Getuid())
	}
	if !peer.ProcessAlive(os.Getpid()) {
		t.Error("ProcessAlive(own pid) = false")
	}
}
