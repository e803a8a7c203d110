// Package apiv1 is the agent's wire format and a client for it: the JSON
// bodies of the /v1/ API that probes.Start and probes.Handler serve, the
// discovery files the agent writes next to its socket, and a Client that
// finds an agent by PID, socket path, HOST:PORT or URL and reads it. The
// gdiag command is built on this package; any program can use it the
// same way.
//
// The bodies reuse the domain models: a snapshot is a
// schedstats.Snapshot, a finding a schedstats.Finding, a goroutine group a
// gdump.Group, a pool's statistics a pool.Stats (Pool is another name for
// it). Histogram.Seconds turns a pool histogram into a
// schedstats.Histogram, so that its quantiles follow gdiag's one rule.
//
// # Compatibility of /v1
//
// Within /v1 a body only ever gains fields: a field keeps its name, its
// JSON type and its meaning, and no route or query parameter is removed.
// A client must therefore ignore fields it does not know (the standard
// decoder does). Anything else, such as a renamed field or a changed
// unit, is a new version, served under a new prefix beside /v1. The
// golden files in testdata pin every /v1 body; a change to one of them is
// a change to the wire, to be judged by this rule.
//
// # Trust
//
// A Client resolving a PID reads the discovery file only from a directory
// that belongs to the current user and that nobody else can enter (mode
// 0700), and only a regular file of the user's own, not a symlink, of at
// most 1 MiB. Before it sends anything over a unix socket, it checks with
// SO_PEERCRED that the process at the other end runs as the current user
// (or as root) and, when it resolved a PID, that it is that process. A
// check that fails is ErrUntrusted, and nothing, a token least of all,
// has been sent.
//
// # Concurrency and cost
//
// The wire types are plain values, safe to copy. A Client is safe for
// concurrent use; it opens a connection per request (a unix socket or a
// loopback port costs microseconds) and so holds nothing between them.
package apiv1
