// Package target turns what the user typed after a gdiag command (a PID, a
// unix socket path, HOST:PORT, or the URL of a net/http/pprof service) into
// a Target. An agent is reached through the public client,
// apiv1.NewClient, and its trust rules; what stays here is what a
// pprof-only http:// target needs (fetching /debug/pprof with timeouts and
// errors that say what to do next) and the /proc reading behind gdiag ps
// and the messages about a process without an agent.
//
// A Target is safe for concurrent use.
package target
