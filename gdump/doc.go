// Package gdump reads goroutine dumps and is gdiag's one model of them:
// Goroutine, Frame, Group (goroutines with the same state, stack and
// creator) and Dump, a dump with the crash report printed around it.
//
// # Reading
//
// Read takes what programs really print: runtime.Stack(buf, true),
// /debug/pprof/goroutine?debug=2, a panic or fatal error at every
// GOTRACEBACK level, SIGQUIT output with its register dump, go test's
// timeout panics and go run's "exit status 2", with the program's own log
// lines before, between and after the goroutines. It recognises "created
// by ... in goroutine N" (and the older form without it), wait times,
// "locked to thread", pprof labels, "...additional frames elided..." and
// "...N frames elided...", "goroutine running on other thread; stack
// unavailable", GODEBUG=tracebackancestors sections, GOTRACEBACK=system's
// "gp=... m=..." and "fp=... sp=... pc=...", and cgo frames with or
// without a symbolizer. The crash corpus in testdata/crash at the
// repository's root, which the tests read, holds Go 1.26 and Go 1.19
// output.
//
// The crash report (Dump.Crash) holds the panics in the order printed,
// with their "[recovered]" markers, a fatal error, a signal, the
// runtime's notes and "runtime stack:", and the goroutine that raised it.
// Dump.Level is the GOTRACEBACK level the output shows, which says what
// the runtime left out: with the default, "single", only the crashing
// goroutine is printed.
//
// Read never fails on what it cannot parse: a line that belongs to no
// goroutine is counted in Dump.Other, a line that looked like part of a
// stack but did not parse is listed in Dump.Problems, and input cut in
// the middle of a stack sets Dump.Truncated. It fails only when the input
// breaks a bound of Options (a *LimitError) or the reader fails. Scan
// reads the same way but hands each goroutine to a callback, and a
// Grouper groups them as they come, so that a dump of a million
// goroutines, or an endless one, is read in memory that grows with the
// number of distinct stacks (bounded by Grouper.MaxBytes), not of
// goroutines.
//
// # Cost and safety
//
// Read works line by line without regular expressions, interns function
// and file names, and keeps each goroutine's arguments in one string and
// its frames in a shared arena: a dump of 100,000 goroutines parses in a
// fraction of a second (see BenchmarkParse; bench/dump compares it with
// panicparse). GroupGoroutines hashes stacks rather than building keys.
// The functions keep no state and are safe to call concurrently; a
// Grouper is not.
//
// # Stability
//
// The exported types are gdiag's wire model for goroutines (the agent's
// census, gdiag goroutines --json): fields are added, not renamed or
// removed.
package gdump
