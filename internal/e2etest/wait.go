package e2etest

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// Poll is the interval between two checks of a condition. Conditions are
// cheap (a connect, a GET on loopback), so polling often costs nothing and
// keeps the wait short on an idle machine; the deadline, not the interval,
// is what allows for a busy one.
const Poll = 100 * time.Millisecond

// WaitFor calls cond every Poll until it returns true, p exits (when p is
// not nil) or timeout passes; it fails the test in the last two cases,
// with what.
func WaitFor(t testing.TB, p *Proc, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	if err := waitFor(p, timeout, cond); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

func waitFor(p *Proc, timeout time.Duration, cond func() bool) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(Poll)
	defer tick.Stop()
	var done <-chan struct{}
	if p != nil {
		done = p.Done()
	}
	for !cond() {
		select {
		case <-tick.C:
		case <-done:
			return fmt.Errorf("%s exited (%v); output:\n%s", p.Name, p.err, p.Tail(4000))
		case <-deadline.C:
			if cond() {
				return nil
			}
			if p != nil {
				return fmt.Errorf("not within %v; %s output:\n%s", timeout, p.Name, p.Tail(4000))
			}
			return fmt.Errorf("not within %v", timeout)
		}
	}
	return nil
}

// WaitPort waits until addr accepts TCP connections.
func WaitPort(t testing.TB, p *Proc, addr string, timeout time.Duration) {
	t.Helper()
	WaitFor(t, p, timeout, addr+" to accept connections", func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

// WaitHTTP waits until GET url answers 200, such as a server's readiness
// endpoint.
func WaitHTTP(t testing.TB, p *Proc, url string, timeout time.Duration) {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()
	last := "no answer yet"
	err := waitFor(p, timeout, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			last = err.Error()
			return false
		}
		resp, err := client.Do(req)
		if err != nil {
			last = err.Error()
			return false
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		last = resp.Status
		return resp.StatusCode == http.StatusOK
	})
	if err != nil {
		t.Fatalf("waiting for GET %s to answer 200 (last: %s): %v", url, last, err)
	}
}
