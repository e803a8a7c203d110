// Package tracecmd implements "gdiag trace": it captures an execution
// trace from a live target (or dumps the agent's flight recorder), saves
// it for go tool trace, and summarises it: scheduling latency, where the
// goroutines waited, GC and stop-the-world pauses, and which goroutines
// waited longest for a CPU. Analyze does the same for a saved trace file,
// for gdiag analyze.
//
// For each stop-the-world pause (a "stop-the-world (reason)" range),
// StopTheWorld finds the goroutine the world waited for: of the goroutines
// running on a P when the stop was requested, the one that left the
// running state last; the time until then is the pause's time to stop.
// The CPU profile samples of that goroutine in between, which the trace
// holds when a CPU profile ran while it was recorded, name the function
// it kept running and tell a goroutine that would not yield (samples) from
// one whose thread the host had descheduled (none).
//
// Traces are parsed with golang.org/x/exp/trace, which reads the Go 1.22
// to 1.26 formats. Summarize reads the whole trace once and keeps one
// entry per goroutine and one duration per scheduling event, so its memory
// grows with the trace (tens of MB for a minute of a busy service).
//
// The package is named tracecmd, not trace, so that it can import both
// golang.org/x/exp/trace and runtime/trace (in tests) without renaming.
// Nothing here is safe for concurrent use; each command runs once.
package tracecmd
