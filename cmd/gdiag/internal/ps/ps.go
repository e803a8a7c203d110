package ps

import (
	"context"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"time"

	"github.com/gdiag/gdiag/apiv1"
	"github.com/gdiag/gdiag/cmd/gdiag/internal/cli"
	"github.com/gdiag/gdiag/cmd/gdiag/internal/target"
)

// Row is one process in gdiag ps's output (and its --json form).
type Row struct {
	target.Process
	PPID int `json:"ppid"`
	// CPUPercent is the CPU the process used over Options.CPUWindow, in
	// percent of one core (200 is two cores busy), as top shows it.
	CPUPercent float64 `json:"cpuPercent"`
	CPUSeconds float64 `json:"cpuSeconds"` // since it started
	RSSBytes   int64   `json:"rssBytes"`
	Threads    int     `json:"threads"`
	Started    string  `json:"started,omitempty"` // RFC 3339
	AgeSeconds float64 `json:"ageSeconds"`
	// Listen is its listening TCP addresses (only when /proc/PID/fd is
	// readable: your own processes, or all as root).
	Listen        []string `json:"listen"`
	Agent         bool     `json:"agent"`
	Socket        string   `json:"socket,omitempty"`
	TCPAddr       string   `json:"tcpAddr,omitempty"`
	DiscoveryFile string   `json:"discoveryFile,omitempty"` // holds the TCP token, if any
	// PprofURL is where the process serves net/http/pprof, for a Go
	// process without the agent: a TARGET for gdiag profile, trace,
	// goroutines and doctor.
	PprofURL string `json:"pprofURL,omitempty"`

	listen []netip.AddrPort
}

// Options are what List looks at.
type Options struct {
	Dir        string        // the agents' discovery directory; "" for the default ones
	AgentsOnly bool          // only processes that run the agent
	CPUWindow  time.Duration // how long CPU use is measured over; 0 for none
	Probe      bool          // look for net/http/pprof on the listening ports of Go processes without the agent
}

// Command returns the ps command.
func Command() cli.Command {
	return cli.Command{
		Name:    "ps",
		Summary: "list Go processes on this host and which run the gdiag agent",
		Help: `Lists the Go processes this user can see (not gdiag itself), read from /proc
and from the Go build information in each executable, like gops: PID, the
program's name (the executable's, not the kernel's 15-byte one), Go
version, CPU% over --cpu-window (100 is one core), resident memory, threads,
age, listening TCP addresses, and what runs: the main module with its
version (path@v2.15.2) or, for a build outside module mode such as
Debian's, the main package's path.

AGENT is the agent's endpoint for processes that run it (probes.Start);
for a Go process without it that serves net/http/pprof on one of its
listening ports (gdiag asks GET /debug/pprof/ on each, 0.5 s at most;
--probe=false does not), it is "pprof http://HOST:PORT", a TARGET for gdiag
profile, trace, goroutines and doctor.

--tree shows the processes as a tree, each under its nearest Go ancestor
or under its non-Go parent, like gops tree.

Processes of other users are listed only when their executables are
readable, and their ports only for root. An agent's discovery file is
trusted only in a directory of your own with mode 0700; what is skipped is
said on stderr.

--json prints an array of {"pid", "ppid", "name", "exe", "go", "goVersion",
"module", "version", "package", "error", "cpuPercent", "cpuSeconds",
"rssBytes", "threads", "started", "ageSeconds", "listen", "agent", "socket",
"tcpAddr", "discoveryFile", "pprofURL"}.`,
		Examples: []string{"gdiag ps", "gdiag ps --agents", "gdiag ps --tree", "gdiag ps --json | jq '.[] | select(.pprofURL) | .pprofURL'"},
		Setup: func(fs *flag.FlagSet) func(context.Context, *cli.Env, []string) error {
			agents := fs.Bool("agents", false, "list only processes that run the agent")
			tree := fs.Bool("tree", false, "show the processes as a tree by parent")
			window := fs.Duration("cpu-window", 250*time.Millisecond, "measure CPU use over this long (0: no CPU%)")
			probe := fs.Bool("probe", true, "look for net/http/pprof on the listening ports of Go processes without the agent")
			return func(ctx context.Context, env *cli.Env, args []string) error {
				switch {
				case len(args) > 0:
					return cli.Usagef("ps takes no arguments")
				case *window < 0 || *window > time.Minute:
					return cli.Usagef("--cpu-window %v is out of range: give 0 to 1m", *window)
				}
				rows, skipped, err := List(ctx, Options{Dir: env.Dir, AgentsOnly: *agents, CPUWindow: *window, Probe: *probe})
				if err != nil {
					return err
				}
				if skipped != nil {
					fmt.Fprintf(env.Stderr, "gdiag ps: skipped: %v\n", skipped)
				}
				switch {
				case env.JSON:
					return env.PrintJSON(rows)
				case *tree:
					return printTree(env, rows)
				}
				return print(env, rows)
			}
		},
	}
}

// List returns the Go processes (only agents when o.AgentsOnly), by PID,
// and why discovery files were skipped, if any were (apiv1.Discover). It
// takes o.CPUWindow, plus the probes' time, to return.
func List(ctx context.Context, o Options) (rows []Row, skipped, err error) {
	procs, err := target.Processes()
	if err != nil {
		return nil, nil, &cli.Error{Code: cli.ExitTarget, Err: err}
	}
	agents := map[int]apiv1.Discovery{}
	found, skipped := apiv1.Discover(o.Dir)
	for _, a := range found {
		agents[a.PID] = a
	}
	rows = []Row{}
	self := os.Getpid()
	for _, p := range procs {
		a, ok := agents[p.PID]
		if !p.Go && !ok || o.AgentsOnly && !ok || p.PID == self {
			continue // gdiag ps itself is no process to diagnose
		}
		r := Row{Process: p, Agent: ok, Listen: []string{}}
		if ok {
			r.Socket, r.TCPAddr, r.DiscoveryFile = a.Socket, a.TCPAddr, a.Path
			if r.GoVersion == "" {
				r.GoVersion, r.Module = a.GoVersion, a.Module
			}
		}
		rows = append(rows, r)
	}
	if err := measure(ctx, rows, o.CPUWindow); err != nil {
		return nil, nil, err
	}
	if o.Probe {
		probe(ctx, rows)
	}
	return rows, skipped, nil
}

// measure fills in each row's usage, age and listening addresses, and its
// CPU use over window.
func measure(ctx context.Context, rows []Row, window time.Duration) error {
	boot, _ := bootTime()
	now := time.Now()
	first := make([]time.Duration, len(rows))
	for i := range rows {
		u, err := readUsage(rows[i].PID)
		if err != nil {
			continue // gone since it was listed, or not readable
		}
		r := &rows[i]
		r.PPID, r.Threads, r.RSSBytes, first[i] = u.PPID, u.Threads, u.RSS, u.CPU
		r.CPUSeconds = u.CPU.Seconds()
		if !boot.IsZero() {
			start := boot.Add(u.Start)
			r.Started, r.AgeSeconds = start.Format(time.RFC3339), now.Sub(start).Seconds()
		}
	}
	byInode := listeners()
	for i := range rows {
		for _, inode := range socketInodes(rows[i].PID) {
			if ap, ok := byInode[inode]; ok {
				rows[i].listen = append(rows[i].listen, ap)
			}
		}
		slices.SortFunc(rows[i].listen, netip.AddrPort.Compare)
		rows[i].listen = slices.Compact(rows[i].listen)
		for _, ap := range rows[i].listen {
			rows[i].Listen = append(rows[i].Listen, listenLabel(ap))
		}
	}
	if window <= 0 {
		return nil
	}
	t0 := time.Now()
	select {
	case <-ctx.Done():
		return &cli.Error{Code: cli.ExitTimeout, Err: fmt.Errorf("interrupted while measuring CPU use")}
	case <-time.After(window):
	}
	el := time.Since(t0)
	for i := range rows {
		if u, err := readUsage(rows[i].PID); err == nil && u.CPU >= first[i] {
			rows[i].CPUPercent = 100 * (u.CPU - first[i]).Seconds() / el.Seconds()
			rows[i].CPUSeconds = u.CPU.Seconds()
		}
	}
	return nil
}

// probe sets PprofURL for the Go processes without the agent that serve
// net/http/pprof on a listening port.
func probe(ctx context.Context, rows []Row) {
	addrs := map[int][]netip.AddrPort{}
	for _, r := range rows {
		if r.Agent || !r.Go {
			continue
		}
		if len(r.listen) > 0 {
			addrs[r.PID] = r.listen
		}
	}
	urls := pprofURLs(ctx, addrs)
	for i := range rows {
		rows[i].PprofURL = urls[rows[i].PID]
	}
}
