// Package bench compares the gdiag pool with other ways of bounding
// goroutines: ants, pond, conc, errgroup, a bare channel pool and plain go
// statements with a sync.WaitGroup.
//
// Every library is wrapped as a [Library] whose [Runner] runs copies of one
// fixed task, built once, so that the benchmarks measure the library's own
// per-task cost (time and allocations) and not the cost of building closures.
// The benchmarks live in bench_test.go; [Measure] backs the cmd/rss program,
// which runs one library per process to read its peak resident set size.
//
// The package is a separate module so that the main module never depends on
// the compared libraries. Nothing in it is safe for concurrent use unless
// stated, it is not a stable API, and it exists only to produce the figures
// in README.md.
package bench
