package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/gdiag/gdiag/apiv1"
	"github.com/gdiag/gdiag/schedstats"
)

// runWatch prints a one-line summary of what the probes endpoint sees every
// interval, read through its unix socket with the apiv1 client, as the
// gdiag command does, until ctx ends.
func runWatch(ctx context.Context, w io.Writer, socket string, interval time.Duration, inc *incidents, log *slog.Logger) {
	if socket == "" {
		log.Warn("watch: the probes agent has no socket")
		return
	}
	client, err := apiv1.NewClient(socket, apiv1.ClientOptions{Timeout: 5 * time.Second})
	if err != nil {
		log.Warn("watch: cannot reach the agent", "err", err)
		return
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	var prev schedstats.Snapshot
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		snap, err := client.Snapshot(ctx)
		if err != nil {
			log.Warn("watch: read snapshot", "err", err)
			continue
		}
		pools, err := client.Pools(ctx)
		if err != nil {
			log.Warn("watch: read pools", "err", err)
			continue
		}
		name, _ := inc.Current()
		fmt.Fprintln(w, summary(snap, prev, pools, name))
		prev = snap
	}
}

// summary formats one watch line. The scheduling latency's p99 covers the
// time since prev (all time for the first line).
func summary(s, prev schedstats.Snapshot, pools []apiv1.Pool, incident string) string {
	var b strings.Builder
	lat := s.SchedLatency
	if prev.SchedLatency.Count() > 0 {
		lat = lat.Sub(prev.SchedLatency)
	}
	fmt.Fprintf(&b, "watch %s incident=%s | procs=%d idle=%d runq=%d threads=%d | goroutines=%d run=%d runnable=%d wait=%d | sched p99≤%s",
		s.Time.Format("15:04:05"), incident, s.GOMAXPROCS, s.IdlePs, s.GlobalRunQueue, s.Threads,
		s.Goroutines.Total, s.Goroutines.Running, s.Goroutines.Runnable, s.Goroutines.Waiting,
		seconds(lat.Quantile(0.99)))
	for _, p := range pools {
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
