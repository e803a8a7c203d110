// Package profile implements "gdiag profile": it captures one of the
// runtime's pprof profiles (or the demo agent's wall-clock profile) from a
// live target, saves the gzipped proto as pprof reads it, and prints the
// functions that account for most of it, the way go tool pprof -top does.
// With --web it serves pprof's own web UI for the saved file on loopback.
//
// The table is built here from the samples (MakeTop) rather than through
// pprof's driver, so that it can be printed as JSON; a test checks it
// against the driver's -top on the same files.
//
// Analyze does the same for a saved profile file, for gdiag analyze.
// Profiles from outside are read through pprofdata, within its bounds.
//
// Progress draws the wait of a capture on stderr; gdiag trace uses it too.
//
// Nothing here is safe for concurrent use; each command runs once.
package profile
