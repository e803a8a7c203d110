// Package ps implements "gdiag ps": the Go processes on this host, which
// of them run the gdiag agent, and where its endpoint is.
package ps
