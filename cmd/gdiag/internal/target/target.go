package target

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gdiag/gdiag/apiv1"
	"github.com/gdiag/gdiag/cmd/gdiag/internal/cli"
)

// Kind is what answers at a target.
type Kind int

const (
	// KindAgent is the gdiag agent's /v1/ API (probes.Start or probes.Handler).
	KindAgent Kind = iota
	// KindPprof is a plain net/http/pprof service, with no agent.
	KindPprof
)

// AddAgentHint tells the user how to give a process the agent.
const AddAgentHint = `add the agent to the service: import "github.com/gdiag/gdiag/probes" and call agent, err := probes.Start(probes.Options{}) in main and defer agent.Close(); or point gdiag at its net/http/pprof URL (http://HOST:PORT)`

// Target is a process gdiag can fetch diagnostics from: an agent, read
// through Agent, or a net/http/pprof service.
type Target struct {
	Kind  Kind
	Spec  string        // what the user typed
	PID   int           // 0 when not known
	Agent *apiv1.Client // the agent's client; nil for a pprof target

	// A pprof target's /debug/pprof URL and its HTTP client.
	base    string
	client  *http.Client
	timeout time.Duration
}

// Open resolves spec into a Target; see cli.TargetHelp for the forms. An
// agent is resolved by apiv1.NewClient, under its trust rules; an
// http(s) URL that does not serve /v1/info is taken for net/http/pprof.
func Open(ctx context.Context, env *cli.Env, spec string) (*Target, error) {
	t := &Target{Spec: spec, timeout: env.Timeout}
	opts := apiv1.ClientOptions{Dir: env.Dir, Token: env.Token, Timeout: env.Timeout}
	if spec == "" {
		return nil, cli.Usagef("missing TARGET: give a PID, a socket path, HOST:PORT or a pprof URL (gdiag ps lists agents)")
	}
	if fi, err := os.Stat(spec); err == nil && fi.Mode().Type() != os.ModeSocket {
		return nil, cli.Errorf(cli.ExitUsage, "to read a saved file, use gdiag analyze "+spec,
			"%s is a file, not a live target", spec)
	}
	c, err := apiv1.NewClient(spec, opts)
	var pid int
	if p, perr := strconv.Atoi(spec); perr == nil {
		pid = p
	}
	switch {
	case errors.Is(err, apiv1.ErrNoProcess):
		return nil, cli.Errorf(cli.ExitTarget, "gdiag ps lists the Go processes you can diagnose", "no process with PID %d", pid)
	case errors.Is(err, apiv1.ErrNoAgent):
		return nil, noAgent(pid, env.Dir, err)
	case errors.Is(err, apiv1.ErrNeedToken):
		return nil, cli.Errorf(cli.ExitUsage, "pass --token or set $GDIAG_TOKEN (the agent's Options.Token, or the token in its discovery file)",
			"the agent at %s needs a token", spec)
	case errors.Is(err, apiv1.ErrBadTarget):
		return nil, cli.Errorf(cli.ExitUsage, "give a PID, an agent's socket path, HOST:PORT with --token, or http://HOST:PORT for net/http/pprof",
			"cannot make sense of target %q", spec)
	case err != nil:
		return nil, err
	}
	t.Agent, t.PID = c, c.PID()
	if strings.HasPrefix(spec, "http://") || strings.HasPrefix(spec, "https://") {
		return t, t.fromURL(ctx, spec)
	}
	return t, nil
}

// noAgent says why process pid has no agent gdiag can use.
func noAgent(pid int, dir string, err error) error {
	p, ierr := Inspect(pid)
	switch {
	case ierr != nil:
		return cli.Errorf(cli.ExitTarget, "gdiag ps lists the Go processes you can diagnose", "no process with PID %d", pid)
	case p.Err != "":
		return cli.Errorf(cli.ExitTarget, "run gdiag as the process's user", "process %d (%s): %s", pid, p.Name, p.Err)
	case !p.Go:
		return cli.Errorf(cli.ExitTarget, "gdiag diagnoses Go programs; gdiag ps lists them", "process %d (%s) is not a Go program", pid, p.Name)
	}
	dirs := apiv1.DiscoveryDirs()
	if dir != "" {
		dirs = []string{dir}
	}
	return &cli.Error{Code: cli.ExitTarget, Hint: AddAgentHint,
		Err: fmt.Errorf("process %d (%s, %s) runs no gdiag agent: no discovery file in %s: %w", pid, p.Name, p.GoVersion, strings.Join(dirs, " or "), err)}
}

// fromURL asks the URL for the agent's /v1/info; anything else is taken
// for a net/http/pprof service.
func (t *Target) fromURL(ctx context.Context, raw string) error {
	info, err := t.Agent.Info(ctx)
	switch {
	case err == nil && info.APIVersion == apiv1.Version:
		return nil
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return err
	}
	u, perr := url.Parse(raw)
	if perr != nil {
		return cli.Usagef("bad URL %q", raw)
	}
	root := strings.TrimSuffix(strings.TrimSuffix(u.String(), "/"), "/v1")
	if !strings.Contains(u.Path, "/debug/pprof") {
		root += "/debug/pprof"
	}
	t.Kind, t.Agent = KindPprof, nil
	t.base = strings.TrimSuffix(root, "/")
	t.client = &http.Client{}
	return nil
}

// String names the target in messages.
func (t *Target) String() string {
	if t.Agent != nil {
		return t.Agent.String()
	}
	if t.PID != 0 && t.Spec != strconv.Itoa(t.PID) {
		return fmt.Sprintf("%s (pid %d)", t.Spec, t.PID)
	}
	return t.Spec
}

// RequireAgent refuses, with a hint, what a pprof-only target cannot do.
func (t *Target) RequireAgent(what string) error {
	if t.Kind == KindAgent {
		return nil
	}
	return cli.Errorf(cli.ExitTarget, AddAgentHint,
		"%s needs the gdiag agent; %s serves only net/http/pprof", what, t.Spec)
}
