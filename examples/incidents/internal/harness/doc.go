// Package harness is the common part of the incident programs in
// examples/incidents: command-line flags, the gdiag agent, the request load
// every program carries, the ready line and a clean shutdown. With it, each
// program is only its fault, so that the programs differ in nothing else.
//
// # The load
//
// Every program serves the same background "request" load: DefaultRPS
// requests a second (flag -load), each submitted to a pool named
// LoadPoolName (8 workers, a 256-task queue, blocking submission, so the
// load itself never rejects) and handled by Work, about one millisecond of
// CPU and a 4 KiB allocation, unless the program handles requests itself.
// On a 2-core machine the load takes about a tenth of the CPU.
//
// # Lifecycle
//
// Main parses the flags (-agent-dir, -duration, -load), starts the agent
// with a flight recorder, calibrates Work, runs the program's Start hook,
// starts the load, and prints
//
//	incident: NAME pid PID ready
//
// on stdout. SIGINT, SIGTERM or the end of -duration stop the load, drain
// the pool, cancel the fault's context and wait for its goroutines, close
// the agent (removing its socket), and exit with status 0. Errors go to
// stderr with status 1; bad flags exit with status 2.
//
// # Concurrency and cost
//
// Work and Burn are safe for concurrent use. Run may be called once at a
// time per process (the agent's flight recorder is process-wide). The
// package is for examples and tests; its API is not stable.
package harness
