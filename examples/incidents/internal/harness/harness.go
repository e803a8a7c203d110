package harness

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/gdiag/gdiag/pool"
	"github.com/gdiag/gdiag/probes"
)

// stopTimeout bounds the drain of the load pool at shutdown, so that a
// program whose fault jams the pool still exits.
const stopTimeout = 5 * time.Second

// Program describes one incident program. The zero value (with a Name) is
// the healthy program: the load and nothing else.
type Program struct {
	// Name appears in the ready line and in error messages.
	Name string
	// Handle, when set, serves each request of the load in place of Work;
	// seq numbers the requests from 0. It runs on the load pool's workers.
	Handle func(ctx context.Context, seq uint64) error
	// Start, when set, sets up the fault before the ready line is printed.
	// It may start goroutines with wg.Go; they must return once ctx ends,
	// and shutdown waits for them. An error ends the program.
	Start func(ctx context.Context, wg *sync.WaitGroup) error
}

// config is the parsed command line.
type config struct {
	agentDir string
	duration time.Duration
	rps      int
}

func parseFlags(name string, args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.agentDir, "agent-dir", "", "`directory` for the agent's socket and discovery file (default $XDG_RUNTIME_DIR/gdiag or $TMPDIR/gdiag-<uid>)")
	fs.DurationVar(&c.duration, "duration", 0, "exit after this long; 0 runs until SIGINT or SIGTERM")
	fs.IntVar(&c.rps, "load", DefaultRPS, "requests per second of the background load (0 disables it)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if c.duration < 0 || c.rps < 0 {
		return c, errors.New("-duration and -load must not be negative")
	}
	return c, nil
}

// Main runs p with the process's arguments until SIGINT, SIGTERM or the
// end of -duration, and exits: 0 after a clean shutdown, 1 on an error,
// 2 on bad flags. It does not return.
func Main(p Program) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	context.AfterFunc(ctx, stop) // a second signal during the shutdown kills at once
	err := Run(ctx, p, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case errors.As(err, new(usageError)):
		fmt.Fprintf(os.Stderr, "incident %s: %v\n", p.Name, err)
		os.Exit(2)
	case err != nil:
		fmt.Fprintf(os.Stderr, "incident %s: %v\n", p.Name, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// usageError marks a bad command line.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// Run runs p with args until ctx ends or -duration passes, printing the
// ready line to stdout once the agent, the fault and the load are up, then
// shuts everything down and returns. Flag errors are returned wrapped in
// a type Main maps to status 2; flag.ErrHelp after -h.
func Run(ctx context.Context, p Program, args []string, stdout, stderr io.Writer) (err error) {
	c, err := parseFlags(p.Name, args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	if err != nil {
		return usageError{err}
	}
	if c.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.duration)
		defer cancel()
	}
	calibrate() // before the fault, which may eat the CPU

	agent, err := probes.Start(probes.Options{Dir: c.agentDir, Flight: &probes.FlightOptions{}})
	if err != nil {
		return fmt.Errorf("start agent: %w", err)
	}
	defer func() { err = errors.Join(err, agent.Close()) }()

	faultCtx, stopFault := context.WithCancel(ctx)
	var fault sync.WaitGroup
	defer func() { stopFault(); fault.Wait() }()
	if p.Start != nil {
		if err := p.Start(faultCtx, &fault); err != nil {
			return fmt.Errorf("start fault: %w", err)
		}
	}

	handle := p.Handle
	if handle == nil {
		handle = func(ctx context.Context, _ uint64) error { return Work(ctx) }
	}
	lp := NewLoadPool()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
		defer cancel()
		err = errors.Join(err, lp.Stop(sctx))
	}()
	var load sync.WaitGroup
	defer load.Wait() // the generator ends with ctx, before the pool stops
	load.Go(func() { RunLoad(ctx, lp, c.rps, handle) })

	if _, err := fmt.Fprintf(stdout, "incident: %s pid %d ready\n", p.Name, os.Getpid()); err != nil {
		return fmt.Errorf("print ready line: %w", err)
	}
	<-ctx.Done()
	fmt.Fprintf(stderr, "incident %s: stopping: %v\n", p.Name, context.Cause(ctx))
	return nil
}

// NewLoadPool returns the pool that runs the load's requests, named
// LoadPoolName: 8 workers at most, 2 kept, a queue of 256 and blocking
// submission, so that a slowed-down process queues requests rather than
// rejecting them (only the pool incident is meant to reject).
func NewLoadPool() *pool.Pool {
	return pool.New(LoadPoolName, pool.WithMaxWorkers(8), pool.WithMinWorkers(2), pool.WithQueueSize(256))
}
