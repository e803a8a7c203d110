package probes

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"

	"github.com/gdiag/gdiag/apiv1"
	"github.com/gdiag/gdiag/internal/peer"
)

// ErrUnsafeDir reports a runtime directory that another user owns or can
// enter; the endpoint refuses to put its socket there.
var ErrUnsafeDir = errors.New("probes: unsafe runtime directory")

// runtimeDirs lists the directories to try, best first: Options.Dir, or
// the ones clients look in (apiv1.DiscoveryDirs).
func runtimeDirs(opts *Options) []string {
	if opts.Dir != "" {
		return []string{opts.Dir}
	}
	return apiv1.DiscoveryDirs()
}

// prepareDir creates dir with mode 0700, or checks that an existing one is
// a real directory (not a symlink) of ours that nobody else can enter.
func prepareDir(dir string, open bool) error {
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	if open { // tests only: see Options.openPerms
		return os.Chmod(dir, 0o755)
	}
	if err := peer.PrivateDir(dir); err != nil {
		return fmt.Errorf("%w: %w", ErrUnsafeDir, err)
	}
	return nil
}

// listenUnix binds the socket at path with mode 0600, replacing a stale
// socket left at the same path (by a process of the same pid, long dead).
func listenUnix(path string, open bool) (*net.UnixListener, error) {
	if len(path) >= 108 { // sizeof(sun_path) on Linux
		return nil, fmt.Errorf("probes: socket path too long: %s", path)
	}
	if fi, err := os.Lstat(path); err == nil && fi.Mode().Type() == fs.ModeSocket {
		os.Remove(path)
	}
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, err
	}
	mode := os.FileMode(0o600)
	if open {
		mode = 0o777
	}
	if err := os.Chmod(path, mode); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

// peerListener accepts only connections whose peer runs as uid, checked
// with SO_PEERCRED. File modes already keep others out; this check still
// holds when they fail (a directory opened by mistake, a shared uid's
// umask), and it cannot be fooled by a passed descriptor's path.
type peerListener struct {
	*net.UnixListener
	uid int
	log *slog.Logger
}

func (l *peerListener) Accept() (net.Conn, error) {
	for {
		c, err := l.AcceptUnix()
		if err != nil {
			return nil, err
		}
		uid, _, err := peer.Cred(c)
		if err == nil && uid == l.uid {
			return c, nil
		}
		l.log.Warn("probes: refused a connection on the socket", "peer_uid", uid, "want_uid", l.uid, "err", err)
		c.Close()
	}
}
