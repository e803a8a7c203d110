package probes

import (
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Bounds on what clients may take from the agent.
const (
	// maxConns caps the open connections of each listener. A client of
	// the agent needs one or two; the cap keeps a flood of connections
	// (which needs no token to open) from spending the process's file
	// descriptors, which the service needs for its own work.
	maxConns = 64
	// maxExpensive caps the requests in progress, per agent, of the
	// endpoints whose answer costs memory or CPU in proportion to the
	// process (history, findings, census, point-in-time profiles, the
	// flight recorder). Further requests wait for a slot (gdiag doctor
	// asks for half a dozen at once), up to maxHeavyWait.
	maxExpensive = 4
	// maxHeavyWait bounds the wait for a slot before the answer is 503.
	maxHeavyWait = 30 * time.Second
)

// limitListener accepts at most max connections at once. A connection
// beyond the cap is accepted and closed at once, rather than left in the
// kernel's backlog, so that its client learns at once that it was refused
// and the backlog never holds a flood for the moment a slot frees.
// Refusals are logged at most once a second, with their count.
type limitListener struct {
	net.Listener
	slots   chan struct{}
	log     *slog.Logger
	refused atomic.Int64
	lastLog atomic.Int64 // unix nanoseconds of the last log line
}

func newLimitListener(l net.Listener, max int, log *slog.Logger) *limitListener {
	return &limitListener{Listener: l, slots: make(chan struct{}, max), log: log}
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		select {
		case l.slots <- struct{}{}:
			return &limitConn{Conn: c, release: func() { <-l.slots }}, nil
		default:
		}
		c.Close()
		n := l.refused.Add(1)
		now := time.Now().UnixNano()
		if last := l.lastLog.Load(); now-last >= int64(time.Second) && l.lastLog.CompareAndSwap(last, now) {
			l.log.Warn("probes: refused connections beyond the cap", "addr", l.Addr(), "max", cap(l.slots), "refused_total", n)
		}
	}
}

// limitConn gives its listener's slot back on its first Close.
type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
