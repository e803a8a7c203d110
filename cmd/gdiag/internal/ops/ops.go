package ops

import (
	"context"
	"flag"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/gdiag/gdiag/apiv1"
	"github.com/gdiag/gdiag/cmd/gdiag/internal/cli"
	"github.com/gdiag/gdiag/cmd/gdiag/internal/target"
)

// Commands returns memstats, gc, setgc and memlimit.
func Commands() []cli.Command {
	return []cli.Command{memstatsCommand(), gcCommand(), setgcCommand(), memlimitCommand()}
}

// open resolves the target of an operation, which needs the agent.
func open(ctx context.Context, env *cli.Env, args []string, what string, extra int) (*target.Target, error) {
	if len(args) < 1 || len(args) > 1+extra {
		return nil, cli.Usagef("%s takes TARGET%s; got %d arguments", env.Command, strings.Repeat(" VALUE", extra), len(args))
	}
	t, err := target.Open(ctx, env, args[0])
	if err != nil {
		return nil, err
	}
	return t, t.RequireAgent(what, "")
}

func memstatsCommand() cli.Command {
	return cli.Command{
		Name:    "memstats",
		Args:    "TARGET",
		Summary: "show the process's memory statistics (runtime.MemStats), GOGC and memory limit",
		Help: `Reads runtime.MemStats in the process through its agent (which stops the
world for a few microseconds), with the GC percent (GOGC) and the soft memory
limit (GOMEMLIMIT) in force. Needs the gdiag agent.

--json prints {"memStats": {runtime.MemStats under Go's field names},
"gogc": N (-1 when off), "memoryLimit": bytes (9223372036854775807 for none)}.`,
		Examples: []string{"gdiag memstats 1234", "gdiag memstats 1234 --json | jq .memStats.HeapInuse"},
		Setup: func(fs *flag.FlagSet) func(context.Context, *cli.Env, []string) error {
			return func(ctx context.Context, env *cli.Env, args []string) error {
				t, err := open(ctx, env, args, "gdiag memstats", 0)
				if err != nil {
					return err
				}
				m, err := t.Agent.MemStats(ctx)
				if err != nil {
					return err
				}
				if env.JSON {
					return env.PrintJSON(m)
				}
				return printMemStats(env, m)
			}
		},
	}
}

func printMemStats(env *cli.Env, m apiv1.MemStats) error {
	s := &m.MemStats
	tw := env.Table()
	row := func(name, value string) { fmt.Fprintf(tw, "%s\t%s\n", name, value) }
	row("heap in use", bytesText(s.HeapInuse))
	row("heap objects", strconv.FormatUint(s.HeapObjects, 10)+" ("+bytesText(s.HeapAlloc)+")")
	row("heap idle / released", bytesText(s.HeapIdle)+" / "+bytesText(s.HeapReleased))
	row("next GC at", bytesText(s.NextGC))
	row("stacks", bytesText(s.StackInuse))
	row("total from the OS", bytesText(s.Sys))
	row("allocated since start", bytesText(s.TotalAlloc)+" in "+strconv.FormatUint(s.Mallocs, 10)+" objects")
	row("GC cycles", strconv.FormatUint(uint64(s.NumGC), 10)+" ("+strconv.FormatUint(uint64(s.NumForcedGC), 10)+" forced)")
	if s.NumGC > 0 {
		row("last GC pause", time.Duration(s.PauseNs[(s.NumGC+255)%256]).String())
		row("GC pause total", time.Duration(s.PauseTotalNs).String())
	}
	row("GC CPU fraction", strconv.FormatFloat(100*s.GCCPUFraction, 'f', 2, 64)+"%")
	row("GOGC", gogcText(m.GOGC))
	row("memory limit", limitText(m.MemoryLimit))
	return tw.Flush()
}

func gcCommand() cli.Command {
	return cli.Command{
		Name:    "gc",
		Args:    "TARGET",
		Summary: "run a garbage collection in the process and show the heap before and after",
		Help: `Asks the process's agent to run runtime.GC, which waits for a full cycle, and
shows the heap's live and unswept objects before and after. The agent logs the
operation and who asked; it runs one such GC at a time. Needs the agent's
owner-only socket or its token TCP listener.

--json prints {"heapBefore": bytes, "heapAfter": bytes, "took": seconds}.`,
		Examples: []string{"gdiag gc 1234"},
		Setup: func(fs *flag.FlagSet) func(context.Context, *cli.Env, []string) error {
			return func(ctx context.Context, env *cli.Env, args []string) error {
				t, err := open(ctx, env, args, "gdiag gc", 0)
				if err != nil {
					return err
				}
				g, err := t.Agent.GC(ctx)
				if err != nil {
					return err
				}
				if env.JSON {
					return env.PrintJSON(struct {
						HeapBefore uint64  `json:"heapBefore"`
						HeapAfter  uint64  `json:"heapAfter"`
						Took       float64 `json:"took"`
					}{g.HeapBefore, g.HeapAfter, time.Duration(g.Took).Seconds()})
				}
				fmt.Fprintf(env.Stdout, "GC ran in %v: heap %s -> %s\n", time.Duration(g.Took).Round(time.Microsecond), bytesText(g.HeapBefore), bytesText(g.HeapAfter))
				return nil
			}
		},
	}
}

func setgcCommand() cli.Command {
	return cli.Command{
		Name:    "setgc",
		Args:    "TARGET [PERCENT|off]",
		Summary: "set the process's GC percent (GOGC); without PERCENT, show it",
		Help: `Sets the garbage collector's target percentage in the process, as GOGC does
at start (debug.SetGCPercent): PERCENT from 0, or "off" to stop collecting
(then only a memory limit bounds the heap). Without PERCENT it shows the value
in force. The agent logs every change and who asked. Needs the agent's
owner-only socket or its token TCP listener.

--json prints {"previous": N, "percent": N} (-1 for off).`,
		Examples: []string{"gdiag setgc 1234 200", "gdiag setgc 1234 off", "gdiag setgc 1234"},
		Setup: func(fs *flag.FlagSet) func(context.Context, *cli.Env, []string) error {
			return func(ctx context.Context, env *cli.Env, args []string) error {
				return getOrSet(ctx, env, args, "gdiag setgc",
					(*apiv1.Client).GCPercent,
					func(ctx context.Context, c *apiv1.Client, arg string) (apiv1.GCPercent, error) {
						n, err := parsePercent(arg)
						if err != nil {
							return apiv1.GCPercent{}, err
						}
						return c.SetGCPercent(ctx, n)
					},
					func(p apiv1.GCPercent) (string, string) { return "GOGC " + gogcText(p.Percent), gogcText(p.Previous) })
			}
		},
	}
}

func memlimitCommand() cli.Command {
	return cli.Command{
		Name:    "memlimit",
		Args:    "TARGET [BYTES|off]",
		Summary: "set the process's soft memory limit (GOMEMLIMIT); without BYTES, show it",
		Help: `Sets the soft memory limit in the process, as GOMEMLIMIT does at start
(debug.SetMemoryLimit): BYTES as a number with an optional unit (512MiB, 2GiB,
1.5GB, as GOMEMLIMIT takes them, or plain bytes), at least 1 MiB, or "off" for
no limit. Without BYTES it shows the limit in force. The agent logs every change
and who asked. Needs the agent's owner-only socket or its token TCP listener.

--json prints {"previous": bytes, "bytes": bytes} (9223372036854775807 for none).`,
		Examples: []string{"gdiag memlimit 1234 2GiB", "gdiag memlimit 1234 off", "gdiag memlimit 1234"},
		Setup: func(fs *flag.FlagSet) func(context.Context, *cli.Env, []string) error {
			return func(ctx context.Context, env *cli.Env, args []string) error {
				return getOrSet(ctx, env, args, "gdiag memlimit",
					(*apiv1.Client).MemoryLimit,
					func(ctx context.Context, c *apiv1.Client, arg string) (apiv1.MemoryLimit, error) {
						n, err := parseBytes(arg)
						if err != nil {
							return apiv1.MemoryLimit{}, err
						}
						return c.SetMemoryLimit(ctx, n)
					},
					func(m apiv1.MemoryLimit) (string, string) {
						return "memory limit " + limitText(m.Bytes), limitText(m.Previous)
					})
			}
		},
	}
}

// getOrSet runs a command that shows a setting of the process (TARGET
// alone) or sets it (TARGET VALUE): text gives the setting as shown and
// the value it had before a change.
func getOrSet[V any](ctx context.Context, env *cli.Env, args []string, what string,
	get func(*apiv1.Client, context.Context) (V, error),
	set func(context.Context, *apiv1.Client, string) (V, error),
	text func(V) (now, was string)) error {
	t, err := open(ctx, env, args, what, 1)
	if err != nil {
		return err
	}
	var v V
	if len(args) == 1 {
		v, err = get(t.Agent, ctx)
	} else {
		v, err = set(ctx, t.Agent, args[1])
	}
	if err != nil {
		return err
	}
	if env.JSON {
		return env.PrintJSON(v)
	}
	now, was := text(v)
	if len(args) == 1 {
		fmt.Fprintln(env.Stdout, now)
	} else {
		fmt.Fprintf(env.Stdout, "%s (was %s)\n", now, was)
	}
	return nil
}

func parsePercent(s string) (int, error) {
	if strings.EqualFold(s, "off") {
		return -1, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, cli.Usagef("PERCENT %q: give a whole number from 0 (GOGC=100 is the default) or off", s)
	}
	return n, nil
}

// units are GOMEMLIMIT's suffixes.
var units = []struct {
	suffix string
	mult   float64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1},
}

// parseBytes reads a size as GOMEMLIMIT takes it, or "off".
func parseBytes(s string) (int64, error) {
	if strings.EqualFold(s, "off") {
		return math.MaxInt64, nil
	}
	num, mult := s, 1.0
	for _, u := range units {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			num, mult = n, u.mult
			break
		}
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f < 0 || f*mult >= math.MaxInt64 || f != f {
		return 0, cli.Usagef("BYTES %q: give a size such as 512MiB, 2GiB or 1500000000, or off", s)
	}
	return int64(f * mult), nil
}

func gogcText(p int) string {
	if p < 0 {
		return "off"
	}
	return strconv.Itoa(p)
}

func limitText(b int64) string {
	if b == math.MaxInt64 {
		return "none"
	}
	return bytesText(uint64(b))
}

// bytesText prints a byte count in binary units, as GOMEMLIMIT takes them.
func bytesText(b uint64) string {
	switch {
	case b >= 1<<30:
		return strconv.FormatFloat(float64(b)/(1<<30), 'f', 2, 64) + " GiB"
	case b >= 1<<20:
		return strconv.FormatFloat(float64(b)/(1<<20), 'f', 1, 64) + " MiB"
	case b >= 1<<10:
		return strconv.FormatFloat(float64(b)/(1<<10), 'f', 1, 64) + " KiB"
	}
	return strconv.FormatUint(b, 10) + " B"
}
