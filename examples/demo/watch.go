package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/gdiag/gdiag/apiv1"
	"github.com/gdiag/gdiag/schedstats"
)

// runWatch prints a one-line summary of what the probes endpoint sees every
// interval, read through its unix socket as the gdiag command would, until
// ctx ends.
func runWatch(ctx context.Context, w io.Writer, socket string, interval time.Duration, inc *incidents, log *slog.Logger) {
	if socket == "" {
		log.Warn("watch: the probes agent has no socket")
		return
	}
	client := &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socket)
		}},
	}
	defer client.CloseIdleConnections()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	var prev schedstats.Snapshot
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		var snap apiv1.Snapshot
		var pools apiv1.Pools
		if err := getJSON(ctx, client, "/v1/snapshot", &snap); err != nil {
			log.Warn("watch: read snapshot", "err", err)
			continue
		}
		if err := getJSON(ctx, client, "/v1/pools", &pools); err != nil {
			log.Warn("watch: read pools", "err", err)
			continue
		}
		name, _ := inc.Current()
		fmt.Fprintln(w, summary(snap.Snapshot, prev, pools, name))
		prev = snap.Snapshot
	}
}

func getJSON(ctx context.Context, c *http.Client, path string, v any) error {
	// The host is ignored: the transport always dials the socket.
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://gdiag"+path, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", path, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// summary formats one watch line. The scheduling latency's p99 covers the
// time since prev (all time for the first line).
func summary(s, prev schedstats.Snapshot, pools apiv1.Pools, incident string) string {
	var b strings.Builder
	lat := s.SchedLatency
	if prev.SchedLatency.Count() > 0 {
		lat = lat.Sub(prev.SchedLatency)
	}
	fmt.Fprintf(&b, "watch %s incident=%s | procs=%d idle=%d runq=%d threads=%d | goroutines=%d run=%d runnable=%d wait=%d | sched p99≤%s",
		s.Time.Format("15:04:05"), incident, s.GOMAXPROCS, s.IdlePs, s.GlobalRunQueue, s.Threads,
		s.Goroutines.Total, s.Goroutines.Running, s.Goroutines.Runnable, s.Goroutines.Waiting,
		seconds(lat.Quantile(0.99)))
	for _, p := range pools.Pools {
		fmt.Fprintf(&b, " | %s: workers=%d/%d queued=%d/%d done=%d failed=%d rejected=%d",
			p.Name, p.Workers, p.MaxWorkers, p.Queued, p.QueueCapacity, p.Completed, p.Failed, p.Rejected)
	}
	return b.String()
}

// seconds prints a duration in seconds with a readable unit.
func seconds(v float64) time.Duration {
	if v != v || v < 0 || v > 1e6 { // NaN, or an infinite bucket bound
		return 0
	}
	return time.Duration(v * float64(time.Second)).Round(time.Microsecond)
}
