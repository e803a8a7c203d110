package ps

import (
	"context"
	"flag"
	"fmt"

	"github.com/gdiag/gdiag/apiv1"
	"github.com/gdiag/gdiag/cmd/gdiag/internal/cli"
	"github.com/gdiag/gdiag/cmd/gdiag/internal/target"
)

// Row is one process in gdiag ps's output (and its --json form).
type Row struct {
	target.Process
	Agent         bool   `json:"agent"`
	Socket        string `json:"socket,omitempty"`
	TCPAddr       string `json:"tcpAddr,omitempty"`
	DiscoveryFile string `json:"discoveryFile,omitempty"` // holds the TCP token, if any
}

// Command returns the ps command.
func Command() cli.Command {
	return cli.Command{
		Name:    "ps",
		Summary: "list Go processes on this host and which run the gdiag agent",
		Help: `Lists the Go processes this user can see, read from /proc and from the Go
build information in each executable (Go version, main module), and marks
those that run the gdiag agent (probes.Start) with their endpoint. Processes
of other users are listed only when their executables are readable. An
agent's discovery file is trusted only in a directory of your own with mode
0700; what is skipped is said on stderr.`,
		Examples: []string{"gdiag ps", "gdiag ps --agents", "gdiag ps --json | jq '.[] | select(.agent) | .pid'"},
		Setup: func(fs *flag.FlagSet) func(context.Context, *cli.Env, []string) error {
			agents := fs.Bool("agents", false, "list only processes that run the agent")
			return func(ctx context.Context, env *cli.Env, args []string) error {
				if len(args) > 0 {
					return cli.Usagef("ps takes no arguments")
				}
				rows, skipped, err := List(env.Dir, *agents)
				if err != nil {
					return &cli.Error{Code: cli.ExitTarget, Err: err}
				}
				if skipped != nil {
					fmt.Fprintf(env.Stderr, "gdiag ps: skipped: %v\n", skipped)
				}
				if env.JSON {
					return env.PrintJSON(rows)
				}
				return print(env, rows)
			}
		},
	}
}

// List returns the Go processes (only agents when agentsOnly), by PID,
// and why discovery files were skipped, if any were (apiv1.Discover).
func List(dir string, agentsOnly bool) (rows []Row, skipped, err error) {
	procs, err := target.Processes()
	if err != nil {
		return nil, nil, err
	}
	agents := map[int]apiv1.Discovery{}
	found, skipped := apiv1.Discover(dir)
	for _, a := range found {
		agents[a.PID] = a
	}
	rows = []Row{}
	for _, p := range procs {
		a, ok := agents[p.PID]
		if !p.Go && !ok || agentsOnly && !ok {
			continue
		}
		r := Row{Process: p, Agent: ok}
		if ok {
			r.Socket, r.TCPAddr, r.DiscoveryFile = a.Socket, a.TCPAddr, a.Path
			if r.GoVersion == "" {
				r.GoVersion, r.Module = a.GoVersion, a.Module
			}
		}
		rows = append(rows, r)
	}
	return rows, skipped, nil
}

func print(env *cli.Env, rows []Row) error {
	if len(rows) == 0 {
		fmt.Fprintln(env.Stdout, "no Go processes found")
		return nil
	}
	tw := env.Table()
	fmt.Fprintln(tw, "PID\tNAME\tGO\tAGENT\tMODULE")
	for _, r := range rows {
		agent := "-"
		switch {
		case r.Socket != "":
			agent = r.Socket
		case r.TCPAddr != "":
			agent = "tcp " + r.TCPAddr
		}
		mod := r.Module
		if mod == "" {
			mod = "-"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", r.PID, r.Name, r.GoVersion, agent, mod)
	}
	return tw.Flush()
}
