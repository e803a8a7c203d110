// Package peer answers, for the agent and its clients, who is at the
// other end of a unix socket and who owns a file or a process: the checks
// that keep one user's diagnostics endpoint and discovery files away from
// another user. It is internal to the gdiag module.
//
// Outside Linux the standard library cannot ask the kernel for a socket
// peer's credentials, so Cred reports errors.ErrUnsupported there; outside
// Unix no file owner is known, so nothing is trusted.
package peer
