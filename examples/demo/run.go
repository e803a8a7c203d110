package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/gdiag/gdiag/pool"
	"github.com/gdiag/gdiag/probes"
)

// shutdownTimeout bounds each step of the shutdown (HTTP server, pools,
// exporters), so that a stuck part cannot keep the process alive.
const shutdownTimeout = 5 * time.Second

// run starts everything, prints the listening line to stdout, and shuts
// down cleanly when ctx ends.
func run(ctx context.Context, c config, stdout io.Writer, log *slog.Logger) (err error) {
	// Contention profiles are empty unless a program asks for them; the
	// mutex incident is meant to show up there.
	if c.contention {
		runtime.SetMutexProfileFraction(10)
		runtime.SetBlockProfileRate(int(time.Millisecond))
		defer runtime.SetMutexProfileFraction(0)
		defer runtime.SetBlockProfileRate(0)
	}

	var cleanups []func(context.Context) error // run in reverse order
	defer func() {
		for i := len(cleanups) - 1; i >= 0; i-- {
			sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
			err = errors.Join(err, cleanups[i](sctx))
			cancel()
		}
	}()

	tel, err := startOTel(ctx, c, log)
	if err != nil {
		return err
	}
	cleanups = append(cleanups, tel.shutdown)

	profiles := map[string]probes.ProfileFunc{}
	if wall := wallProfile(); wall != nil {
		profiles["wall"] = wall
	}
	if c.pyroscopeURL != "" {
		stopPyro, cpu, err := startPyroscope(c.pyroscopeURL, log)
		if err != nil {
			return err
		}
		cleanups = append(cleanups, func(context.Context) error { return stopPyro() })
		if cpu != nil {
			profiles["cpu"] = cpu // the continuous profiler holds the CPU profiler: share it
		}
		log.Info("continuous profiling on", "server", c.pyroscopeURL)
	}

	var observe []pool.Option
	if tel.observer != nil {
		observe = append(observe, pool.WithObserver(tel.observer))
	}
	httpPool := newHTTPPool("http", append(observe, pool.WithLogger(log))...)
	// The batch pool shows every overload control on the pools dashboard,
	// at rest: a rate limit above its 10 jobs a second, shedding of a queue
	// that never stands, a breaker that stays closed.
	batchPool := pool.New("batch", append(observe,
		pool.WithMaxWorkers(2), pool.WithQueueSize(32), pool.WithFailFast(), pool.WithLogger(log),
		pool.WithRateLimit(pool.Rate{PerSecond: 50, Burst: 10}), pool.WithShedding(pool.ShedOptions{Target: 50 * time.Millisecond}),
		pool.WithBreaker(pool.BreakerOptions{}))...)
	cleanups = append(cleanups, func(ctx context.Context) error {
		return errors.Join(httpPool.Stop(ctx), batchPool.Stop(ctx))
	})

	agentOpts := probes.Options{Dir: c.agentDir, Profiles: profiles, Logger: log,
		TCPAddr: c.agentTCP, Token: os.Getenv("GDIAG_TOKEN")}
	if c.flight {
		agentOpts.Flight = &probes.FlightOptions{}
	}
	agent, err := probes.Start(agentOpts)
	switch {
	case agent == nil:
		return fmt.Errorf("start probes agent: %w", err) // the demo exists to be watched
	case err != nil:
		log.Warn("probes agent falls back", "err", err)
	}
	// The agent goes last, so that gdiag can watch the shutdown itself.
	cleanups = append([]func(context.Context) error{func(context.Context) error { return agent.Close() }}, cleanups...)
	log.Info("probes agent listening", "socket", agent.SocketPath(), "discovery", agent.DiscoveryPath())

	inc := newIncidents(httpPool)
	cleanups = append(cleanups, func(context.Context) error { inc.Close(); return nil })

	mux := http.NewServeMux()
	if err := mountMetrics(mux, log); err != nil {
		return err
	}
	srv := &server{httpPool: httpPool, incidents: inc, tracer: tel.tp.Tracer("github.com/gdiag/gdiag/examples/demo")}
	srv.routes(mux)
	ln, err := net.Listen("tcp", c.listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(ln) }()
	cleanups = append(cleanups, func(ctx context.Context) error {
		err := hs.Shutdown(ctx)
		if serr := <-serveErr; !errors.Is(serr, http.ErrServerClosed) {
			err = errors.Join(err, serr)
		}
		return err
	})
	baseURL := "http://" + ln.Addr().String()
	fmt.Fprintf(stdout, "demo: listening on %s\n", baseURL)

	if err := inc.Set(c.incident); err != nil {
		return err
	}
	if c.incident != "none" {
		log.Info("incident started", "name", c.incident)
	}

	// Load, batch jobs and the watcher stop first, before the server and
	// the pools they feed.
	bg, stopBG := context.WithCancel(ctx)
	var wg sync.WaitGroup
	cleanups = append(cleanups, func(context.Context) error { stopBG(); wg.Wait(); return nil })
	wg.Go(func() { runLoad(bg, baseURL, c.load) })
	wg.Go(func() { runBatch(bg, batchPool) })
	if c.watch > 0 {
		wg.Go(func() { runWatch(bg, stdout, agent.SocketPath(), c.watch, inc, log) })
	}

	select {
	case <-ctx.Done():
		log.Info("shutting down", "cause", context.Cause(ctx))
		return nil
	case err := <-serveErr:
		serveErr <- err // for the cleanup
		return fmt.Errorf("http server: %w", err)
	}
}

// newHTTPPool returns the pool that runs /work's tasks: per-tenant limits,
// and fail-fast, so that an overload turns into 503s rather than a pile-up.
func newHTTPPool(name string, opts ...pool.Option) *pool.Pool {
	return pool.New(name, append([]pool.Option{
		pool.WithMaxWorkers(16), pool.WithMinWorkers(2), pool.WithQueueSize(64),
		pool.WithKeyLimit(4), pool.WithFailFast(),
	}, opts...)...)
}
