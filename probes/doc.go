// Package probes is what a service imports to let gdiag look inside it:
// the runtime reader that fills schedstats.Snapshots, a flight recorder,
// and the owner-only agent the gdiag command talks to.
//
// # The runtime reader
//
// Read fills a schedstats.Snapshot from three sources, each recorded in
// Snapshot.Sources:
//
//   - runtime/metrics, always: GOMAXPROCS, goroutines by state, goroutines
//     created, threads, scheduling latencies, stop-the-world pauses and
//     mutex wait time.
//   - the runtime's sched structure, read through a mirror of its layout
//     (one build-tagged file per Go version, sched_go126.go for Go 1.26):
//     idle Ps, idle and spinning threads, Ms created and freed, the global
//     run queue and system goroutines. No linker flag is needed. Idle Ps
//     leave the reader out: while no goroutine waits for a P, the P the
//     reader runs on and those of Ms spinning after its wake-up count as
//     idle, so that an idle process reads idle (the exporters'
//     gdiag_sched_idle_procs is the same figure).
//   - deep mode, only when built with -tags gdiag_deep and
//     -ldflags=-checklinkname=0: the length of each P's local run queue,
//     read through runtime.allp.
//
// A //go:linkname to a runtime variable still links when the runtime has
// renamed or reshaped it, and then reads zeros or the wrong bytes. So the
// first Read checks the mirror against facts the runtime states through
// public APIs (debug.SetMaxThreads, runtime/metrics, the current
// goroutine's id). On any doubt, or on a Go version without a mirror, the
// reader falls back to runtime/metrics alone and says why (the agent's
// /v1/info shows it); it never reports values from a rejected mirror. Each
// Read also drops a sample that breaks the mirror's invariants. The
// process has one reader, shared by the agent, Handler and the exporters,
// so the check runs once per process.
//
// Under GODEBUG=schedtrace the runtime prints the same figures; the tests
// run a program with both and check that they agree.
//
// # Flight recorder
//
// FlightRecorder keeps the last seconds of an execution trace in memory
// and writes them to a bounded directory when asked, for example when an
// anomaly is detected.
//
// # The agent
//
// Start runs a sampler, an optional flight recorder, and an HTTP/JSON API
// under /v1/ on a unix socket that only the owner can use: a 0700
// directory ($XDG_RUNTIME_DIR/gdiag, else os.TempDir()/gdiag-<uid>; an
// existing one must belong to the user and be closed to others), a 0600
// socket, and on every connection the peer's uid checked with SO_PEERCRED.
// When every runtime directory is refused, the socket goes into a new
// private directory (apiv1.FallbackDirPattern) and Start says so in its
// error, with the agent running: diagnostics never stop a service.
// A <pid>.json discovery file next to the socket, written atomically with
// mode 0600, lets `gdiag ps` find the process; Agent.Close removes both. A
// TCP listener is added only when asked (Options.TCPAddr, loopback unless
// AllowNonLoopback) and always requires "Authorization: Bearer <token>",
// compared in constant time.
//
// Routes: info, snapshot, history (last=N for the newest N snapshots),
// findings, goroutines (a census that
// groups every goroutine by state, stack and creation site; min_wait,
// state, max_groups, max_pause), pools, profile/{cpu,heap,allocs,mutex,
// block,goroutine,threadcreate} (seconds= or duration=, debug=; max_pause
// for goroutine?debug=2), trace, flight, os (what the kernel says of the
// process: CPU used, run delay, cgroup quota and throttling, host load,
// as rates over at least a second; Linux only) and memstats. The agent
// adds operations that change the process, as gops has them: POST gc,
// gcpercent?percent=N|off, memlimit?bytes=N|off and
// profile/{mutex,block}?duration= (the sampling rate switched on for the
// capture and restored); it logs each with its peer. Handler, which
// authenticates no one, refuses them (403). Errors are {"error","hint"}
// with 400, 401, 403, 404, 405, 409 or 503. One CPU profile and one
// trace run at a time per process (409 otherwise, never a wait). Captures are
// capped (5 min by default) and end early when the client leaves or the agent
// stops. The wire types, and a client, live in package apiv1.
//
// Handler mounts the same API on a service's own mux and performs no
// authentication: put it behind your own. Options.Profiles adds profiles (for
// example a wall-clock one) without this package importing them.
//
// # Concurrency and cost
//
// Read, FlightRecorder, Agent and Handler are safe for concurrent use;
// Agent.Close is idempotent and leaves no goroutine behind.
// Read costs one to two microseconds and allocates nothing when the
// Snapshot is reused (BenchmarkReaderRead), so the reads of a 10 Hz sampler
// cost about 0.002% of a core; waking an idle process ten times a second
// costs the Go runtime itself far more (about 0.25% of a core on a small
// VM; TestSamplingCPU with -cpu-minute measures both). The agent samples
// once a second by default. The first Read stops the world twice for a
// few microseconds. A census (/v1/goroutines) or a full dump
// (goroutine?debug=2) stops the world for the length of a stack dump: 0.6
// to 1 s per 100,000 parked goroutines on a busy 2-core VM, more for deep
// stacks (BenchmarkStackDumpPause). So one runs at a time per process; the
// agent estimates the pause from the goroutine count and its last dump and
// refuses (409) one over the budget, one second unless the request allows
// more with max_pause (at most a minute); a census whose client has gone
// is dropped. The dump is sized to need one stop, and is never cut (pprof
// cuts its own at 64 MiB). History, findings, censuses, point-in-time
// profiles and the flight recorder share a limit of 4 requests in
// progress per agent; more wait for a slot, up to 30 s, then get 503. Each
// listener accepts at most 64 connections at once. A
// started FlightRecorder costs what execution tracing costs, a few percent
// of CPU; only one may be active per process.
//
// # Stability
//
// The exported API follows semantic versioning. Which fields come from
// which source may change between Go versions: read Snapshot.Sources
// rather than assuming. Deep mode depends on a linker flag the Go team may
// remove and is not covered by compatibility promises.
package probes
