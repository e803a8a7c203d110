package pools

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gdiag/gdiag/apiv1"
	"github.com/gdiag/gdiag/cmd/gdiag/internal/cli"
	"github.com/gdiag/gdiag/cmd/gdiag/internal/target"
)

// maxInterval bounds --interval so that a typo cannot make gdiag wait for
// hours; an hour is far more than any rate needs.
const maxInterval = time.Hour

// Command returns the pools command.
func Command() cli.Command {
	return cli.Command{
		Name:    "pools",
		Args:    "TARGET",
		Summary: "show the process's worker pools: workers, queues, outcomes, rates, latencies",
		Help: `Shows each pool the process registered with the gdiag agent: workers
(running/idle/max), queue (queued for a worker / parked, held back by the
key limit / capacity, which bounds the two together), task outcomes since start
(submitted, completed, failed, panicked, canceled, rejected), rates between two
readings --interval apart (tasks/s counts accepted submissions, rejects/s
refused ones), and the queue-wait and run-time p50/p99 over the pool's life.

Percentiles are bounds, not measurements: the histogram keeps counts per
bucket, and "≤64µs" is the upper bound of the bucket that holds the
percentile (the bounds double from 1µs); "≥134s" means it lies above the
histogram's last bound.
When tasks are parked while workers could run them, a line under the table
says that the key limit (pool.WithKeyLimit), not the worker count, holds
work back, and names the key with the most tasks held back.
--interval 0 takes one reading and shows no rates. Needs the gdiag agent.

--json prints one object (all durations in seconds, as numbers):
  {"target": "1234", "intervalSeconds": 1.0003,
   "pools": [{"name", "running", "idle", "workers", "minWorkers", "maxWorkers",
     "queued", "parked", "queueCapacity", "keyLimit", "stopped", "keyLimited",
     "keys": [{"key", "running", "parked"}], "submitted", "completed", "failed",
     "panicked", "canceled", "rejected", "hookPanics",
     "rates": {"submittedPerSec", "completedPerSec", "rejectedPerSec"} or null,
     "queueWait": {"count", "p50Seconds", "p99Seconds", "p50Over", "p99Over"},
     "runTime": {same as queueWait},
     "overload": only for a pool with overload controls:
       {"limit", "adaptive", "rate": {"perSecond", "burst"} or null, "keyRate": same,
        "shedding", "shedTargetSeconds", "refused": {reason: count}, "shedPerSec" or null,
        "breakerOpens", "breakers": [{"key", "state", "opened", "requests", "failures"}]}}]}

A pool with overload controls (an adaptive limit, a rate limit, shedding, a
breaker) also gets a row in a second table: LIMIT/MAX (the workers it lets
run now, "adaptive" when the limit moves), its token buckets, SHEDDING (YES
while its queue stands, with the wait target), SHED/S between the readings,
its refusals since start by reason, and each breaker's state (the pool's
own as "pool", keyed ones by key) with how often it opened.`,
		Examples: []string{
			"gdiag pools 1234",
			"gdiag pools 1234 --interval 5s",
			"gdiag pools /run/user/1000/gdiag/1234.sock --interval 0 --json | jq '.pools[].queueWait'",
		},
		Setup: func(fs *flag.FlagSet) func(context.Context, *cli.Env, []string) error {
			interval := fs.Duration("interval", time.Second, "time between the two readings the rates come from; 0 for one reading and no rates")
			return func(ctx context.Context, env *cli.Env, args []string) error {
				return run(ctx, env, args, *interval)
			}
		},
	}
}

func run(ctx context.Context, env *cli.Env, args []string, interval time.Duration) error {
	if len(args) > 1 {
		return cli.Usagef("pools takes one TARGET; got %d arguments", len(args))
	}
	// Open first, so that a bad target's message wins over a bad flag's;
	// it also says what a missing TARGET should be.
	t, err := target.Open(ctx, env, strings.Join(args, ""))
	if err != nil {
		return err
	}
	if interval < 0 || interval > maxInterval {
		return cli.Usagef("--interval %v is out of range: give 0 (no rates) up to %v", interval, maxInterval)
	}
	if err := t.RequireAgent("gdiag pools", ""); err != nil {
		return err
	}
	rep, err := read(ctx, t, interval)
	if err != nil {
		return err
	}
	if env.JSON {
		return env.PrintJSON(rep)
	}
	who := t.String()
	if t.PID != 0 {
		who = strconv.Itoa(t.PID)
	}
	return printTable(env, who, rep)
}

// read takes one or two readings and builds the report.
func read(ctx context.Context, t *target.Target, interval time.Duration) (Report, error) {
	second, err := t.Agent.Pools(ctx)
	if err != nil {
		return Report{}, err
	}
	if interval == 0 {
		return buildReport(t.String(), nil, second, 0), nil
	}
	start, first := time.Now(), second
	timer := time.NewTimer(interval)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return Report{}, &cli.Error{Code: cli.ExitTimeout, Err: fmt.Errorf("interrupted between the two readings of %s", t)}
	case <-timer.C:
	}
	if second, err = t.Agent.Pools(ctx); err != nil {
		return Report{}, err
	}
	return buildReport(t.String(), first, second, time.Since(start)), nil
}

// printTable prints rep; who names the process.
func printTable(env *cli.Env, who string, rep Report) error {
	if len(rep.Pools) == 0 {
		fmt.Fprintf(env.Stdout, "no pools registered in %s\n", who)
		return nil
	}
	tw := env.Table()
	fmt.Fprintln(tw, "POOL\tRUN/IDLE/MAX\tQUEUED/PARKED/CAP\tSUBMITTED\tCOMPLETED\tFAILED\tPANICKED\tCANCELED\tREJECTED\tTASKS/S\tREJECTS/S\tWAIT p50/p99\tRUN p50/p99")
	for _, r := range rep.Pools {
		name := r.Name
		if r.Stopped {
			name += " (stopped)"
		}
		tasks, rejects := "-", "-"
		if r.Rates != nil {
			tasks, rejects = rate(r.Rates.SubmittedPerSec), rate(r.Rates.RejectedPerSec)
		}
		fmt.Fprintf(tw, "%s\t%d/%d/%d\t%d/%d/%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t%s\n",
			name, r.Running, r.Idle, r.MaxWorkers, r.Queued, r.Parked, r.QueueCapacity,
			r.Submitted, r.Completed, r.Failed, r.Panicked, r.Canceled, r.Rejected,
			tasks, rejects, r.QueueWait.text(), r.RunTime.text())
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range rep.Pools {
		if r.KeyLimited {
			fmt.Fprintf(env.Stdout, "%s: %s\n", r.Name, keyLimitNote(r))
		}
	}
	if err := printOverload(env, rep); err != nil {
		return err
	}
	if rep.IntervalSeconds > 0 {
		fmt.Fprintf(env.Stdout, "rates over %.1fs; percentiles over each pool's life\n", rep.IntervalSeconds)
	}
	return nil
}

// keyLimitNote says that the key limit, not the worker count, holds r's
// work back, naming the key that holds most of it.
func keyLimitNote(r Row) string {
	note := fmt.Sprintf("%d tasks held back by the key limit (%d running per key at most) while %d of %d workers could run them: the key limit, not the worker count, holds work back",
		r.Parked, r.KeyLimit, r.MaxWorkers-r.Running, r.MaxWorkers)
	var top *apiv1.PoolKey
	for i := range r.Keys {
		if top == nil || r.Keys[i].Parked > top.Parked {
			top = &r.Keys[i]
		}
	}
	if top != nil && top.Parked > 0 {
		note += fmt.Sprintf("; key %q has %d running and %d held back", top.Key, top.Running, top.Parked)
	}
	return note
}

func rate(v float64) string {
	if v >= 100 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}
