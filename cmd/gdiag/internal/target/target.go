package target

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
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

// Target is a process gdiag can fetch diagnostics from.
type Target struct {
	Kind    Kind
	Spec    string // what the user typed
	PID     int    // 0 when not known
	base    string // URL prefix: the API root for agents, /debug/pprof for pprof
	token   string
	client  *http.Client
	timeout time.Duration
}

// Open resolves spec into a Target; see cli.TargetHelp for the forms.
func Open(ctx context.Context, env *cli.Env, spec string) (*Target, error) {
	t := &Target{Spec: spec, token: env.Token, timeout: env.Timeout, client: &http.Client{}}
	switch {
	case spec == "":
		return nil, cli.Usagef("missing TARGET: give a PID, a socket path, HOST:PORT or a pprof URL (gdiag ps lists agents)")
	case isPID(spec):
		return t, t.fromPID(env, spec)
	case strings.HasPrefix(spec, "http://") || strings.HasPrefix(spec, "https://"):
		return t, t.fromURL(ctx, spec)
	}
	if fi, err := os.Stat(spec); err == nil {
		if fi.Mode().Type() != os.ModeSocket {
			return nil, cli.Errorf(cli.ExitUsage, "to read a saved file, use gdiag analyze "+spec,
				"%s is a file, not a live target", spec)
		}
		t.unix(spec)
		return t, nil
	}
	if _, port, err := net.SplitHostPort(spec); err == nil && port != "" {
		return t, t.fromTCP(env, spec)
	}
	return nil, cli.Errorf(cli.ExitUsage, "give a PID, an agent's socket path, HOST:PORT with --token, or http://HOST:PORT for net/http/pprof",
		"cannot make sense of target %q", spec)
}

func isPID(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n > 0
}

func (t *Target) unix(path string) {
	t.base = "http://gdiag"
	t.client.Transport = &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		},
	}
}

func (t *Target) fromPID(env *cli.Env, spec string) error {
	t.PID, _ = strconv.Atoi(spec)
	dirs := Dirs(env.Dir)
	if a, ok := FindAgent(dirs, t.PID); ok {
		switch {
		case a.Socket != "":
			t.unix(a.Socket)
		case a.TCPAddr != "":
			t.base = "http://" + a.TCPAddr
			if t.token == "" {
				t.token = a.Token
			}
		default:
			return cli.Errorf(cli.ExitTarget, "the agent was started with NoSocket and no TCPAddr; give it a listener",
				"process %d's discovery file %s names no endpoint", t.PID, a.Path)
		}
		return nil
	}
	p, err := Inspect(t.PID)
	switch {
	case err != nil:
		return cli.Errorf(cli.ExitTarget, "gdiag ps lists the Go processes you can diagnose", "no process with PID %d", t.PID)
	case p.Err != "":
		return cli.Errorf(cli.ExitTarget, "run gdiag as the process's user", "process %d (%s): %s", t.PID, p.Name, p.Err)
	case !p.Go:
		return cli.Errorf(cli.ExitTarget, "gdiag diagnoses Go programs; gdiag ps lists them", "process %d (%s) is not a Go program", t.PID, p.Name)
	}
	return cli.Errorf(cli.ExitTarget, AddAgentHint,
		"process %d (%s, %s) runs no gdiag agent: no discovery file in %s", t.PID, p.Name, p.GoVersion, strings.Join(dirs, " or "))
}

func (t *Target) fromTCP(env *cli.Env, addr string) error {
	t.base = "http://" + addr
	if t.token == "" {
		for _, a := range Discover(Dirs(env.Dir)) {
			if a.TCPAddr == addr && a.Token != "" {
				t.token, t.PID = a.Token, a.PID
			}
		}
	}
	if t.token == "" {
		return cli.Errorf(cli.ExitUsage, "pass --token or set $GDIAG_TOKEN (the agent's Options.Token, or the token in its discovery file)",
			"the agent at %s needs a token", addr)
	}
	return nil
}

// fromURL asks the URL for the agent's /v1/info; anything else is taken
// for a net/http/pprof service.
func (t *Target) fromURL(ctx context.Context, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return cli.Usagef("bad URL %q", raw)
	}
	root := strings.TrimSuffix(strings.TrimSuffix(u.String(), "/"), "/v1")
	t.base = root
	var info apiv1.Info
	if err := t.GetJSON(ctx, "info", nil, &info); err == nil && info.APIVersion == apiv1.Version {
		return nil
	} else if ce := (*cli.Error)(nil); errors.As(err, &ce) && ce.Code == cli.ExitTimeout {
		return err
	}
	t.Kind = KindPprof
	if !strings.Contains(u.Path, "/debug/pprof") {
		root += "/debug/pprof"
	}
	t.base = strings.TrimSuffix(root, "/")
	return nil
}

// String names the target in messages.
func (t *Target) String() string {
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

// GetJSON fetches an agent path ("info", "pools") and decodes it into v.
func (t *Target) GetJSON(ctx context.Context, path string, q url.Values, v any) error {
	body, err := t.Fetch(ctx, path, q, 0)
	if err != nil {
		return err
	}
	defer body.Close()
	if err := json.NewDecoder(body).Decode(v); err != nil {
		return t.wrap(err, path)
	}
	return nil
}
