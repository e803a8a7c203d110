// Package pprofdata reads pprof profiles from outside gdiag (a file, a
// target's answer) within bounds: the bytes as received and the data they
// inflate to are each at most MaxBytes, whatever the gzip layer claims,
// so that a decompression bomb (a megabyte inflating to a gigabyte, or
// thousands of concatenated gzip members) ends in an error, not in an
// out-of-memory crash. Every gdiag command that parses a profile (profile,
// analyze, doctor) goes through Read or Parse.
//
// A profile nested in a second gzip layer is refused: pprof's own parser
// would inflate the inner layer without a bound.
//
// The functions are safe for concurrent use; they keep no state.
package pprofdata
