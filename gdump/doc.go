// Package gdump parses goroutine dumps: the text of runtime.Stack(buf,
// true), of pprof.Lookup("goroutine").WriteTo(w, 2), of a crash's
// traceback, or of SIGQUIT, and groups goroutines with the same state and
// stack.
//
// Parse reads line by line without regular expressions, interns function
// and file names, keeps each goroutine's arguments in one string and its
// frames in a shared arena, so a dump of 100,000 goroutines parses in a
// fraction of a second (see BenchmarkParse; bench/dump compares it with
// panicparse). GroupGoroutines hashes stacks rather than building keys.
// Malformed input yields a *SyntaxError wrapping ErrSyntax, never a
// panic. The functions keep no state and are safe to call concurrently.
//
// This package is internal to gdiag; its API may change with the probes
// package and the gdiag command that use it.
package gdump
