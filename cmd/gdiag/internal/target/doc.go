// Package target turns what the user typed after a gdiag command (a PID, a
// unix socket path, HOST:PORT, or the URL of a net/http/pprof service) into
// a Target. An agent is reached through the public client,
// apiv1.NewClient, and its trust rules; what stays here is what a
// pprof-only target needs (an http:// URL, or HOST:PORT given without a
// token that serves /debug/pprof/): fetching /debug/pprof with timeouts,
// errors that keep the target's own words and say which handler is
// missing, and refusals that say what works without the agent. Process
// reads /proc and the executable's build information for gdiag ps and the
// messages about a process without an agent.
//
// A Target is safe for concurrent use.
package target
