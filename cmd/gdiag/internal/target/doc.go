// Package target turns what the user typed after a gdiag command (a PID, a
// unix socket path, HOST:PORT, or the URL of a net/http/pprof service) into
// a Target that fetches from it, with timeouts on every request and errors
// that say what to do next. It also reads the agents' discovery files and
// the build information of running processes, for gdiag ps and for the
// messages about a process without an agent.
//
// A Target is safe for concurrent use.
package target
