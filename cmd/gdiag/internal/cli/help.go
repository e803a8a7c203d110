package cli

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// TargetHelp describes the TARGET argument; commands that take one show it.
const TargetHelp = `A TARGET is one of:
  PID               a process running the gdiag agent (probes.Start), found
                    through its discovery file; see gdiag ps
  /path/to/socket   the agent's unix socket
  HOST:PORT         the agent's TCP listener; needs --token or $GDIAG_TOKEN
  http://HOST:PORT  a service exposing net/http/pprof (no agent needed; gdiag
                    does what pprof allows and says what it cannot)
A process without the agent gets a message saying how to add one.`

func usage(w io.Writer, cmds []Command) {
	fmt.Fprint(w, "gdiag diagnoses live Go processes and saved diagnostics files.\n\nUsage: gdiag COMMAND [ARGS] [flags]\n\nCommands:\n")
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-11s %s\n", c.Name, c.Summary)
	}
	fmt.Fprint(w, "  help        show help for a command: gdiag help sched\n  version     print gdiag's version\n\n")
	fmt.Fprintln(w, TargetHelp)
	fmt.Fprint(w, "\nEvery command takes --json, --timeout and --help. Exit codes: 0 ok, 1 findings,\n2 usage, 3 no agent or no such process, 4 timeout, 5 bad input file, 6 target error,\n7 agent unreachable, 8 token refused or endpoint not trusted.\n")
}

func commandUsage(w io.Writer, c Command, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: gdiag %s", c.Name)
	if c.Args != "" {
		fmt.Fprintf(w, " %s", c.Args)
	}
	fmt.Fprintf(w, " [flags]\n\n%s\n", strings.TrimSpace(c.Help))
	if strings.Contains(c.Args, "TARGET") {
		fmt.Fprintf(w, "\n%s\n", TargetHelp)
	}
	fmt.Fprint(w, "\nFlags:\n")
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
	if len(c.Examples) > 0 {
		fmt.Fprint(w, "\nExamples:\n")
		for _, e := range c.Examples {
			fmt.Fprintf(w, "  %s\n", e)
		}
	}
}
