// Command demo is a small HTTP service instrumented with every part of gdiag,
// with a built-in load generator and switches that cause incidents on
// purpose, so that the probes endpoint, the exporters, the dashboards and
// the alerts have something to show.
//
//	go run ./examples/demo [-listen 127.0.0.1:8080] [-load 50] [-incident none]
//	    [-agent-dir DIR] [-otlp-endpoint host:port] [-otlp-interval 10s]
//	    [-pyroscope-url http://host:port] [-duration 0] [-watch 0]
//
// Routes: /metrics (Prometheus exposition), /work?tenant=t1..t5&n=tasks
// (runs n tasks on the http pool and waits for them), /incident (GET reads
// the current incident, POST /incident?name=NAME switches it).
//
// On start the first line on stdout is "demo: listening on http://ADDR";
// logs go to stderr. SIGINT, SIGTERM or the end of -duration shut it down
// cleanly: load and incidents stop, pools drain, exporters flush, the
// probes socket is removed, and the exit status is 0.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// config holds the parsed command line.
type config struct {
	listen       string
	agentDir     string
	agentTCP     string
	flight       bool
	otlpEndpoint string
	otlpInterval time.Duration
	pyroscopeURL string
	load         int
	incident     string
	duration     time.Duration
	watch        time.Duration
	contention   bool
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.listen, "listen", "127.0.0.1:8080", "`address` of the HTTP server (/metrics, /work, /incident); port 0 picks a free one")
	fs.StringVar(&c.agentDir, "agent-dir", "", "`directory` for the probes socket and discovery file (default $XDG_RUNTIME_DIR/gdiag or $TMPDIR/gdiag-<uid>)")
	fs.StringVar(&c.agentTCP, "agent-tcp", "", "loopback `host:port` for the agent's token-protected TCP listener (token from $GDIAG_TOKEN, else generated into the discovery file); empty disables it")
	fs.BoolVar(&c.flight, "flight", true, "keep a flight recorder (the last seconds of execution trace) for gdiag trace --flight and gdiag doctor")
	fs.StringVar(&c.otlpEndpoint, "otlp-endpoint", "", "OTLP/HTTP collector `host:port` for traces and metrics (insecure); empty disables OpenTelemetry export")
	fs.DurationVar(&c.otlpInterval, "otlp-interval", 10*time.Second, "how often metrics are exported over OTLP")
	fs.StringVar(&c.pyroscopeURL, "pyroscope-url", "", "Pyroscope server `URL` (e.g. http://127.0.0.1:4040) for continuous profiling; empty disables it")
	fs.IntVar(&c.load, "load", 50, "requests per second the built-in load generator sends to /work (0 disables it)")
	fs.StringVar(&c.incident, "incident", "none", "incident to start with: "+incidentList()+" (switch at run time with POST /incident?name=NAME)")
	fs.DurationVar(&c.duration, "duration", 0, "exit after this long; 0 runs until SIGINT or SIGTERM")
	fs.BoolVar(&c.contention, "contention-profiles", true, "sample mutex and block events, so that those profiles are not empty (false leaves the runtime's default: off)")
	fs.DurationVar(&c.watch, "watch", 0, "print a scheduler and pool summary read from the probes socket every `interval` (0 disables it)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: demo [flags]\n\n"+
			"demo is an HTTP service instrumented with gdiag, with a load generator and\n"+
			"incidents to cause on purpose. Routes: /metrics, /work?tenant=t1..t5&n=N, /incident.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if !validIncident(c.incident) {
		return c, fmt.Errorf("unknown incident %q (want one of %s)", c.incident, incidentList())
	}
	if c.load < 0 || c.otlpInterval <= 0 || c.duration < 0 || c.watch < 0 {
		return c, errors.New("-load, -duration and -watch must not be negative, -otlp-interval must be positive")
	}
	return c, nil
}

func main() {
	c, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(2)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	context.AfterFunc(ctx, stop) // a second signal during the shutdown kills at once
	if c.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.duration)
		defer cancel()
	}
	if err := run(ctx, c, os.Stdout, log); err != nil {
		log.Error("demo failed", "err", err)
		os.Exit(1)
	}
}
