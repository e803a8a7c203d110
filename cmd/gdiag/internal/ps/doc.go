// Package ps implements "gdiag ps": the Go processes on this host, as gops
// lists them and more. From /proc: the program's name (the executable's,
// not the kernel's 15-byte comm), parent, CPU use over a short window,
// resident memory, threads, age and listening TCP addresses (the
// process's socket inodes matched against /proc/net/tcp and tcp6); from
// the executable's Go build information: the Go version, the main module
// and its version, or the main package for a build outside module mode.
// Processes running the gdiag agent show its endpoint (from trusted
// discovery files); Go processes without it show the URL of their
// net/http/pprof, found by asking GET /debug/pprof/ on each listening
// port. gdiag ps never lists itself.
//
// A listing takes the CPU window (250 ms by default) plus the probes (at
// most 0.5 s each, eight at a time). Nothing here is safe for concurrent
// use; the command runs once.
package ps
