package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"time"
)

// DefaultTimeout bounds every request to a target, on top of any capture
// duration the command asks for, so that no command waits forever.
const DefaultTimeout = 10 * time.Second

// Command is one gdiag subcommand.
type Command struct {
	Name     string   // as typed: "sched"
	Args     string   // positional arguments for the usage line: "TARGET"
	Summary  string   // one line for "gdiag help"
	Help     string   // what it does, shown by --help
	Examples []string // command lines shown by --help
	// Setup adds the command's own flags to fs and returns the function
	// that runs it once the flags are parsed. Common flags are already on fs.
	Setup func(fs *flag.FlagSet) func(ctx context.Context, env *Env, args []string) error
}

// Env is what a running command needs besides its own flags.
type Env struct {
	Stdout, Stderr io.Writer
	Command        string        // the subcommand's name, for messages
	JSON           bool          // --json: print data, not text
	Timeout        time.Duration // --timeout: per request, on top of capture time
	Token          string        // --token, or $GDIAG_TOKEN
	Dir            string        // --dir: where agents' discovery files are
}

// Main runs the command named by args[0] and returns the exit code. It
// writes results to stdout and messages to stderr.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer, cmds []Command) int {
	if len(args) == 0 {
		usage(stderr, cmds)
		return ExitUsage
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			if c, ok := find(cmds, args[1]); ok {
				return run(ctx, c, []string{"--help"}, stdout, stderr)
			}
		}
		usage(stdout, cmds)
		return ExitOK
	case "version", "--version":
		fmt.Fprintln(stdout, version())
		return ExitOK
	}
	c, ok := find(cmds, args[0])
	if !ok {
		fmt.Fprintf(stderr, "gdiag: unknown command %q\n  hint: run gdiag help for the list of commands\n", args[0])
		return ExitUsage
	}
	return run(ctx, c, args[1:], stdout, stderr)
}

func find(cmds []Command, name string) (Command, bool) {
	for _, c := range cmds {
		if c.Name == name {
			return c, true
		}
	}
	return Command{}, false
}

func run(ctx context.Context, c Command, args []string, stdout, stderr io.Writer) int {
	env := &Env{Stdout: stdout, Stderr: stderr, Command: c.Name}
	fs := flag.NewFlagSet("gdiag "+c.Name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.BoolVar(&env.JSON, "json", false, "print JSON instead of text, for scripts")
	fs.DurationVar(&env.Timeout, "timeout", DefaultTimeout, "give up on a target that has not answered after this long (on top of any capture time)")
	fs.StringVar(&env.Token, "token", os.Getenv("GDIAG_TOKEN"), "bearer token for a host:port target (default $GDIAG_TOKEN, else the discovery file's)")
	fs.StringVar(&env.Dir, "dir", os.Getenv("GDIAG_DIR"), "directory of the agents' discovery files (default $GDIAG_DIR, else the agents' default)")
	runFn := c.Setup(fs)
	pos, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		commandUsage(stdout, c, fs)
		return ExitOK
	}
	if err == nil && env.Timeout <= 0 {
		err = errors.New("--timeout must be above zero")
	}
	if err != nil {
		fmt.Fprintf(stderr, "gdiag %s: %v\n  hint: run gdiag %s --help\n", c.Name, err, c.Name)
		return ExitUsage
	}
	err = runFn(ctx, env, pos)
	if err != nil && err != Findings {
		report(stderr, c.Name, err)
	}
	return ExitCode(err)
}

// parseInterspersed lets flags follow positional arguments, as in
// "gdiag sched 1234 --once".
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		// A "--" makes everything after it positional.
		if i := len(args) - len(rest); i > 0 && args[i-1] == "--" {
			return append(pos, rest...), nil
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
}

func report(w io.Writer, name string, err error) {
	msg := err.Error()
	if ExitCode(err) == ExitTimeout && !strings.Contains(msg, "timed out") {
		msg += " (timed out)"
	}
	fmt.Fprintf(w, "gdiag %s: %s\n", name, msg)
	if h := hint(err); h != "" {
		fmt.Fprintf(w, "  hint: %s\n", h)
	}
}

func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "gdiag (unknown version)"
	}
	return fmt.Sprintf("gdiag %s (%s)", bi.Main.Version, bi.GoVersion)
}
