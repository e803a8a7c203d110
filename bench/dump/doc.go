// Package dump compares gdiag's goroutine-dump parser and grouping
// (gdump) with github.com/maruel/panicparse/v2 on the same
// generated debug=2 dump: see BenchmarkDump and bench/README.md.
//
// Generate builds the dump in memory, so the figures exclude disk reads;
// both libraries read it through an io.Reader. Generate is deterministic
// and safe to call concurrently.
package dump
