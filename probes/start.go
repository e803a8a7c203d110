package probes

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/gdiag/gdiag/apiv1"
)

// Errors Start returns.
var (
	// ErrNonLoopback reports a TCPAddr that is not a loopback address
	// while Options.AllowNonLoopback is false.
	ErrNonLoopback = errors.New("probes: refusing a non-loopback TCP address without AllowNonLoopback")
	// ErrNoListener reports that neither the socket nor a TCP listener
	// could be opened.
	ErrNoListener = errors.New("probes: no listener could be opened")
	// ErrFallback reports an agent that runs, but not as asked: its socket
	// is in a private fallback directory because the runtime directory was
	// refused (another user's, or open to others), or it runs without a
	// socket. Start returns it together with the running Agent.
	ErrFallback = errors.New("probes: agent running with a fallback")
)

// Agent is a running endpoint, started by Start: the sampler, the optional
// flight recorder, the owner-only unix socket, the optional TCP listener
// and the discovery file. Its methods are safe for concurrent use.
type Agent struct {
	socket    string
	discovery string
	fallback  string // the private directory made when the runtime directories were refused
	tcp       net.Addr
	token     string
	shutdown  time.Duration
	log       *slog.Logger

	cancel  context.CancelFunc
	servers []*http.Server
	wg      sync.WaitGroup
	parts   *parts

	once     sync.Once
	closeErr error
}

// Start starts the agent described by opts (see Options for the
// defaults): the sampler, the optional flight recorder, the owner-only
// unix socket with its discovery file and the optional TCP listener. The
// caller stops it with Agent.Close.
//
// Diagnostics must never stop a service from starting, so an error from
// Start is for the log, not a reason to exit. Start returns a running
// Agent together with an error wrapping ErrFallback when it had to fall
// back: every runtime directory was refused (another user created it
// first, or it is open to others), so the socket and discovery file are in
// a new private directory matching apiv1.FallbackDirPattern (where gdiag
// still finds them), or no socket could be opened at all and only the TCP
// listener runs. It returns a nil Agent with ErrNonLoopback for a public
// TCPAddr not allowed explicitly, with ErrNoListener (joined with the
// causes) when no socket or TCP listener could be opened, and with the
// flight recorder's error when Options.Flight cannot start. A discovery
// file it cannot write is no error: the agent then runs without one and
// logs why. Every fallback is also logged at level Warn.
func Start(opts Options) (*Agent, error) {
	a := &Agent{log: discardLogger(opts.Logger), shutdown: opts.ShutdownTimeout}
	if a.shutdown <= 0 {
		a.shutdown = defaultShutdownTimeout
	}
	var tcpHost string
	if opts.TCPAddr != "" {
		host, err := checkTCPAddr(opts.TCPAddr, opts.AllowNonLoopback)
		if err != nil {
			return nil, err
		}
		tcpHost = host
	}
	var unixL *net.UnixListener
	var dir string
	var errs []error
	var fallback error
	if !opts.NoSocket {
		unixL, dir, errs = a.openSocket(&opts)
		switch {
		case unixL == nil:
			fallback = fmt.Errorf("%w: no socket or discovery file: %w", ErrFallback, errors.Join(errs...))
		case a.fallback != "":
			fallback = fmt.Errorf("%w: socket in the private directory %s, as the runtime directory was refused: %w",
				ErrFallback, a.fallback, errors.Join(errs...))
		}
		if fallback != nil {
			a.log.Warn("probes: the agent falls back", "err", fallback)
		}
	}
	var tcpL net.Listener
	if opts.TCPAddr != "" {
		l, err := listenTCP(opts.TCPAddr, tcpHost, opts.AllowNonLoopback)
		if err != nil {
			if unixL != nil {
				unixL.Close()
			}
			return nil, err
		}
		tcpL = l
		a.tcp = l.Addr()
		a.token = opts.Token
		if a.token == "" {
			a.token = newToken()
		}
	}
	if unixL == nil && tcpL == nil {
		a.removeFallbackDir()
		return nil, errors.Join(append([]error{ErrNoListener}, errs...)...)
	}

	p, err := startParts(&opts)
	if err != nil {
		if unixL != nil {
			unixL.Close()
			os.Remove(a.socket)
			a.removeFallbackDir()
		}
		if tcpL != nil {
			tcpL.Close()
		}
		return nil, err
	}
	a.parts = p
	base, cancel := context.WithCancel(context.Background())
	a.cancel = cancel
	h := newAPI(p.src, opts.maxDuration(), opts.Profiles, opts.Logger, base)
	if unixL != nil {
		peers := &peerListener{UnixListener: unixL, uid: os.Getuid(), log: a.log}
		a.serve(newLimitListener(peers, maxConns, a.log), h, base, opts.maxDuration())
		a.writeDiscovery(dir, opts.Token == "")
	}
	if tcpL != nil {
		a.serve(newLimitListener(tcpL, maxConns, a.log), requireToken(a.token, h), base, opts.maxDuration())
	}
	return a, fallback
}

// openSocket binds the socket in the first usable runtime directory.
func (a *Agent) openSocket(opts *Options) (*net.UnixListener, string, []error) {
	var errs []error
	for _, dir := range runtimeDirs(opts) {
		if err := prepareDir(dir, opts.openPerms); err != nil {
			a.log.Info("probes: runtime directory unusable; trying the next", "dir", dir, "err", err)
			errs = append(errs, err)
			continue
		}
		path := filepath.Join(dir, strconv.Itoa(os.Getpid())+".sock")
		l, err := listenUnix(path, opts.openPerms)
		if err != nil {
			a.log.Info("probes: cannot create the socket; trying the next directory", "path", path, "err", err)
			errs = append(errs, err)
			continue
		}
		if n := cleanStale(dir); n > 0 {
			a.log.Debug("probes: removed discovery files of dead processes", "dir", dir, "count", n)
		}
		a.socket = path
		return l, dir, nil
	}
	// Every directory was refused. One that another user planted must not
	// keep this service's diagnostics off: a directory of a random name,
	// created 0700 by os.MkdirTemp, cannot have been planted.
	pattern := apiv1.FallbackDirPattern()
	dir, err := os.MkdirTemp(filepath.Dir(pattern), filepath.Base(pattern))
	if err != nil {
		return nil, "", append(errs, fmt.Errorf("probes: fallback directory: %w", err))
	}
	path := filepath.Join(dir, strconv.Itoa(os.Getpid())+".sock")
	l, err := listenUnix(path, false)
	if err != nil {
		os.Remove(dir)
		return nil, "", append(errs, err)
	}
	a.socket, a.fallback = path, dir
	return l, dir, errs
}

// removeFallbackDir removes the fallback directory, once it is empty.
func (a *Agent) removeFallbackDir() {
	if a.fallback != "" {
		os.Remove(a.fallback)
	}
}

func (a *Agent) writeDiscovery(dir string, withToken bool) {
	d := apiv1.Discovery{
		PID:        os.Getpid(),
		Socket:     a.socket,
		Started:    time.Now(),
		GoVersion:  runtime.Version(),
		Module:     mainModule(),
		APIVersion: apiv1.Version,
	}
	if a.tcp != nil {
		d.TCPAddr = a.tcp.String()
		if withToken {
			d.Token = a.token
		}
	}
	path, err := writeDiscovery(dir, d)
	if err != nil {
		a.log.Warn("probes: running without a discovery file; gdiag ps will not list this process", "dir", dir, "err", err)
		return
	}
	a.discovery = path
}

func (a *Agent) serve(l net.Listener, h http.Handler, base context.Context, max time.Duration) {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		WriteTimeout:      max + time.Minute, // a capture plus time to send it
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		BaseContext:       func(net.Listener) context.Context { return base },
		ConnContext:       peerContext,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	a.servers = append(a.servers, srv)
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		srv.Serve(l) // returns http.ErrServerClosed once Close begins
	}()
}

// Addr returns the TCP listener's address, or nil without one.
func (a *Agent) Addr() net.Addr { return a.tcp }

// SocketPath returns the unix socket's path, or "" without one.
func (a *Agent) SocketPath() string { return a.socket }

// DiscoveryPath returns the discovery file's path, or "" when the agent
// runs without one.
func (a *Agent) DiscoveryPath() string { return a.discovery }

// Token returns the bearer token the TCP listener requires, or "" without
// a TCP listener.
func (a *Agent) Token() string { return a.token }

// Close stops the agent: captures in flight end early, the servers shut
// down within Options.ShutdownTimeout, the sampler and flight recorder
// stop, and the socket and discovery file (and a fallback directory) are
// removed. Close is idempotent and returns the first call's error; on a
// nil Agent, as Start returns when it fails, it does nothing, so that
// "defer agent.Close()" needs no check.
func (a *Agent) Close() error {
	if a == nil {
		return nil
	}
	a.once.Do(func() {
		a.cancel()
		ctx, cancel := context.WithTimeout(context.Background(), a.shutdown)
		defer cancel()
		var errs []error
		for _, s := range a.servers {
			if err := s.Shutdown(ctx); err != nil {
				s.Close()
			}
		}
		a.wg.Wait()
		errs = append(errs, a.parts.stop())
		if a.discovery != "" {
			if err := os.Remove(a.discovery); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, err)
			}
		}
		if a.socket != "" {
			if err := os.Remove(a.socket); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, err)
			}
		}
		a.removeFallbackDir()
		a.closeErr = errors.Join(errs...)
	})
	return a.closeErr
}

// checkTCPAddr refuses an address that may be reachable from elsewhere,
// unless allowed: an empty host means every interface.
func checkTCPAddr(addr string, allow bool) (string, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("probes: bad TCPAddr %q: %w", addr, err)
	}
	if allow || host == "localhost" {
		return host, nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return host, nil
	}
	return "", fmt.Errorf("%w: %q", ErrNonLoopback, addr)
}

// listenTCP listens and checks again what it got: "localhost" could
// resolve to a public address on a strange system.
func listenTCP(addr, host string, allow bool) (net.Listener, error) {
	network := "tcp"
	if host == "localhost" {
		network = "tcp4"
		_, port, _ := net.SplitHostPort(addr)
		addr = net.JoinHostPort("127.0.0.1", port)
	}
	l, err := net.Listen(network, addr)
	if err != nil {
		return nil, err
	}
	if ta, ok := l.Addr().(*net.TCPAddr); !allow && (!ok || !ta.IP.IsLoopback()) {
		l.Close()
		return nil, fmt.Errorf("%w: listener on %v", ErrNonLoopback, l.Addr())
	}
	return l, nil
}
