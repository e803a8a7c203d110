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
//	3  target error: no such process, no agent, refused, wrong token
//	4  timeout: the target did not answer in time
//	5  bad input: a file that is truncated, garbage or of an unknown kind
//	6  the target answered with an error (4xx/5xx) gdiag cannot work around
//
// Nothing here is safe for concurrent use; each command runs once.
package cli
