package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/gdiag/gdiag/cmd/gdiag/internal/analyze"
	"github.com/gdiag/gdiag/cmd/gdiag/internal/cli"
	"github.com/gdiag/gdiag/cmd/gdiag/internal/doctor"
	"github.com/gdiag/gdiag/cmd/gdiag/internal/goroutines"
	"github.com/gdiag/gdiag/cmd/gdiag/internal/ops"
	"github.com/gdiag/gdiag/cmd/gdiag/internal/pools"
	"github.com/gdiag/gdiag/cmd/gdiag/internal/profile"
	"github.com/gdiag/gdiag/cmd/gdiag/internal/ps"
	"github.com/gdiag/gdiag/cmd/gdiag/internal/sched"
	tracecmd "github.com/gdiag/gdiag/cmd/gdiag/internal/trace"
)

// commands lists every subcommand, in the order "gdiag help" shows them.
func commands() []cli.Command {
	return append([]cli.Command{
		ps.Command(),
		sched.Command(),
		pools.Command(),
		doctor.Command(),
		profile.Command(),
		tracecmd.Command(),
		goroutines.Command(),
		analyze.Command(analyze.Analyzers{
			Goroutines: goroutines.Analyze,
			Profile:    profile.Analyze,
			Trace:      tracecmd.Analyze,
		}),
	}, ops.Commands()...)
}

func main() {
	// The first interrupt cancels the running command, which then stops
	// cleanly (a live view restores the terminal); a second one kills.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr, commands())
	stop()
	os.Exit(code)
}
