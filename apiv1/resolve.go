package apiv1

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gdiag/gdiag/internal/peer"
)

// NewClient returns a client of the agent that target names:
//
//   - a PID: the agent's discovery file, found in opts.Dir or in
//     DiscoveryDirs (or a fallback directory, FallbackDirPattern) under
//     the trust rules of the package documentation, names its socket,
//     else its TCP address (and token, when the agent generated it);
//   - the path of the agent's unix socket;
//   - HOST:PORT of the agent's TCP listener, with opts.Token or the token
//     of a trusted discovery file that names that address;
//   - an http:// or https:// URL at which probes.Handler serves /v1/
//     (the URL may include the path it is mounted under).
//
// NewClient does not contact the agent (Info does), except to tell
// ErrNoProcess from ErrNoAgent for a PID. It fails with ErrNoProcess,
// ErrNoAgent, ErrUntrusted, ErrNeedToken or ErrBadTarget, wrapped.
func NewClient(target string, opts ClientOptions) (*Client, error) {
	c := &Client{name: target, token: opts.Token, timeout: opts.Timeout}
	if pid, err := strconv.Atoi(target); err == nil && pid > 0 {
		return c, c.fromPID(pid, opts.Dir)
	}
	if strings.HasPrefix(target, "http://") || strings.HasPrefix(target, "https://") {
		u, err := url.Parse(target)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("%q: %w", target, ErrBadTarget)
		}
		c.base = strings.TrimSuffix(strings.TrimSuffix(u.String(), "/"), "/v1")
		c.hc = &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
		return c, nil
	}
	if fi, err := os.Stat(target); err == nil {
		if fi.Mode().Type() != os.ModeSocket {
			return nil, fmt.Errorf("%s is a file, not a socket: %w", target, ErrBadTarget)
		}
		c.unix(target, 0)
		return c, nil
	}
	if _, port, err := net.SplitHostPort(target); err == nil && port != "" {
		return c, c.fromTCP(target, opts.Dir)
	}
	return nil, fmt.Errorf("%q: %w", target, ErrBadTarget)
}

func (c *Client) fromPID(pid int, dir string) error {
	c.pid = pid
	if !peer.ProcessAlive(pid) {
		return fmt.Errorf("pid %d: %w", pid, ErrNoProcess)
	}
	dirs := []string{dir}
	if dir == "" {
		dirs = searchDirs()
	}
	name := strconv.Itoa(pid) + ".json"
	var untrusted []error
	for _, dir := range dirs {
		path := filepath.Join(dir, name)
		if err := trustedDir(dir); err != nil {
			// Say so only when the directory holds a file for this pid:
			// that is the file another user may have planted.
			if _, serr := os.Lstat(path); serr == nil {
				untrusted = append(untrusted, err)
			}
			continue
		}
		d, err := ReadDiscovery(path)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("pid %d: %w", pid, err)
		}
		if d.PID != pid {
			return fmt.Errorf("pid %d: %w: discovery file %s is for pid %d", pid, ErrUntrusted, path, d.PID)
		}
		switch {
		case d.Socket != "":
			c.unix(d.Socket, pid)
		case d.TCPAddr != "":
			c.tcp(d.TCPAddr)
			if c.token == "" {
				c.token = d.Token
			}
		default:
			return fmt.Errorf("pid %d: %w: discovery file %s names no socket or TCP address", pid, ErrNoAgent, path)
		}
		return nil
	}
	if len(untrusted) > 0 {
		return fmt.Errorf("pid %d: %w", pid, errors.Join(untrusted...))
	}
	return fmt.Errorf("pid %d: %w: no discovery file in %s", pid, ErrNoAgent, strings.Join(dirs, " or "))
}

func (c *Client) fromTCP(addr, dir string) error {
	c.tcp(addr)
	if c.token == "" {
		found, _ := Discover(dir) // untrusted files are skipped; the token is only needed from a trusted one
		for _, d := range found {
			if d.TCPAddr == addr && d.Token != "" {
				c.token, c.pid = d.Token, d.PID
			}
		}
	}
	if c.token == "" {
		return fmt.Errorf("the agent at %s: %w", addr, ErrNeedToken)
	}
	return nil
}

func (c *Client) tcp(addr string) {
	c.base = "http://" + addr
	c.hc = &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
}

// unix sends every request to the socket at path, after checking its
// peer: a process of the current user (or root), and process pid when it
// is not 0. The socket's owner is the credential, so no token is sent.
func (c *Client) unix(path string, pid int) {
	c.base, c.token = "http://gdiag", ""
	c.hc = &http.Client{Transport: &http.Transport{
		DisableKeepAlives: true,
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			conn, err := d.DialContext(ctx, "unix", path)
			if err != nil {
				return nil, err
			}
			if err := checkPeer(conn.(*net.UnixConn), path, pid); err != nil {
				conn.Close()
				return nil, err
			}
			return conn, nil
		},
	}}
}

// checkPeer refuses a socket whose listener runs as another user (root
// excepted), or as another process than pid when pid is not 0.
func checkPeer(conn *net.UnixConn, path string, pid int) error {
	uid, ppid, err := peer.Cred(conn)
	switch {
	case err != nil:
		return fmt.Errorf("%w: socket %s: cannot check its owner: %w", ErrUntrusted, path, err)
	case uid != os.Getuid() && uid != 0:
		return fmt.Errorf("%w: socket %s is served by uid %d, not by you (uid %d)", ErrUntrusted, path, uid, os.Getuid())
	case pid != 0 && ppid != pid:
		return fmt.Errorf("%w: socket %s is served by pid %d, not %d (a stale discovery file?)", ErrUntrusted, path, ppid, pid)
	}
	return nil
}
