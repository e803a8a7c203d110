// Command gdiag diagnoses live Go processes and saved diagnostics files.
//
// Usage:
//
//	gdiag COMMAND [ARGS] [flags]
//
// The commands:
//
//	ps          Go processes on this host, and which run the gdiag agent
//	sched       live view of the scheduler (--once, --json for scripts)
//	pools       the process's pools: workers, queues, outcomes, rates, latencies
//	doctor      watch a process for a window and name what is wrong, with evidence
//	profile     capture a pprof profile, save it, print the top functions
//	trace       capture an execution trace (or the flight recorder) and summarise it
//	goroutines  goroutines grouped by stack, live or from a dump; --diff finds growth
//	analyze     offline analysis of a dump, schedtrace log, profile or trace
//
// A TARGET is a PID running the agent (probes.Start; found through its
// discovery file), the agent's unix socket, HOST:PORT of the agent's TCP
// listener with --token, or the http:// URL of a service exposing
// net/http/pprof. gdiag reaches an agent through the public client,
// package apiv1, and trusts a discovery file or socket only when it is the
// user's own. Every command takes --json, --timeout and --help; exit codes
// are 0 ok, 1 findings, 2 usage, 3 no such process or no agent, 4 timeout,
// 5 bad input file, 6 target error, 7 agent unreachable, 8 token refused or
// endpoint not trusted. "gdiag help COMMAND" shows a command's flags and
// examples; the README has a worked session.
//
// The commands live in cmd/gdiag/internal/...; this package only lists them.
package main
