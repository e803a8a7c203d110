// Package cli is the frame every gdiag subcommand runs in: the command
// table, the flags all commands share (--json, --timeout, --token, --dir),
// help text, and the mapping from errors to exit codes and to messages that
// say what to do next.
//
// Exit codes (stable, for scripts):
//
//	0  success; for doctor, no findings
//	1  doctor reported findings; goroutines --diff found growth
//	2  usage error: unknown command, bad flag or argument
//	3  no target to diagnose: no such process, not a Go program, no agent
//	4  timeout: the target did not answer in time, or gdiag was interrupted
//	5  bad input: a file that is truncated, garbage or of an unknown kind
//	6  the target answered with an error (4xx/5xx) gdiag cannot work around
//	7  unreachable: the agent's socket or port refused the connection or is gone
//	8  refused: the agent refused the token, or gdiag refused an endpoint it
//	   does not trust (a discovery file or socket of another user)
//
// Errors of the agent's client, apiv1, map to these codes here, so that a
// command returns them as they are.
//
// Nothing here is safe for concurrent use; each command runs once.
package cli
